"""The `imap` transport as one Mailbox: the IMAP reader (inbox/imap.py) and the SMTP sender (mailer/smtp.py).

Built here because app/ is the one place that may join inbox/ and mailer/: the secrets are read from
the environment, the OAuth token (XOAUTH2) comes from one ClientCredentials shared by both, and the
reader keeps its UIDVALIDITY in the transport state beside the store.
"""
from typing import Callable

from core.backoff import Backoff
from core.config import Config, secret
from inbox.imap import ImapReader
from inbox.imap_connection import ImapSettings, Login
from inbox.mailbox import Incoming, TransportState
from mailer.smtp import SmtpSender, SmtpSettings

# Exchange Online's resource for IMAP and SMTP with OAuth client credentials.
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"


class ImapMailbox:
    """Reads and files mail over IMAP, sends over SMTP; the daemon keeps one of these open for its whole life."""

    def __init__(self, reader: ImapReader, sender: SmtpSender):
        self.reader, self.sender = reader, sender

    def waiting(self):
        """The inbox's messages, oldest receipt (INTERNALDATE) first."""
        return self.reader.waiting()

    def processed(self, message: Incoming) -> None:
        """MOVE a handled message to the processed folder."""
        self.reader.processed(message)

    def failed(self, message: Incoming, reason: str) -> None:
        """MOVE a message that could not be handled to the failed folder."""
        self.reader.failed(message, reason)

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Send over SMTP; returns the refused recipients."""
        return self.sender.send(raw, message_id, recipients)

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """IDLE on the IMAP connection until mail comes, `seconds` pass, or `should_stop()`."""
        self.reader.wait_for_mail(seconds, should_stop)

    def folders(self) -> dict[str, int]:
        """The inbox, processed and failed folders and how many messages each holds."""
        return self.reader.folders()

    def close(self) -> None:
        """Log out of both servers."""
        try:
            self.reader.close()
        finally:
            self.sender.close()


def build_imap_mailbox(config: Config, state: TransportState, *, retry: Backoff = Backoff(),
                       context=None) -> ImapMailbox:
    """The imap transport from `[imap]`, `[smtp]` and (for xoauth2) `[oauth]`; nothing connects until first used."""
    imap, smtp = config.settings("imap"), config.settings("smtp")
    token = _token(config) if "xoauth2" in (imap["auth"], smtp["auth"]) else None
    login = (Login(token=token) if imap["auth"] == "xoauth2" else
             Login(password=secret(imap["password_env"], "imap.password_env"), secret_from=imap["password_env"]))
    reader = ImapReader(ImapSettings.from_section(imap), login, state, retry=retry, context=context)
    smtp_settings = SmtpSettings(
        smtp["host"].strip(), smtp["port"], smtp["security"], smtp["username"].strip(),
        password=None if smtp["auth"] == "xoauth2" else secret(smtp["password_env"], "smtp.password_env"),
        token=token if smtp["auth"] == "xoauth2" else None, secret_from=smtp["password_env"])
    return ImapMailbox(reader, SmtpSender(smtp_settings, config.mailbox_address, context))


def _token(config: Config) -> Callable[[], str]:
    from core.oauth import ClientCredentials  # imported here: only OAuth deployments load msal

    return ClientCredentials(config, OUTLOOK_SCOPE).token
