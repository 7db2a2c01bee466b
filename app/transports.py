"""Opens the configured mailbox transport: maildir (embedded), imap (+ smtp), ews or graph.

Each builder imports its library only when chosen, so a maildir deployment never loads exchangelib
or msal. The daemon opens the mailbox once and keeps it for its whole life.
"""
from typing import Callable

from core.config import Config
from core.errors import ConfigError
from db.transport_state import TransportStateFile
from inbox.mailbox import Incoming, Mailbox


def open_mailbox(config: Config) -> Mailbox:
    """The mailbox `[mailbox] transport` names, connected and ready."""
    try:
        build = BUILDERS[config.transport]
    except KeyError:
        raise ConfigError(f"unknown transport {config.transport!r}", key="mailbox.transport") from None
    return build(config)


def _maildir(config: Config) -> Mailbox:
    from inbox.maildir import MaildirMailbox

    return MaildirMailbox(config.maildir_path)


def _imap(config: Config) -> Mailbox:
    from app.imap_mailbox import build_imap_mailbox

    return build_imap_mailbox(config, transport_state(config))


def _ews(config: Config, max_wait: float | None = None) -> Mailbox:
    """Exchange Web Services: one exchangelib Account shared by the reader and the sender.

    `max_wait` bounds how long one operation backs off on a busy server (the daemon's default, or
    shorter for `doctor`). Nothing is sent to the server until the mailbox is first used.
    """
    from core.ews import DAEMON_MAX_WAIT, Diagnosis, EwsSettings, close_account, open_account
    from core.config import secret
    from inbox.ews import EwsMailbox
    from mailer.ews import EwsSender

    ews, oauth = config.settings("ews"), config.settings("oauth")
    endpoint = ews["service_endpoint"].strip() or f"https://{ews['server'].strip()}/EWS/Exchange.asmx"
    if endpoint.startswith("http://") and not _loopback_url(endpoint):
        raise ConfigError("must be an https:// address (http:// is allowed only to a loopback address)",
                          key="ews.service_endpoint")
    if ews["auth"] == "oauth":
        if ews["access_type"] != "impersonation":
            # An app-only token has no user of its own: EWS needs to be told whose mailbox it acts in.
            raise ConfigError("must be \"impersonation\" when ews.auth = \"oauth\" (app-only access acts as the "
                              "shared mailbox)", key="ews.access_type")
        settings = EwsSettings(address=config.mailbox_address, endpoint=endpoint, auth="oauth",
                               access_type="impersonation", tenant_id=oauth["tenant_id"].strip(),
                               client_id=oauth["client_id"].strip(),
                               client_secret=secret(oauth["client_secret_env"], "oauth.client_secret_env"),
                               authority=config.settings("graph")["authority"])
    else:
        settings = EwsSettings(address=config.mailbox_address, endpoint=endpoint, auth=ews["auth"],
                               username=ews["username"].strip(),
                               password=secret(ews["password_env"], "ews.password_env"),
                               access_type=ews["access_type"])
    diagnosis = Diagnosis(settings)
    with diagnosis.calls("connecting"):
        account = open_account(settings, DAEMON_MAX_WAIT if max_wait is None else max_wait)
    return EwsMailbox(account, processed_folder=ews["processed_folder"], failed_folder=ews["failed_folder"],
                      sender=EwsSender(account, diagnosis), diagnosis=diagnosis,
                      close=lambda: close_account(account))


def _loopback_url(url: str) -> bool:
    from urllib.parse import urlsplit

    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _graph(config: Config) -> Mailbox:
    from app.graph_transport import open_graph

    return open_graph(config, transport_state(config))


class JoinedMailbox:
    """One Mailbox from a transport's separate reader and sender (IMAP + SMTP; Graph's two over one client)."""

    def __init__(self, reader, sender, *closers: Callable[[], None]):
        self.reader, self.sender, self._closers = reader, sender, closers

    def waiting(self):
        """The inbox's messages, oldest receipt first."""
        return self.reader.waiting()

    def processed(self, message: Incoming) -> None:
        """Move a handled message to the processed folder."""
        self.reader.processed(message)

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled to the failed folder."""
        self.reader.failed(message, reason)

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Send one message; returns the refused recipients."""
        return self.sender.send(raw, message_id, recipients)

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Wait on the reader (IDLE, or its own polling) until mail comes, `seconds` pass, or `should_stop()`."""
        self.reader.wait_for_mail(seconds, should_stop)

    def folders(self) -> dict[str, int]:
        """The folders the service uses and how many messages each holds."""
        return self.reader.folders()

    def close(self) -> None:
        """Close every connection, even when one of them fails to close."""
        errors = []
        for close in self._closers:
            try:
                close()
            except Exception as exc:  # noqa: BLE001 - the others must still be closed
                errors.append(exc)
        if errors:
            raise errors[0]


def transport_state(config: Config) -> TransportStateFile:
    """Where a transport keeps its few values between runs (beside the store)."""
    return TransportStateFile(config.store_path)


BUILDERS: dict[str, Callable[[Config], Mailbox]] = {"maildir": _maildir, "imap": _imap, "ews": _ews, "graph": _graph}
