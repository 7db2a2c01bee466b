"""The graph transport put together: one Graph client (one token cache, one connection, one rate limiter)
shared by the reader (inbox/graph.py) and the sender (mailer/graph.py)."""
from app.transports import JoinedMailbox
from core.config import Config
from inbox.mailbox import TransportState


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
    return JoinedMailbox(reader, GraphSender(client), client.close)
