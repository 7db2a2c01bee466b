"""A letter a workflow decided to send, as data: who, what, about which items, before it is composed."""
from dataclasses import dataclass, field
from typing import Sequence

from mailer.compose import OutgoingAttachment


@dataclass(frozen=True)
class Letter:
    """A letter a workflow decided to send, before it is composed."""

    template: str
    to: Sequence[str]
    subject: str
    context: dict
    kind: str                          # what it is, for the ledger: "unclear", "receipt", "reminder"…
    refs: Sequence[str] = ()           # the items it is about, so replies to it can be matched
    cc: Sequence[str] = ()
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    answer_to: str | None = None       # the sender it answers; counts towards their daily limit
    attachments: Sequence[OutgoingAttachment] = field(default=())
