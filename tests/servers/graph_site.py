"""A deployment whose shared mailbox is the fake Graph's: the maildir story tests, through transport = "graph"."""
from datetime import datetime

from conftest import Site, sample
from servers.fake_graph import FakeGraph

GRAPH_CONFIG = """
[graph]
endpoint = "{endpoint}"
authority = "{authority}"

[oauth]
tenant_id = "{tenant}"
client_id = "{client_id}"
client_secret_env = "AUDITMAIL_CLIENT_SECRET"
"""
# The Site's folder names, as the fake Graph knows them (display names, or Graph's well-known names).
FOLDERS = {"inbox": "inbox", "processed": "Processed", "failed": "Failed", "sent": "sentitems"}


class GraphSite(Site):
    """`init`'s deployment with `[mailbox] transport = "graph"` pointed at a running FakeGraph."""

    def __init__(self, folder, fake: FakeGraph):
        super().__init__(folder)
        self.fake = fake
        text = self.config_path.read_text(encoding="utf-8")
        assert 'transport = "maildir"' in text, "init's config changed: update GraphSite"
        text = text.replace('transport = "maildir"', 'transport = "graph"', 1) + GRAPH_CONFIG.format(
            endpoint=fake.endpoint, authority=fake.url, tenant=fake.tenant, client_id=fake.client_id)
        self.config_path.write_text(text, encoding="utf-8")

    def receive(self, eml: str | bytes, *, at: datetime, name: str | None = None) -> str:
        """Mail arriving in the fake mailbox's inbox, with `at` as its receivedDateTime; returns its Graph id."""
        return self.fake.deliver(sample(eml) if isinstance(eml, str) else eml, at)

    def files(self, folder: str) -> list:
        """The messages in inbox, processed, failed or sent (each has read_bytes() and name, like a file)."""
        return self.fake.in_folder(FOLDERS[folder])

    def sent(self) -> list:
        """Every message sent through sendMail, decoded from its base64 MIME, oldest first."""
        return self.fake.sent_messages()
