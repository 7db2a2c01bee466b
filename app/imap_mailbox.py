"""The `imap` transport as one JoinedMailbox: the IMAP reader (inbox/imap.py) and the SMTP sender (mailer/smtp.py).

Built here because app/ is the one place that may join inbox/ and mailer/: the secrets are read from
the environment, the OAuth token (XOAUTH2) comes from one ClientCredentials shared by both, and the
reader keeps its UIDVALIDITY in the transport state beside the store.
"""
from typing import Callable

from app.transports import JoinedMailbox
from core.backoff import Backoff
from core.config import Config, secret
from inbox.imap import ImapReader
from inbox.imap_connection import ImapSettings, Login
from inbox.mailbox import TransportState
from mailer.smtp import SmtpSender, SmtpSettings

# Exchange Online's resource for IMAP and SMTP with OAuth client credentials.
OUTLOOK_SCOPE = "https://outlook.office365.com/.default"


def build_imap_mailbox(config: Config, state: TransportState, *, retry: Backoff = Backoff(),
                       context=None) -> JoinedMailbox:
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
    sender = SmtpSender(smtp_settings, config.mailbox_address, context)
    return JoinedMailbox(reader, sender, reader.close, sender.close)


def _token(config: Config) -> Callable[[], str]:
    from core.oauth import ClientCredentials  # imported here: only OAuth deployments load msal

    return ClientCredentials(config, OUTLOOK_SCOPE).token
