"""A letter a workflow decided to send, as data: who, what, about which items, before it is composed.

It lives in `core` because the rules (`workflows/`) decide letters and the mailer writes them: both
need the same plain description, and neither may lean on the other.
"""
from dataclasses import dataclass, field
from typing import Sequence


@dataclass(frozen=True)
class OutgoingAttachment:
    """A file sent with a letter, e.g. an .ics with content_type "text/calendar; method=PUBLISH"."""

    filename: str
    content_type: str
    data: bytes
    inline_id: str | None = None       # a Content-ID: an image the HTML shows as <img src="cid:…">


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
