"""Reminders and after-deadline notices, derived from the month's state and the clock.

    before the deadline: the reminder ladder (by default 10 and 5 working days before it, and
        the morning of the last working day), to auditors with something outstanding;
    after the deadline: each auditor with an uncounted allocation is told it will not be counted,
        and each Head of Service gets the list for their staff (09:00 on the next working day).

These functions only say what is due. The caller keeps a ledger of what was sent, so a daemon that
was down at 09:00 sends once when it returns, and only the latest step: a catch-up never sends an
older, gentler reminder after a firmer one was due.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time

from core.clock import LONDON
from workflows.calendar import WorkingCalendar, month_deadline, reminder_dates
from workflows.figures import allocation_state
from workflows.submissions import deadline_of


@dataclass(frozen=True)
class Due:
    """One letter that is due: to whom, which step, about which allocations."""

    key: str              # the ledger key that makes it happen once
    step: str             # "10wd", "5wd", "last-day", "not-counted", "hos-not-counted"
    to: str               # the auditor's or the Head of Service's address
    allocations: tuple    # the allocation records concerned
    working_days_left: int = 0


def at_hour(day: date, hour: int) -> datetime:
    """`hour`:00 London time on `day`, as an aware instant."""
    return datetime.combine(day, time(hour), tzinfo=LONDON)


def due_reminders(month: str, now: datetime, calendar: WorkingCalendar, allocations: list[dict],
                  submissions: dict[str, list[dict]], *, ladder=(10, 5, 0), hour: int = 9) -> list[Due]:
    """The reminders due now for `month` (the latest due step, to each auditor with audits outstanding)."""
    deadline = month_deadline(month)
    if now > deadline:
        return []
    steps = [(name, day) for name, day in reminder_dates(month, calendar, ladder) if at_hour(day, hour) <= now]
    if not steps:
        return []
    step, day = steps[-1]
    # Counted from today, not from the step's day: a reminder sent late after downtime tells the truth.
    left = calendar.working_days_between(now.astimezone(LONDON).date(), deadline.astimezone(LONDON).date())
    outstanding = defaultdict(list)
    for allocation in allocations:
        if allocation.get("deadline"):
            continue  # an agreed later date: the QA team follows it, not the ladder
        if allocation.get("issued_at") and datetime.fromisoformat(allocation["issued_at"]).astimezone(LONDON).date() >= day:
            continue  # issued on or after this step's day: the allocation letter itself is the reminder
        if allocation_state(allocation, submissions.get(allocation["reference"], [])) == "outstanding":
            outstanding[allocation["auditor"]].append(allocation)
    return [Due(f"reminder:{step}:{auditor}", step, auditor, tuple(items), left)
            for auditor, items in sorted(outstanding.items())]


def notices_after_deadline(month: str, now: datetime, calendar: WorkingCalendar, allocations: list[dict],
                           submissions: dict[str, list[dict]], *, hour: int = 9) -> list[Due]:
    """After the deadline: one notice per auditor with uncounted allocations, one list per Head of Service."""
    deadline_day = month_deadline(month).astimezone(LONDON).date()
    if now < at_hour(calendar.add_working_days(deadline_day, 1), hour):
        return []
    by_auditor, by_hos = defaultdict(list), defaultdict(list)
    for allocation in allocations:
        deadline, _ = deadline_of(allocation)
        state = allocation_state(allocation, submissions.get(allocation["reference"], []))
        if state in ("late", "outstanding") and now > deadline:
            item = {**allocation, "status": "late" if state == "late" else "missing"}
            by_auditor[allocation["auditor"]].append(item)
            if allocation.get("head_of_service"):
                by_hos[allocation["head_of_service"]].append(item)
    # Keyed by the allocations too: one whose agreed later date passes afterwards brings a new notice.
    notices = [Due(f"not-counted:{a}:{_refs(items)}", "not-counted", a, tuple(items))
               for a, items in sorted(by_auditor.items())]
    notices += [Due(f"hos-not-counted:{h}:{_refs(items)}", "hos-not-counted", h, tuple(items))
                for h, items in sorted(by_hos.items())]
    return notices


def _refs(items) -> str:
    return ",".join(sorted(item["reference"] for item in items))
