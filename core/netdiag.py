"""Plain diagnoses of the ways a connection to a mail server fails, for the IMAP reader and the SMTP sender.

Each becomes a TemporaryFailure (the daemon will try again: the server may come back) or a
PermanentFailure (trying again will not help until someone changes something). The message is one
line an IT team can act on; `doctor` prints exactly that.
"""
import socket
import ssl

from core.errors import PermanentFailure, TemporaryFailure, TransportError

# How long a mail server may take to answer before we call it unreachable.
CONNECT_TIMEOUT = 30.0


def connect_failure(exc: BaseException, server: str, host: str, port: int, key: str) -> TransportError:
    """What went wrong opening a connection to `server` ("the IMAP server") at host:port; `key` is the config section."""
    where = f"{server} at {host}:{port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentFailure(
            f"{where} has a TLS certificate we cannot trust ({exc.verify_message}): check {key}.host is the name on "
            "its certificate; for a private certificate authority, point SSL_CERT_FILE at its certificate")
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.strerror or str(exc)
        return PermanentFailure(
            f"TLS with {where} failed ({reason}): check {key}.security matches the port "
            "(tls usually 993 for IMAP and 465 for SMTP, starttls 143 and 587)")
    if isinstance(exc, socket.gaierror):
        return TemporaryFailure(f"the name {host} cannot be found (DNS): check {key}.host")
    if isinstance(exc, ConnectionRefusedError):
        return TemporaryFailure(f"{where} refused the connection: nothing listens there; check {key}.host and "
                                f"{key}.port, or whether the server is down")
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return TemporaryFailure(f"no answer from {where} within {CONNECT_TIMEOUT:.0f} s: the host is unreachable "
                                "or a firewall drops the connection")
    if isinstance(exc, OSError):
        return TemporaryFailure(f"cannot reach {where}: {exc.strerror or exc}")
    return TemporaryFailure(f"cannot talk to {where}: {type(exc).__name__}: {exc}")


def tls_context() -> ssl.SSLContext:
    """Certificates checked against the system's authorities (or SSL_CERT_FILE), host names checked, TLS 1.2 or newer."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def xoauth2(username: str, token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Microsoft and Google document it."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"
