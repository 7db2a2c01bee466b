"""Slippage notices: told early to the Head of Service; the QA team says whether it has capacity.

    awaiting_qa ──Yes, by <date>──▶ agreed   (that date, 23:59:59 London, becomes the deadline for counting)
         └──────No────────────────▶ refused  (the month's deadline stands)
    a notice received after the deadline ──▶ too_late (answered so; the QA team is told)
"""
from datetime import date, datetime, time
from enum import StrEnum

from core.clock import LONDON
from workflows.figures import allocation_state
from workflows.items import ItemKind, Reading
from workflows.submissions import deadline_of


class State(StrEnum):
    AWAITING_QA = "awaiting_qa"
    AGREED = "agreed"
    REFUSED = "refused"
    TOO_LATE = "too_late"


OPTIONS = "Yes with a date (for example \"Yes, by 7 January\"), or No"
FINAL = {State.AGREED, State.REFUSED, State.TOO_LATE}
VERBS = {State.AGREED: "agreed", State.REFUSED: "not agreed"}


def slipping_allocations(allocations: list[dict], submissions: dict[str, list[dict]], auditor: str,
                         named: list[str]) -> list[dict]:
    """The auditor's allocations a notice is about: those it names, else all still outstanding."""
    mine = [a for a in allocations if a["auditor"] == auditor and not a.get("exempt")]
    if named:
        return [a for a in mine if a["reference"] in named]
    return [a for a in mine if allocation_state(a, submissions.get(a["reference"], [])) == "outstanding"]


def too_late(received_at: datetime, allocations: list[dict]) -> bool:
    """Whether a notice came after the deadline of every allocation it is about."""
    return all(received_at > deadline_of(a)[0] for a in allocations)


def agreed_deadline(day: date) -> datetime:
    """The last instant that counts on an agreed completion date: 23:59:59.999999 London time."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LONDON)


KIND = ItemKind(prefix="SLP", name="slippage notice", table="slippage", states=State, final=frozenset(FINAL),
                reading=Reading.CAPACITY, options=lambda record: OPTIONS, chased=True)
