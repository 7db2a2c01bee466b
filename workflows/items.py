"""The item-kind registry's vocabulary: what every kind of item declares, and the plan a step returns.

Each kind of item (an allocated audit, an exemption request, a slippage notice, a moderation, a
remedial action, the Director's letter) has one module in `workflows/` that opens with its
`ItemKind`: its reference prefix, the table its records live in, its states and transitions, who
must answer it in each state and what the answer may be, and the step that turns a clear answer
into a `Plan`. The steps are pure: plain records, an `Answer`, the `People` and a time in, a
`Plan` out. `app/plans.py` applies a plan inside the message's transaction; nothing else in `app/`
needs to know which kind it is handling.

The kinds in force, in one explicit list, are in `workflows/registry.py`.
"""
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Callable, Mapping

from core.letter import Letter
from workflows.answers import Intent
from workflows.roster import Person


class Reading(StrEnum):
    """How a reply about an item is read (the inbox has one reader for each)."""

    DECISION = "decision"      # Support/Approve or Decline/Reject
    CAPACITY = "capacity"      # "Yes, by 7 January" or No
    MODERATION = "moderation"  # Agree, or "Grade: <grade>" with a comment
    DONE = "done"              # Done, with a note
    SEND = "send"              # Send, or Don't send


@dataclass(frozen=True)
class Answer:
    """What a reply said, read with confidence: who, when, and the answer with what came with it."""

    sender: str
    received_at: datetime
    message_id: str
    intent: Intent
    comment: str = ""
    agreed_date: date | None = None  # a Yes with a date (capacity)
    grade: str | None = None         # a changed grade (moderation)
    words: str = ""                  # all the reply's own words (signature and sign-off removed)
    # When the letter this reply answers was sent (None: not a reply to one of our letters about the
    # item): an "Agree" to a letter that showed what has since changed agrees with what it showed.
    answering: datetime | None = None

    def event(self, action: str, comment: str = "") -> dict:
        """The history entry this answer makes: who, when, what, from which Message-ID."""
        return {"at": self.received_at.isoformat(), "by": self.sender, "action": action,
                "message_id": self.message_id, "comment": comment}


@dataclass(frozen=True)
class People:
    """The roster and the configured roles the rules need, as plain data."""

    by_email: Mapping[str, Person]
    director: str
    delegates: Mapping[str, str] = field(default_factory=dict)

    def get(self, email: str | None) -> Person | None:
        """The person with this address, or None."""
        return self.by_email.get((email or "").lower())

    def name(self, email: str) -> str:
        """Their full name, or the address for someone not on the roster."""
        person = self.get(email)
        return person.name if person else email

    def first_name(self, email: str) -> str:
        """Their first name, for a greeting."""
        person = self.get(email)
        return person.first_name if person else email

    def decider(self, by: str, mailbox: str) -> str:
        """Who made a decision, as a letter names them: their name, or, when `by` is the shared
        `mailbox` itself (the service deciding, as when moderation of a month closes), the QA team's
        audit mailbox: never the bare address, as if it were a person."""
        if mailbox and (by or "").strip().lower() == mailbox.strip().lower():
            return "the Quality Assurance Team's audit mailbox"
        return self.name(by)

    def greeting(self, email: str | None) -> str:
        """What a letter to them says after "Dear": their first name, or "Colleague"."""
        person = self.get(email)
        return person.first_name if person else "Colleague"

    def in_roster_order(self, role: str) -> list[str]:
        """Everyone with `role`, in the order of the roster file (how letters have always listed them)."""
        return [p.email for p in self.by_email.values() if role in p.roles]

    def with_role(self, role: str) -> list[str]:
        """Everyone with `role`, in address order."""
        return sorted(p.email for p in self.by_email.values() if role in p.roles)

    @property
    def qa_team(self) -> list[str]:
        """The QA team's addresses."""
        return self.with_role("qa")


@dataclass(frozen=True)
class Audits:
    """The allocations (and their submissions) of some audit months, as a step that needs them reads them."""

    allocations: tuple[dict, ...] = ()
    submissions: Mapping[str, list[dict]] = field(default_factory=dict)  # AUD reference -> its submissions

    def get(self, reference: str) -> dict | None:
        """One allocation by its reference, or None."""
        return next((a for a in self.allocations if a["reference"] == reference), None)

    def of(self, auditor: str) -> list[dict]:
        """The allocations of one auditor, in the order held."""
        return [a for a in self.allocations if a["auditor"] == auditor]

    def submissions_of(self, reference: str) -> list[dict]:
        """The submissions for one allocation, oldest first."""
        return list(self.submissions.get(reference, []))


