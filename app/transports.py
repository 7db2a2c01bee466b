"""Opens the configured mailbox transport: maildir (embedded), imap (+ smtp), ews or graph.

Each builder imports its library only when chosen, so a maildir deployment never loads exchangelib
or msal. The daemon opens the mailbox once and keeps it for its whole life.
"""
from typing import Callable

from core.config import Config
from core.errors import ConfigError
from db.transport_state import TransportStateFile
from inbox.mailbox import Mailbox


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


def _ews(config: Config) -> Mailbox:
    raise ConfigError("the ews transport is not available in this version", key="mailbox.transport")


def _graph(config: Config) -> Mailbox:
    raise ConfigError("the graph transport is not available in this version", key="mailbox.transport")


def transport_state(config: Config) -> TransportStateFile:
    """Where a transport keeps its few values between runs (beside the store)."""
    return TransportStateFile(config.store_path)


BUILDERS: dict[str, Callable[[Config], Mailbox]] = {"maildir": _maildir, "imap": _imap, "ews": _ews, "graph": _graph}
