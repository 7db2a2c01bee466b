"""A deployment whose mailbox is the fake EWS server: the same stories, through exchangelib and SOAP."""
import email
from email import policy

from conftest import Site, sample
from servers.fake_ews import FakeEws

PASSWORD_ENV = "AUDITMAIL_TEST_EWS_PASSWORD"
FOLDERS = {"inbox": "Inbox", "processed": "Processed", "failed": "Failed", "sent": "Sent Items"}


class EwsSite(Site):
    """`Site` with `transport = "ews"`: mail is delivered into the fake's inbox, sent mail read from what it received."""

    def __init__(self, folder, fake: FakeEws, monkeypatch, extra: str = ""):
        super().__init__(folder)
        self.fake = fake
        text = self.config_path.read_text(encoding="utf-8").replace('transport = "maildir"', 'transport = "ews"')
        text += (f'\n[ews]\nservice_endpoint = "{fake.endpoint}"\nauth = "basic"\nusername = "{fake.username}"\n'
                 f'password_env = "{PASSWORD_ENV}"\n{extra}')
        self.config_path.write_text(text, encoding="utf-8")
        monkeypatch.setenv(PASSWORD_ENV, fake.password)

    def receive(self, eml, *, at, name=None):
        """Mail arrives in the fake's inbox with the server's receipt time `at` (DateTimeReceived)."""
        return self.fake.deliver(sample(eml) if isinstance(eml, str) else eml, at)

    def files(self, folder: str):
        """The items in the fake's Inbox, Processed, Failed or Sent Items."""
        return self.fake.folder_items(FOLDERS[folder])

    def sent(self):
        """Every message the service sent through CreateItem, parsed as a mail client would."""
        return [email.message_from_bytes(s.mime, policy=policy.default) for s in self.fake.sent]
