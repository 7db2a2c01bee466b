"""Sending over SMTP (smtplib): TLS, STARTTLS or plain to loopback; password or XOAUTH2.

One connection is kept and reused for every letter; if the server dropped it meanwhile (servers
close idle connections after a minute or so) it is opened again once. The composed bytes go out
unchanged but for line ends (CRLF on the wire), with the shared mailbox as the envelope sender, so bounces come back to it.

    4xx (try later)                 -> TemporaryFailure
    5xx (never will go)             -> PermanentFailure
    some recipients refused         -> sent to the others; the refused ones are returned
"""
import logging
import re
import smtplib
import ssl
from dataclasses import dataclass

from core.errors import PermanentFailure, TemporaryFailure, TransportError
from core.netdiag import CONNECT_TIMEOUT, connect_failure, tls_context, xoauth2

log = logging.getLogger("auditmail.smtp")
BARE_LINE_END = re.compile(rb"\r?\n")
SESSION_TIMEOUT = 600.0


@dataclass(frozen=True)
class SmtpSettings:
    """The `[smtp]` section, checked by core/config.py, and how to log in."""

    host: str
    port: int
    security: str  # tls | starttls | plain (plain only to loopback: the config refuses anything else)
    username: str
    password: str | None = None
    token: object = None  # a callable giving an OAuth access token (msal caches it), for XOAUTH2
    secret_from: str = ""  # where the secret comes from, for the diagnosis

    @property
    def where(self) -> str:
        """How a diagnosis names the server: "the SMTP server at host:port"."""
        return f"the SMTP server at {self.host}:{self.port}"


