"""Audits (AUD): allocated by the QA team, issued in the monthly letter, answered by a submission.

    outstanding ──submission by the deadline (or an agreed later date)──▶ on_time
         │      ──submission after it──────────────────────────────────▶ late  (recorded, not counted)
         └──an approved exemption covering the month──────────────────▶ exempt (leaves the denominator)

An audit's record is its allocation; its state is derived from the allocation and its submissions,
never stored. Audits are not answered by reply: a reply naming one is a submission.
"""
from enum import StrEnum

from core.reference import Reference, find_references
from workflows.grades import has_grade_line
from workflows.items import ItemKind, Seen

PREFIX = "AUD"


class State(StrEnum):
    OUTSTANDING = "outstanding"
    ON_TIME = "on_time"
    LATE = "late"
    EXEMPT = "exempt"


def state_of(allocation: dict, submissions: list[dict]) -> str:
    """One of on_time, late, outstanding, exempt: the latest submission that counts decides."""
    if allocation.get("exempt"):
        return State.EXEMPT.value
    if any(s["counts"] for s in submissions):
        return State.ON_TIME.value
    return State.LATE.value if submissions else State.OUTSTANDING.value


def reference(month: str, number: int) -> str:
    """The reference of the `number`-th allocation of `month`: AUD-2026-11-017."""
    return str(Reference(PREFIX, month, number))


def is_audit(text: str) -> bool:
    """Whether `text` is an audit's reference."""
    ref = Reference.read(text)
    return ref is not None and ref.prefix == PREFIX


def audits_in(references, month: str | None = None) -> list[str]:
    """The audit references among `references` (of `month` only, when given), in the order given."""
    return [r for r in references if is_audit(r) and (month is None or Reference.parse(r).month == month)]


def row(allocation: dict) -> dict:
    """What letters show of an allocation: its reference, case reference and type; nothing about the child."""
    return {k: allocation[k] for k in ("reference", "case_ref", "audit_type")}


# Letters a reply to which is a submission (the kind recorded in the sent ledger starts with one).
SUBMISSION_THREADS = ("allocation", "reminder", "incomplete")


def recognise_submission(seen: Seen) -> str | None:
    """A submission: a reply to an allocation letter, a reminder or a "details needed" answer, or mail
    naming an audit with a grade line. A "thank you" for a receipt names an audit but gives no grade."""
    thread = seen.thread or {}
    if audits_in(thread.get("refs", [])) and thread.get("kind", "").startswith(SUBMISSION_THREADS):
        return "submission"
    if audits_in(seen.references) and has_grade_line(seen.newest):
        return "submission"
    if not thread and find_references([seen.subject], {PREFIX}):
        return "submission"
    return None


# Its state is derived (`state_of`), never stored, and nobody is asked to answer an audit by reply.
KIND = ItemKind(prefix=PREFIX, name="audit", table="allocations", states=State, final=frozenset())
