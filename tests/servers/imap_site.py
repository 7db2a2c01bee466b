"""The sample council on transport = "imap", against a real Dovecot and a real SMTP server.

Same story helpers as conftest's Site (receive, once, files, sent), so a story test reads the same
whichever transport carries it. Mail arrives in the shared mailbox with the receipt time the story
gives: by IMAP APPEND with that INTERNALDATE, or, for an instant later than this machine's clock
(Dovecot, like any server, will not date an APPEND in the future), the way Dovecot's own delivery
agent does it: a file written into the Maildir with that time.
"""
import email
import itertools
import os
from datetime import datetime, timezone
from email import policy
from pathlib import Path

from conftest import Site, sample
from servers.dovecot import Dovecot
from servers.smtp import SmtpServer

FOLDERS = {"inbox": "INBOX", "processed": "Processed", "failed": "Failed"}
_users = itertools.count(1)

CONFIG = """
[imap]
host = "127.0.0.1"
port = {imap_port}
security = "plain"
username = "{user}"
password_env = "AUDITMAIL_IMAP_PASSWORD"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "plain"
username = "{user}"
password_env = "AUDITMAIL_SMTP_PASSWORD"
"""


class ImapSite(Site):
    """A deployment whose shared mailbox is a Dovecot user of its own and whose letters go out over SMTP."""

    def __init__(self, folder: Path, dovecot: Dovecot, monkeypatch, *, smtp_security: str = "plain"):
        super().__init__(folder)
        self.dovecot = dovecot
        self.user, self.password = f"qa-audits-{os.getpid()}-{next(_users)}", dovecot.password
        self.smtp = SmtpServer(username=self.user, password=self.password, lmtp_port=dovecot.lmtp_port,
                               security=smtp_security).start()
        monkeypatch.setenv("AUDITMAIL_IMAP_PASSWORD", self.password)
        monkeypatch.setenv("AUDITMAIL_SMTP_PASSWORD", self.password)
        text = self.config_path.read_text(encoding="utf-8").replace('transport = "maildir"', 'transport = "imap"')
        self.config_path.write_text(text + CONFIG.format(imap_port=dovecot.imap_port, smtp_port=self.smtp.port,
                                                         user=self.user), encoding="utf-8")

    def receive(self, eml: str | bytes, *, at: datetime, name: str | None = None) -> None:
        """The shared mailbox receives a message at `at` (its INTERNALDATE)."""
        raw = sample(eml) if isinstance(eml, str) else eml
        if at.timestamp() <= datetime.now(timezone.utc).timestamp():
            self.dovecot.append(self.user, raw, at=at)
        else:
            self._deliver_to_maildir(raw, at, name)

    def _deliver_to_maildir(self, raw: bytes, at: datetime, name: str | None) -> None:
        maildir = self.dovecot.folder / "mail" / self.user
        if not (maildir / "new").exists():
            self.dovecot.messages(self.user)  # Dovecot makes the Maildir at the first look
        owner = os.stat(maildir)
        name = f"{at.timestamp():.0f}.{name or os.urandom(6).hex()}.auditmail-tests"
        temporary = maildir / "tmp" / name
        temporary.write_bytes(raw)
        os.chown(temporary, owner.st_uid, owner.st_gid)
        os.utime(temporary, (at.timestamp(), at.timestamp()))
        os.rename(temporary, maildir / "new" / name)

    def files(self, folder: str) -> list[bytes]:
        """The raw messages in the shared mailbox's folder (inbox, processed, failed), or those sent."""
        if folder == "sent":
            return [received.data for received in self.smtp.received]
        return self.dovecot.messages(self.user, FOLDERS[folder])

    def sent(self) -> list[email.message.EmailMessage]:
        """Every message the SMTP server took from the ctx, parsed as a mail client would, oldest first."""
        return [email.message_from_bytes(raw, policy=policy.default) for raw in self.files("sent")]
