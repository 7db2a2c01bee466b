"""The graph transport put together: one Graph client (one token cache, one connection, one rate limiter)
shared by the reader (inbox/graph.py) and the sender (mailer/graph.py)."""
from typing import Callable

from core.config import Config
from inbox.mailbox import Incoming, TransportState


def open_graph(config: Config, state: TransportState):
    """The shared mailbox through Microsoft Graph; nothing is sent over the network until it is used."""
    from core.graph import GraphClient, graph_scope
    from core.oauth import ClientCredentials
    from inbox.graph import GraphReader
    from mailer.graph import GraphSender

    settings = config.settings("graph")
    credentials = ClientCredentials(config, graph_scope(settings["endpoint"]), settings["authority"])
    client = GraphClient(settings["endpoint"], config.mailbox_address, credentials.token)
    reader = GraphReader(client, state, settings["processed_folder"], settings["failed_folder"])
    return GraphMailbox(reader, GraphSender(client), client)


class GraphMailbox:
    """Reader and sender behind the one Mailbox protocol."""

    def __init__(self, reader, sender, client):
        self.reader, self.sender, self._client = reader, sender, client

    def waiting(self):
        """The messages in the inbox, oldest receivedDateTime first."""
        return self.reader.waiting()

    def processed(self, message: Incoming) -> None:
        """Move a handled message to the processed folder."""
        self.reader.processed(message)

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled to the failed folder."""
        self.reader.failed(message, reason)

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Send one message as MIME."""
        return self.sender.send(raw, message_id, recipients)

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Return when new mail may have arrived, after `seconds`, or when told to stop."""
        self.reader.wait_for_mail(seconds, should_stop)

    def folders(self) -> dict[str, int]:
        """The folders the service uses and how many messages each holds."""
        return self.reader.folders()

    def close(self) -> None:
        """Close the connection to Graph (the token cache goes with the object)."""
        self._client.close()
