"""One logged-in IMAP connection (imaplib): TLS, STARTTLS or plain to loopback; password or XOAUTH2.

Every failure to connect or log in becomes a TemporaryFailure or PermanentFailure with a plain
diagnosis. Folder names are quoted and written in IMAP's modified UTF-7, so "Traité" works too.
"""
import base64
import imaplib
import ssl
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator

from core.errors import PermanentFailure, TemporaryFailure
from core.netdiag import CONNECT_TIMEOUT, connect_failure, tls_context, xoauth2

# A connection drop, as imaplib and the socket report it (a server's NO or BAD is imaplib.IMAP4.error).
DROPPED = (imaplib.IMAP4.abort, OSError, EOFError)


@dataclass(frozen=True)
class ImapSettings:
    """The `[imap]` section, checked by core/config.py."""

    host: str
    port: int
    security: str  # tls | starttls | plain (plain only to loopback: the config refuses anything else)
    username: str
    inbox_folder: str = "INBOX"
    processed_folder: str = "Processed"
    failed_folder: str = "Failed"

    @classmethod
    def from_section(cls, section: dict) -> "ImapSettings":
        """From `config.settings("imap")`."""
        return cls(section["host"].strip(), section["port"], section["security"], section["username"].strip(),
                   section["inbox_folder"], section["processed_folder"], section["failed_folder"])

    @property
    def where(self) -> str:
        """How a diagnosis names the server: "the IMAP server at host:port"."""
        return f"the IMAP server at {self.host}:{self.port}"


@dataclass(frozen=True)
class Login:
    """How to prove who we are: a password, or an OAuth token fetched fresh (msal caches it) at each login."""

    password: str | None = None
    token: Callable[[], str] | None = None
    secret_from: str = ""  # where the secret comes from, for the diagnosis ("AUDITMAIL_IMAP_PASSWORD")


def connect(settings: ImapSettings, login: Login, context: ssl.SSLContext | None = None) -> imaplib.IMAP4:
    """A secured, logged-in connection; raises TemporaryFailure or PermanentFailure saying what is wrong."""
    if settings.security != "plain":
        context = context or tls_context()
    try:
        if settings.security == "tls":
            connection = imaplib.IMAP4_SSL(settings.host, settings.port, ssl_context=context, timeout=CONNECT_TIMEOUT)
        else:
            connection = imaplib.IMAP4(settings.host, settings.port, timeout=CONNECT_TIMEOUT)
            if settings.security == "starttls":
                if "STARTTLS" not in connection.capabilities:
                    connection.shutdown()
                    raise PermanentFailure(f"{settings.where} does not offer STARTTLS: use imap.security = \"tls\" "
                                           "with its TLS port (usually 993)")
                connection.starttls(context)
    except (imaplib.IMAP4.error, OSError, EOFError) as exc:
        raise connect_failure(exc, "the IMAP server", settings.host, settings.port, "imap") from None
    with closed_on_failure(connection, _quietly_close, f"{settings.where} closed the connection while we logged in"):
        _log_in(connection, settings, login)
        # Servers announce more after login (MOVE, UIDPLUS); imaplib keeps the list from before it.
        data = check(connection.capability(), "list its capabilities")
        connection.capabilities = tuple(data[-1].decode().upper().split())
    return connection


@contextmanager
def closed_on_failure(connection: imaplib.IMAP4, close: Callable[[imaplib.IMAP4], None], dropped: str) -> Iterator[None]:
    """Close a half-set-up connection on any failure; a dropped one is a TemporaryFailure saying `dropped`."""
    try:
        yield
    except DROPPED as exc:
        close(connection)
        raise TemporaryFailure(f"{dropped} ({exc})") from None
    except BaseException:
        close(connection)
        raise


def _log_in(connection: imaplib.IMAP4, settings: ImapSettings, login: Login) -> None:
    try:
        if login.token is not None:
            sasl = xoauth2(settings.username, login.token()).encode()
            # A refused token comes back as a challenge holding the error; the answer to it is empty.
            connection.authenticate("XOAUTH2", lambda challenge: b"" if challenge else sasl)
        elif login.password.isascii():
            connection.login(settings.username, login.password)
        else:  # LOGIN is ASCII only; AUTHENTICATE PLAIN carries UTF-8
            plain = f"\0{settings.username}\0{login.password}".encode()
            connection.authenticate("PLAIN", lambda challenge: plain)
    except DROPPED as exc:
        raise TemporaryFailure(f"{settings.where} closed the connection while we logged in ({exc})") from None
    except imaplib.IMAP4.error as exc:
        if login.token is not None:
            raise PermanentFailure(
                f"{settings.where} refused the OAuth token for {settings.username}: the app needs the "
                "IMAP.AccessAsApp permission and full access to this mailbox (Add-MailboxPermission for its "
                f"service principal) [{_text(exc)}]") from None
        where = f" ({login.secret_from})" if login.secret_from else ""
        raise PermanentFailure(f"the IMAP server refused the username or password for {settings.username}{where} "
                               f"[{_text(exc)}]") from None


def folder_name(name: str) -> str:
    """A folder name as an IMAP command argument: modified UTF-7 (RFC 3501 5.1.3), quoted."""
    quoted = utf7(name).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}"'


def utf7(name: str) -> str:
    """A folder name in IMAP's modified UTF-7, as servers list it."""
    out, pending = [], []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode().rstrip("=")
            out.append("&" + encoded.replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def check(result: tuple, what: str) -> list:
    """The data of an OK response; a NO or BAD becomes a PermanentFailure naming what we tried."""
    status, data = result
    if status != "OK":
        raise PermanentFailure(f"the IMAP server would not {what}: {_text(data)}")
    return data


def _text(data) -> str:
    if isinstance(data, BaseException):
        data = data.args[0] if data.args else ""
    if isinstance(data, list):
        data = b" ".join(d for d in data if isinstance(d, bytes))
    return data.decode(errors="replace") if isinstance(data, bytes) else str(data)


def _quietly_close(connection: imaplib.IMAP4) -> None:
    try:
        connection.shutdown()
    except (OSError, imaplib.IMAP4.error, EOFError):
        pass


def log_out(connection: imaplib.IMAP4 | None) -> None:
    """Say goodbye if the server is still there; never raise (used while closing)."""
    if connection is None:
        return
    try:
        connection.logout()
    except (OSError, imaplib.IMAP4.error, EOFError):
        _quietly_close(connection)
