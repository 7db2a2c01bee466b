"""What every mailbox transport provides: the messages waiting, where each goes once dealt with, and sending.

One adapter per transport: maildir (embedded), imap (+ smtp for sending), ews (exchangelib), graph.
The daemon opens its mailbox once and keeps it for its whole life (one login, one token cache, one
IDLE connection); the store's lock is let go between passes (app/daemon.py).
"""
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator, Protocol, runtime_checkable


@dataclass(frozen=True)
class Incoming:
    """One message as the mailbox holds it: the raw bytes and when the mailbox received it."""

    raw: bytes
    received_at: datetime  # tz-aware; the mailbox's own receipt time, never the sender's Date:
    handle: str            # the transport's own name for it (a file name, an item id, a UID)


class MailboxReader(Protocol):
    """Reads the shared mailbox's inbox and files what was dealt with."""

    def waiting(self) -> Iterator[Incoming]:
        """The messages in the shared mailbox's inbox, oldest receipt first."""

    def processed(self, message: Incoming) -> None:
        """Move a handled message out of the inbox (only after its handling is durable)."""

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled aside, untouched, for a person to look at."""


class MailSender(Protocol):
    """Sends one complete RFC 5322 message.

    Raises TemporaryFailure (try later) or PermanentFailure (never will go); both leave it in the outbox.
    Returns the recipients the server refused when it took the message for the others.
    """

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Deliver the message to its recipients; returns those refused (empty when all were taken)."""


class Mailbox(MailboxReader, MailSender, Protocol):
    """A whole transport: reading, sending, waiting for new mail, and a look inside for `doctor`."""

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Block until new mail may have arrived, `seconds` have passed, or `should_stop()` is true."""

    def folders(self) -> dict[str, int]:
        """Each folder the service uses and how many messages it holds (for `doctor`)."""

    def close(self) -> None:
        """Log out and release connections."""


class TransportState(Protocol):
    """A few durable values a transport keeps between runs (a Graph delta link, an IMAP UIDVALIDITY)."""

    def get(self, key: str) -> str | None:
        """The stored value, or None."""

    def put(self, key: str, value: str) -> None:
        """Store a value durably."""


# -- mail set aside, and `retry` (the maildir transport has it; others may add it) ------------------
@dataclass(frozen=True)
class SetAside:
    """A message in the failed folder: its name there, when the mailbox received it, and its size in bytes."""

    name: str
    received_at: datetime
    size: int


@runtime_checkable
class FailedMail(Protocol):
    """A mailbox that can list the mail it set aside and bring it back into the inbox (`status`, `retry`)."""

    def set_aside(self) -> list[SetAside]:
        """The messages in the failed folder, oldest receipt first (nothing is read but their names)."""

    def read_set_aside(self, item: SetAside) -> bytes:
        """The raw bytes of one message in the failed folder."""

    def bring_back(self, item: SetAside) -> None:
        """Move a message from the failed folder back into the inbox, keeping its receipt time."""
