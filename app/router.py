"""Who handles which kind of email: workflows register a handler for their kind, nothing else changes.

A handler gets the parsed mail, its classification and the service; it may change workflow state
through the service's repositories and returns a Decision. It runs inside the message's transaction,
so its state change, its letters and the handled mark become durable together.
"""
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from inbox.classify import Classification, Kind
from inbox.parse import ParsedMail
from core.letter import Letter

if TYPE_CHECKING:
    from app.context import Context


@dataclass
class Decision:
    """What handling one email decided: the letters to send and what the QA team must look at."""

    outcome: str                                   # one word or two for the ledger and the log
    letters: list[Letter] = field(default_factory=list)
    triage: list[str] = field(default_factory=list)  # notes for the QA team's triage list
    refs: tuple[str, ...] = ()                      # the items it touched


Handler = Callable[[ParsedMail, Classification, "Context"], Decision]


class Router:
    """Maps each kind of email to the handler registered for it."""

    def __init__(self, fallback: Handler):
        self._handlers: dict[Kind, Handler] = {}
        self._fallback = fallback

    def register(self, kind: Kind, handler: Handler) -> None:
        """Make `handler` the one for `kind` (a later registration replaces an earlier one)."""
        self._handlers[kind] = handler

    def handle(self, mail: ParsedMail, classification: Classification, ctx: "Context") -> Decision:
        """Run the handler for the mail's kind, or the fallback when no workflow has claimed it."""
        return self._handlers.get(classification.kind, self._fallback)(mail, classification, ctx)
