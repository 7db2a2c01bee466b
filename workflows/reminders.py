"""Reminders and after-deadline notices, derived from the month's state and the clock.

    before the deadline: the reminder ladder (by default 10 and 5 working days before it, and
        the morning of the last working day), to auditors with something outstanding;
    after the deadline (09:00 on the next working day): each auditor with an audit not received is
        told it will not be counted (a late one was told so by its receipt); the Director gets the
        list of every audit not completed on time in all services, and each Head of Service that of
        their service, an audit with an agreed later date shown as such;
    once the last agreed later date has passed: the final figures, to the same readers, once.

These functions only say what is due. The caller keeps a ledger of what was sent, so a daemon that
was down at 09:00 sends once when it returns, and only the latest step: a catch-up never sends an
older, gentler reminder after a firmer one was due.
"""
from collections import defaultdict
from dataclasses import dataclass
from typing import Mapping
from datetime import date, datetime, time

from core.clock import LONDON
from workflows.calendar import WorkingCalendar, month_deadline, reminder_dates
from workflows.figures import allocation_state
from workflows.submissions import deadline_of


@dataclass(frozen=True)
class Due:
    """One letter that is due: to whom, which step, about which allocations."""

    key: str              # the ledger key that makes it happen once
    step: str             # "10wd", "5wd", "last-day", "not-counted", "hos-not-counted", "final-figures"
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
                           submissions: dict[str, list[dict]], *, hour: int = 9,
                           readers: Mapping[str, str | None] | None = None) -> list[Due]:
    """After the deadline: each auditor told of audits not received (once per deadline), and the lists.

    `readers` maps each list's reader to the service it covers (None: all services, the Director's);
    without it each Head of Service named on the allocations gets their own staff's.
    """
    first_day = calendar.add_working_days(month_deadline(month).astimezone(LONDON).date(), 1)
    if now < at_hour(first_day, hour):
        return []
    items = [item for a in allocations if (item := _not_on_time(a, submissions.get(a["reference"], []), now))]
    # An auditor whose late submission's receipt already said "not counted" is not told again; one
    # notice per deadline (the month's, or an agreed date), so no audit is ever in two notices.
    missing = defaultdict(list)
    for item in items:
        if item["status"] == "missing":
            missing[(item["auditor"], item["deadline_at"])].append(item)
    notices = [Due(f"not-counted:{auditor}:{deadline}", "not-counted", auditor, tuple(group))
               for (auditor, deadline), group in sorted(missing.items())]
    return notices + lists_after_deadline(month, now, calendar, allocations, items, hour=hour,
                                          readers=readers if readers is not None else _heads_of_service(allocations))


def lists_after_deadline(month: str, now: datetime, calendar: WorkingCalendar, allocations: list[dict],
                         items: list[dict], *, hour: int, readers: Mapping[str, str | None]) -> list[Due]:
    """Each reader's list of every audit in their scope not completed on time (once), and, when audits there
    had agreed later dates, the final figures once the last of those dates has passed (once)."""
    due = []
    for reader, service in sorted(readers.items()):
        scope = [a for a in allocations if in_scope(a, reader, service)]
        listed = tuple(i for i in items if in_scope(i, reader, service))
        if listed:
            due.append(Due(f"hos-not-counted:{reader}", "hos-not-counted", reader, listed))
        agreed = [datetime.fromisoformat(a["deadline"]) for a in scope if a.get("deadline") and not a.get("exempt")]
        if agreed and now >= at_hour(calendar.add_working_days(max(agreed).astimezone(LONDON).date(), 1), hour):
            due.append(Due(f"final-figures:{reader}", "final-figures", reader, listed))
    return due


def _not_on_time(allocation: dict, submissions: list[dict], now: datetime) -> dict | None:
    """The allocation with its status if it was not completed on time: late, missing, or agreed (date to come)."""
    state = allocation_state(allocation, submissions)
    if state not in ("late", "outstanding"):
        return None
    deadline, extended = deadline_of(allocation)
    status = "agreed" if now <= deadline else "late" if state == "late" else "missing"
    return {**allocation, "status": status, "deadline_at": deadline.isoformat(), "extended": extended}


def in_scope(allocation: dict, reader: str, service: str | None) -> bool:
    """Whether a list for `reader` covering `service` (None: all; \"\": their own staff) includes `allocation`."""
    # "" covers only the allocations that name the reader as their Head of Service.
    return (service is None or (bool(service) and allocation.get("service") == service)
            or allocation.get("head_of_service") == reader)


def _heads_of_service(allocations: list[dict]) -> dict[str, str | None]:
    return {a["head_of_service"]: "" for a in allocations if a.get("head_of_service")}
