"""A real SMTP server on a free loopback port (aiosmtpd) that delivers what it takes to Dovecot over LMTP.

It keeps every message it accepted (envelope and bytes, in order) so a test can read what was sent,
and hands each to Dovecot's LMTP, so the recipients' mailboxes really receive it. Tests can make it
answer like a real server on a bad day: refuse chosen recipients (550, 451) or the message (451, 554).
It asks for a login (PLAIN/LOGIN, and XOAUTH2 with a token we choose), and can speak STARTTLS or TLS.
"""
import asyncio
import base64
import logging
import smtplib
import ssl
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from servers.dovecot import free_port

logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own chatter, at every connection


class _Controller(Controller):
    """aiosmtpd's controller, quiet about what we do on purpose: logging in over plain SMTP on loopback."""

    def factory(self):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
            return super().factory()


@dataclass
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class Behaviour:
    """How the server answers; tests change it between sends."""

    refuse_recipients: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 No such user"
    refuse_data: str | None = None  # e.g. "451 4.3.0 Try again later" for the whole message


class Handler:
    """aiosmtpd's hooks: check recipients as told, keep the message, deliver it over LMTP."""

    def __init__(self, server: "SmtpServer"):
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.server.behaviour.refuse_recipients.get(address.lower())
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.server.behaviour.refuse_data:
            return self.server.behaviour.refuse_data
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        if self.server.lmtp_port:
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.server.deliver, received)
            except (smtplib.SMTPException, OSError) as exc:
                return f"451 4.3.0 Local delivery failed: {exc}"
        self.server.received.append(received)
        return "250 2.0.0 Queued"

    async def auth_XOAUTH2(self, server, args):
        """SASL XOAUTH2: `user=…^Aauth=Bearer <token>^A^A`; a wrong token gets the error challenge, then 535."""
        if len(args) > 1:
            text = base64.b64decode(args[1]).decode()
        else:
            answer = await server.challenge_auth("")
            text = answer.decode() if isinstance(answer, bytes) else ""
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        if fields.get("auth") == f"Bearer {self.server.token}" and fields.get("user") == self.server.username:
            return AuthResult(success=True, handled=False, auth_data=fields["user"])
        await server.challenge_auth('{"status":"401","schemes":"bearer"}')  # the client answers it with an empty line
        return AuthResult(success=False, handled=False)


class SmtpServer:
    """aiosmtpd in a thread; `received` lists what it took, `behaviour` sets how it answers."""

    def __init__(self, *, username: str, password: str, lmtp_port: int | None = None, security: str = "plain",
                 certificate: tuple[Path, Path] | None = None, token: str = "token-for-tests"):
        self.username, self.password, self.token = username, password, token
        self.lmtp_port, self.security = lmtp_port, security
        self.port = free_port()
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        context = None
        if certificate:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, certificate))
        kwargs = {"tls_context": context} if security == "starttls" else {}
        if security == "tls":
            kwargs["ssl_context"] = context
        self._controller = _Controller(Handler(self), hostname="127.0.0.1", port=self.port,
                                      authenticator=self._authenticate, auth_required=True,
                                      auth_require_tls=security == "starttls", **kwargs)  # implicit TLS: aiosmtpd cannot tell

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if isinstance(auth_data, LoginPassword):
            ok = auth_data.login.decode() == self.username and auth_data.password.decode() == self.password
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535 itself
        return AuthResult(success=False, handled=False)

    def start(self) -> "SmtpServer":
        """Listen (returns once it accepts connections)."""
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening and drop every connection."""
        self._controller.stop()

    def deliver(self, received: Received) -> None:
        """Hand the message to Dovecot's LMTP, which puts it in each recipient's INBOX (user = local part)."""
        with smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=10) as lmtp:
            # One recipient per transaction: LMTP answers DATA once per recipient, which smtplib cannot read.
            for recipient in received.rcpt_tos:
                lmtp.sendmail(received.mail_from, [recipient], received.data)