class SmtpSender:
    """Sends complete RFC 5322 messages through one SMTP connection, kept open between letters."""

    def __init__(self, settings: SmtpSettings, envelope_from: str, context: ssl.SSLContext | None = None):
        self.settings, self.envelope_from, self._context = settings, envelope_from, context
        self._smtp: smtplib.SMTP | None = None

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Deliver `raw` unchanged to `recipients`; returns those the server refused when it took it for the others."""
        try:
            refused = self._send(raw, recipients)
        except _Dropped as exc:
            broke = str(exc)
        else:
            for address, (code, answer) in refused.items():
                log.warning("message_id=%s: the SMTP server refused %s: %d %s", message_id, address, code, _text(answer))
            return list(refused)
        # Raised here, not in the except block: a connection that broke after the letter went out may mean
        # the server has it, so this counts against the letter (a few tries, then set aside) rather than
        # reading as "server unreachable", which would pause and then send it again at every pass.
        raise TemporaryFailure(f"{self.settings.where} closed the connection while sending: {broke}")

    def _send(self, raw: bytes, recipients: list[str]) -> dict:
        smtp = self._connection()
        # SMTP's wire form ends every line with CRLF (RFC 5321 2.3.8); smtplib fixes that for str, not for bytes.
        raw = BARE_LINE_END.sub(b"\r\n", raw)
        options = ["BODY=8BITMIME"] if not raw.isascii() and smtp.has_extn("8bitmime") else []
        try:
            return smtp.sendmail(self.envelope_from, recipients, raw, mail_options=options)
        except smtplib.SMTPServerDisconnected as exc:
            self.close()
            raise _Dropped(str(exc) or type(exc).__name__) from None
        except smtplib.SMTPRecipientsRefused as exc:
            answers = exc.recipients
            detail = "; ".join(f"{a}: {c} {_text(m)}" for a, (c, m) in answers.items())
            if all(400 <= code < 500 for code, _ in answers.values()):
                raise TemporaryFailure(f"{self.settings.where} refused every recipient for now: {detail}") from None
            raise PermanentFailure(f"{self.settings.where} refused every recipient: {detail}") from None
        except smtplib.SMTPSenderRefused as exc:
            raise _by_code(exc.smtp_code, f"{self.settings.where} refused the sender {self.envelope_from} "
                           f"({exc.smtp_code} {_text(exc.smtp_error)}): the login {self.settings.username} must be "
                           "allowed to send as the shared mailbox") from None
        except smtplib.SMTPResponseException as exc:  # the message itself (DATA), or anything else with a code
            raise _by_code(exc.smtp_code, f"{self.settings.where} did not take the message: "
                           f"{exc.smtp_code} {_text(exc.smtp_error)}") from None
        except OSError as exc:  # after the SMTP errors above, which are OSErrors too: the network itself
            self.close()
            raise _Dropped(str(exc) or type(exc).__name__) from None

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is not None and not self._alive(self._smtp):
            # Servers close a connection left idle for a while: found out before a letter is sent, so
            # reconnecting can never send one twice.
            log.info("the SMTP server had closed our connection; reconnecting")
            self.close()
        if self._smtp is None:
            self._smtp = self._open()
        return self._smtp

    @staticmethod
    def _alive(smtp: smtplib.SMTP) -> bool:
        try:
            return smtp.noop()[0] == 250
        except (smtplib.SMTPException, OSError):
            return False

    def _open(self) -> smtplib.SMTP:
        s = self.settings
        if self._context is None and s.security != "plain":
            self._context = tls_context()  # made once: loading the system's authorities takes a while
        context = self._context
        try:
            if s.security == "tls":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=CONNECT_TIMEOUT, context=context)
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=CONNECT_TIMEOUT)
            smtp.ehlo()
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    smtp.close()
                    raise PermanentFailure(f"{s.where} does not offer STARTTLS: use smtp.security = \"tls\" "
                                           "with its TLS port (usually 465)")
                smtp.starttls(context=context)
                smtp.ehlo()
        except TransportError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            raise _connect_failure(exc, s) from None
        try:
            self._log_in(smtp)
        except BaseException:
            smtp.close()
            raise
        # Connecting gets CONNECT_TIMEOUT; once in, a server may take up to 10 minutes to acknowledge a
        # letter (RFC 5321 4.5.3.2.6, e.g. while it scans for viruses), and giving up sooner resends it.
        smtp.sock.settimeout(SESSION_TIMEOUT)
        return smtp

    def _log_in(self, smtp: smtplib.SMTP) -> None:
        s = self.settings
        try:
            if s.token is not None:
                sasl = xoauth2(s.username, s.token())
                # A refused token comes back as a 334 challenge holding the error; the answer to it is empty.
                smtp.auth("XOAUTH2", lambda challenge=None: "" if challenge else sasl)
            else:
                smtp.login(s.username, s.password)
        except smtplib.SMTPAuthenticationError as exc:
            if s.token is not None:
                raise PermanentFailure(f"{s.where} refused the OAuth token for {s.username}: the app needs the "
                                       "SMTP.SendAsApp permission and SMTP AUTH allowed for this mailbox "
                                       f"[{exc.smtp_code} {_text(exc.smtp_error)}]") from None
            where = f" ({s.secret_from})" if s.secret_from else ""
            raise PermanentFailure(f"the SMTP server refused the username or password for {s.username}{where} "
                                   f"[{exc.smtp_code} {_text(exc.smtp_error)}]") from None
        except smtplib.SMTPNotSupportedError:
            raise PermanentFailure(f"{s.where} does not offer login (AUTH) on this connection: "
                                   "check smtp.port and smtp.security") from None
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"{s.where} refused the login: {exc.smtp_code} {_text(exc.smtp_error)}")
        except (smtplib.SMTPException, OSError) as exc:
            raise _connect_failure(exc, s) from None

    def close(self) -> None:
        """Say goodbye if the server is still there; never raises."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
        self._smtp = None


class _Dropped(Exception):
    """The connection broke mid-send (the server closed it, or the network did)."""


def _connect_failure(exc: Exception, s: SmtpSettings) -> TransportError:
    if isinstance(exc, smtplib.SMTPConnectError):
        return _by_code(exc.smtp_code, f"{s.where} turned us away: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TemporaryFailure(f"{s.where} closed the connection at once: {exc}")
    return connect_failure(exc, "the SMTP server", s.host, s.port, "smtp")


def _by_code(code: int, message: str) -> TransportError:
    """SMTP's own rule: 4xx may work later, 5xx never will."""
    return TemporaryFailure(message) if 400 <= code < 500 else PermanentFailure(message)


def _text(answer) -> str:
    return answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
