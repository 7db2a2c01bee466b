"""Submissions: what one email's grades mean for the allocations they name.

    allocated --(grade received by the deadline)--> counted
    allocated --(grade received after it)---------> late (recorded, not counted)
    counted/late --(another grade)----------------> the same state; the newer grade replaces the
                                                    older one, and the history keeps both

The deadline is the month's (23:59:59 London on its last day) unless the QA team agreed a later
date for that allocation. What counts is when the mailbox received the email, never its Date:.
"""
from dataclasses import dataclass
from datetime import datetime

from workflows.calendar import counts_by, month_deadline
from workflows.grades import Remedial, SubmissionText
from workflows.roster import Person


@dataclass(frozen=True)
class Recorded:
    """One grade accepted for one allocation."""

    reference: str
    grade: str
    counts: bool
    replaced: bool            # an earlier submission for this reference exists
    deadline: datetime
    extended: bool            # the deadline is an agreed later date
    remedial: Remedial | None


@dataclass(frozen=True)
class Assessment:
    """What one email recorded, and what it lacked."""

    recorded: list[Recorded]
    problems: list[str]


def deadline_of(allocation: dict) -> tuple[datetime, bool]:
    """The deadline that applies to an allocation, and whether it is an agreed extension."""
    if allocation.get("deadline"):
        return datetime.fromisoformat(allocation["deadline"]), True
    return month_deadline(allocation["month"]), False


def may_submit(person: Person, allocation: dict) -> bool:
    """The allocated auditor may submit; so may their Head of Service or the QA team on their behalf."""
    return person.email in (allocation["auditor"], allocation.get("head_of_service")) or person.has("qa")


def assess(sender: Person, received_at: datetime, text: SubmissionText,
           allocations: dict[str, dict | None], previous: dict[str, list[dict]]) -> Assessment:
    """Decide, for each grade in an email, whether it is recorded and whether it counts."""
    recorded, problems = [], list(text.problems)
    for reference, grade in text.grades.items():
        allocation = allocations.get(reference)
        if allocation is None:
            problems.append(f"{reference} is not a reference the audit mailbox has issued; "
                            "please check it against your allocation letter")
            continue
        if not may_submit(sender, allocation):
            problems.append(f"{reference} is allocated to someone else, so a grade for it can only come "
                            "from them, their Head of Service or the QA team")
            continue
        deadline, extended = deadline_of(allocation)
        # An audit completed on time stays completed on time: a later correction of its grade is
        # recorded and replaces the grade, but cannot un-count it.
        on_time_before = any(p["counts"] for p in previous.get(reference, []))
        recorded.append(Recorded(
            reference=reference, grade=grade.value, counts=on_time_before or counts_by(received_at, deadline),
            replaced=bool(previous.get(reference)), deadline=deadline, extended=extended,
            remedial=text.remedial.get(reference),
        ))
    for reference, remedial in text.remedial.items():
        if reference not in text.grades and remedial.needed:
            problems.append(f"remedial action was given for {reference} but no grade; "
                            "please send the grade with it")
    return Assessment(recorded, problems)
