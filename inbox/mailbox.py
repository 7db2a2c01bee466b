"""What every mailbox transport provides: the messages waiting, and where each goes once dealt with."""
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator, Protocol


@dataclass(frozen=True)
class Incoming:
    """One message as the mailbox holds it: the raw bytes and when the mailbox received it."""

    raw: bytes
    received_at: datetime  # tz-aware; the mailbox's own receipt time, never the sender's Date:
    handle: str            # the transport's own name for it (a file name, an item id, a UID)


class MailboxReader(Protocol):
    """One protocol, one adapter per transport (maildir now; IMAP, Exchange and Graph plug in here)."""

    def waiting(self) -> Iterator[Incoming]:
        """The messages in the shared mailbox's inbox, oldest receipt first."""

    def processed(self, message: Incoming) -> None:
        """Move a handled message out of the inbox (only after its handling is durable)."""

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled aside, untouched, for a person to look at."""


class MailSender(Protocol):
    """Sends one complete RFC 5322 message; raising TransportError leaves it in the outbox."""

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> None:
        """Deliver the message to its recipients."""