# The key under which a step finds the audits its kind asked for (`ItemKind.audit_months`). It is
# handed to the step with the record and is never stored.
AUDITS = "audits"


def with_audits(record: dict, audits: Audits) -> dict:
    """The record as a step reads it: with the audits of the months its kind asked for."""
    return {**record, AUDITS: audits}


def audits_of(record: dict) -> Audits:
    """The audits handed to a step with `record` (none when its kind asked for none)."""
    return record.get(AUDITS) or Audits()


@dataclass(frozen=True)
class Seen:
    """What the inbox saw of an email, as plain data for the recognisers (`registry.RECOGNISERS`)."""

    subject: str
    newest: str                  # the sender's new text, quoted history removed
    thread: dict | None          # the ledger record of the mail of ours it replies to
    references: tuple[str, ...]  # item references in the thread, subject and new text, in that order


# A recogniser names the kind of an email ("submission", "exemption", "slippage", "reply") or says None.
Recogniser = Callable[[Seen], str | None]


@dataclass(frozen=True)
class Change:
    """One change to a stored item of any kind, with the history entry that says who, when and why."""

    reference: str
    changes: Mapping
    event: Mapping | None = None


@dataclass
class Plan:
    """What a step decided, as data; `app/plans.py` makes it durable with the handled mark, all at once."""

    outcome: str                                                   # a word or two for the ledger and log
    changes: list[Change] = field(default_factory=list)             # stored items changed
    new_items: list[dict] = field(default_factory=list)             # items created (each has "reference")
    allocation_changes: list[tuple[str, dict]] = field(default_factory=list)        # (AUD reference, changes)
    submission_changes: list[tuple[str, str, dict]] = field(default_factory=list)   # (AUD ref, received_at, changes)
    letters: list[Letter] = field(default_factory=list)             # new letters
    answers: list[Letter] = field(default_factory=list)             # letters answering the mail (threaded under it)
    triage: list[str] = field(default_factory=list)                 # notes for the QA team's list
    refs: tuple[str, ...] = ()                                      # the items it touched


Step = Callable[[dict, Answer, People, datetime], Plan]


@dataclass(frozen=True)
class ItemKind:
    """Everything the rest of the service needs to know about one kind of item."""

    prefix: str                                   # "EXM": the reference prefix
    name: str                                     # "exemption": in words, for logs and letters
    table: str                                    # the table of the month file its records live in
    states: type[StrEnum]
    final: frozenset[str]                         # states in which nothing more is asked of anyone
    transitions: Mapping = field(default_factory=dict)            # (state, Intent) -> next state
    reading: Reading | None = None                # how a reply about it is read; None: not answered by reply
    answerers: Callable[[dict, People], list[str]] = lambda record, people: []  # who must answer now
    options: Callable[[dict], str] = lambda record: ""            # what the answer may be, in words
    step: Step | None = None                                      # a clear answer -> a plan
    chased: bool = False                                          # silent answerers are reminded, then escalated
    # Decided only by a reply to our own letter about it (In-Reply-To/References), never by the bracketed
    # reference alone: for answers whose reach is large (the letter to all staff), a lookalike message
    # carrying the reference must not be enough. Such a reply is read as unclear and the answerer asked again.
    answered_in_thread: bool = False
    # The reminder/escalation letters of a chased kind that words them its own way: (record, step,
    # waiting working days, people) -> letters. None: the approvals' letters (app/requests/waiting.py).
    chase_letters: Callable[[dict, str, int, "People"], list[Letter]] | None = None
    # For `status`: "EXM-2026-12-001  Ben Hartley: waiting on Dana Price" (the days waited are added).
    waiting_line: Callable[[dict, People], str] = lambda record, people: record["reference"]
    # Why a clear answer still cannot be acted on (the answerer is then asked again), or None.
    doubt: Callable[[dict, Answer], str | None] = lambda record, answer: None
    # The audit months whose allocations (and submissions) the step reads, found by `audits_of(record)`.
    audit_months: Callable[[dict], list[str]] | None = None
    # When an answerer is away: the letter asking their delegate, (record, delegate, away, people) -> Letter.
    # None: nobody else is asked (an item waiting on a whole team needs no stand-in).
    ask_delegate: Callable[[dict, str, str, People], Letter] | None = None

    def is_final(self, record: dict) -> bool:
        """Whether the item needs nothing more from anyone."""
        return record.get("state") in self.final
