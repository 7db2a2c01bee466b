"""The scheduled job: reminders before the deadline, notices after it, each sent once.

Derived from the stored month and the ledger of what was done; run at every pass, it sends what is
due and not yet done, so downtime delays a reminder but never doubles it. Each letter is composed on
its own (one that cannot be is noted and tried again next pass); a month's letters are then stored
with their "done" marks in one write, so a pass of 150 reminders costs one fsync, not 150.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.cycle.letters import allocation_row, bracketed
from app.guarded import one_item
from core.clock import LONDON
from db.index import OpenIndex
from db.months import MonthRepo, stored_months
from mailer.dates import long_weekday_date
from core.letter import Letter
from workflows.calendar import month_deadline, month_name
from workflows.figures import tally
from workflows.reminders import Due, due_reminders, in_scope, notices_after_deadline

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.cycle")
# Months whose last deadline (the month's, or the latest agreed later date) passed longer ago than
# this get no more notices (a daemon down for weeks should not send month-old news).
NOTICE_WINDOW = timedelta(days=14)
# No agreed later date is this far after the month's deadline: older months are not even read.
LONGEST_AGREED_DELAY = timedelta(days=183)


def last_deadline(month: str, allocations: list[dict]) -> datetime:
    """The month's deadline, or the latest agreed later date among its allocations if that is later."""
    agreed = [datetime.fromisoformat(a["deadline"]) for a in allocations if a.get("deadline")]
    return max([month_deadline(month), *agreed])


def send_due_letters(ctx: Context) -> int:
    """Send every reminder and notice due now and not yet sent; returns how many letters were stored."""
    now, config = ctx.clock.now(), ctx.config
    calendar = ctx.calendar
    stored, index = 0, OpenIndex(ctx.store)
    people = ctx.people  # built from the whole roster: once a pass, not once a letter (~1.5 ms each)
    for month in stored_months(ctx.store):
        if now > month_deadline(month) + LONGEST_AGREED_DELAY + NOTICE_WINDOW:
            continue
        # The index knows each month's latest agreed later date: a settled month is not even read.
        agreed = index.latest_deadline(month)
        if now > max([month_deadline(month)] + ([datetime.fromisoformat(agreed)] if agreed else [])) + NOTICE_WINDOW:
            continue
        repo = MonthRepo(ctx.store, month)
        allocations = repo.allocations()
        # The final figures wait for the last agreed date, which may be weeks after the month's deadline.
        if now > last_deadline(month, allocations) + NOTICE_WINDOW:
            continue
        submissions = defaultdict(list)
        for submission in repo.submissions():
            submissions[submission["reference"]].append(submission)
        due = due_reminders(month, now, calendar, allocations, submissions,
                            ladder=config.reminder_working_days, hour=config.reminder_hour)
        due += notices_after_deadline(month, now, calendar, allocations, submissions, hour=config.reminder_hour,
                                      readers=list_readers(ctx, allocations))
        composed, keys = [], set()
        for item in due:
            if item.key in keys or ctx.ledger.was_done(month, item.key):
                continue
            keys.add(item.key)
            with one_item(ctx, "reminder or notice", f"{item.step} for {month} to {item.to}", key=item.key):
                composed.append((item, ctx.postman.compose(_letter(ctx, people, month, item, allocations,
                                                                     submissions))))
        if composed:
            # All of the month's letters and their "done" marks in one write (one fsync, not one per
            # letter): a crash before it leaves every one to send at the next pass, after it none.
            with ctx.store.transaction():
                ctx.postman.keep_all([letter for _, letter in composed])
                for item, _ in composed:
                    ctx.ledger.mark_done(month, item.key, now)
            for item, _ in composed:
                log.info("%s sent for %s to %s", item.step, month, item.to)
            stored += len(composed)
    return stored


def _letter(ctx: Context, people, month: str, due: Due, allocations, submissions) -> Letter:
    name = people.greeting(due.to)
    refs = [a["reference"] for a in due.allocations]
    deadline = month_deadline(month)
    common = {"person_name": name, "month_name": month_name(month), "deadline": deadline}
    if due.step in ("hos-not-counted", "final-figures"):
        return _list_letter(ctx, month, due, allocations, submissions, common)
    if due.step == "not-counted":
        return Letter(template="cycle/not_counted", to=[due.to], kind="not-counted", refs=refs,
                      subject=f"{bracketed(refs)} Not counted: your audits for {month_name(month)}",
                      context={**common, "items": [{**allocation_row(a), "status": a["status"]} for a in due.allocations]})
    today = ctx.clock.london_today() == deadline.astimezone(LONDON).date()
    when = "today" if today else f"by {long_weekday_date(deadline)}"
    return Letter(template="cycle/reminder", to=[due.to], kind=f"reminder-{due.step}", refs=refs,
                  subject=f"{bracketed(refs)} Reminder: audits due {when}",
                  context={**common, "step": due.step, "working_days_left": due.working_days_left,
                           "deadline_is_today": today,
                           "outstanding": [allocation_row(a) for a in due.allocations]})


# -- after the deadline: the lists that add up -----------------------------------------------------

def list_readers(ctx: Context, allocations: list[dict]) -> dict[str, str | None]:
    """Who gets a list, and of what: the Director all services (None), each Head of Service their service.

    A Head of Service named on allocations but without a service on the roster gets their own staff's ("").
    """
    readers: dict[str, str | None] = {a["head_of_service"]: "" for a in allocations if a.get("head_of_service")}
    readers |= {p.email: p.service or "" for p in ctx.roster.with_role("head_of_service")}
    readers[ctx.people.director] = None
    return readers


def _list_letter(ctx: Context, month, due: Due, allocations, submissions, common) -> Letter:
    """The Director's all-services list or a Head of Service's: every audit not completed on time, and the total."""
    readers = list_readers(ctx, allocations)
    service = readers.get(due.to, "")
    person = ctx.roster.get(due.to)
    service_name = "all services" if service is None else service or (person.service if person else "") or "your staff"
    theirs = [a for a in allocations if in_scope(a, due.to, service)]
    staff = defaultdict(list)
    for item in due.allocations:
        agreed = datetime.fromisoformat(item["deadline_at"]) if item["extended"] else None
        staff[item["auditor"]].append({**allocation_row(item), "status": item["status"], "agreed_until": agreed})
    names = {a["auditor"]: a.get("auditor_name", a["auditor"]) for a in allocations}
    _, overall = tally(theirs, submissions)
    final = due.step == "final-figures"
    what = "Final figures, audits not completed on time" if final else "Audits not completed by the deadline"
    return Letter(
        template="cycle/hos_not_counted", to=[due.to], kind=due.step,
        subject=f"{what}: {service_name}, {month_name(month)}",
        context={**common, "service": service_name, "final": final,
                 "staff": [{"name": names[a], "email": a, "items": items} for a, items in sorted(staff.items())],
                 "completion": {"allocated": overall.allocated, "exempt": overall.counts["exempt"],
                                "on_time": overall.counts["on_time"], "rate_percent": overall.rate,
                                "not_on_time": overall.allocated - overall.counts["exempt"] - overall.counts["on_time"]}})
