"""The scheduled job: each digest goes once on its day, and only with something to say.

The QA team's digest is due at `digests.qa_hour` each working day; each Head of Service's on the
first working day of the week on or after `digests.hos_weekday`, at `digests.hos_hour`. A digest is
derived from stored state and keyed in the ledger by its day, so a daemon down at 08:00 sends it
once when it is back that day, and never twice. A day with nothing to say is marked done too, so
the next digest covers everything since.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from app.digests.gather import qa_facts, waiting_items
from app.plans import load_audits
from core.clock import LONDON
from core.letter import Letter
from db.items import ItemRepo
from db.months import MonthRepo
from mailer.dates import long_weekday_date
from workflows import actions
from workflows.calendar import WorkingCalendar, month_name
from workflows.digests import Section, build_hos_digest, build_qa_digest
from workflows.exemptions import add_months
from workflows.reminders import at_hour
from app.guarded import one_item

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.digests")
QA_KEY = "digest:qa:{day}"
HOS_KEY = "digest:hos:{email}:{day}"
LOOK_BACK_DAYS = 31  # how far back the previous QA digest is looked for


def send_digests(ctx: Context) -> int:
    """Send the digests due now and not yet sent today; returns how many letters were stored."""
    now, settings = ctx.clock.now(), ctx.config.after_deadline["digests"]
    calendar, today = ctx.calendar, ctx.clock.london_today()
    if not calendar.is_working_day(today):
        return 0
    sent = 0
    if now >= at_hour(today, settings["qa_hour"]):
        sent += _qa_digest(ctx, calendar, now)
    if today == hos_day(today, settings["hos_weekday"], calendar) and now >= at_hour(today, settings["hos_hour"]):
        sent += _hos_digests(ctx, calendar, now)
    return sent


def hos_day(today, weekday: int, calendar: WorkingCalendar):
    """This week's day for the Heads of Service's digest: the first working day on or after `weekday`."""
    day = today - timedelta(days=today.weekday() - weekday)
    while not calendar.is_working_day(day) and day.weekday() < 5:
        day += timedelta(days=1)
    return day


def _qa_digest(ctx: Context, calendar: WorkingCalendar, now: datetime) -> int:
    today = now.astimezone(LONDON).date()
    key, ledger_month = QA_KEY.format(day=today.isoformat()), today.strftime("%Y-%m")
    if ctx.ledger.was_done(ledger_month, key):
        return 0
    people = ctx.people
    since = previous_digest(ctx, today) or at_hour(calendar.working_days_before(today - timedelta(days=1), 0),
                                                    ctx.config.after_deadline["digests"]["qa_hour"])
    sections = build_qa_digest(qa_facts(ctx, people, since, now), people, calendar)
    to = people.in_roster_order("qa")
    with ctx.store.transaction():
        if sections and to:
            ctx.postman.post(Letter(
                template="digests/qa", to=to, kind="digest-qa", subject=f"QA daily digest: {long_weekday_date(today)}",
                context={"salutation": "Colleagues", "since": since, "sections": _as_context(sections)}))
        ctx.ledger.mark_done(ledger_month, key, now)
    log.info("QA digest for %s: %s", today,
             f"{len(sections)} section{'' if len(sections) == 1 else 's'}" if sections else "nothing to say, not sent")
    return int(bool(sections and to))


def previous_digest(ctx: Context, today) -> datetime | None:
    """When the last QA digest was made (sent, or found to have nothing to say), within LOOK_BACK_DAYS."""
    for back in range(1, LOOK_BACK_DAYS + 1):
        day = today - timedelta(days=back)
        at = ctx.ledger.done_at(day.strftime("%Y-%m"), QA_KEY.format(day=day.isoformat()))
        if at:
            return at
    return None


def _hos_digests(ctx: Context, calendar: WorkingCalendar, now: datetime) -> int:
    today, people, sent = now.astimezone(LONDON).date(), ctx.people, 0
    month = ledger_month = today.strftime("%Y-%m")
    due = [hos for hos in people.with_role("head_of_service")
           if not ctx.ledger.was_done(ledger_month, HOS_KEY.format(email=hos, day=today.isoformat()))]
    if not due:
        return 0  # every pass after the first that day: nothing to gather
    if MonthRepo(ctx.store, month).issued_at() is None:
        month = add_months(month, -1)  # early in a month, before its audits are issued: last month's
    audits = load_audits(ctx, [month])
    allocations, submissions = audits.allocations, dict(audits.submissions)
    waiting = waiting_items(ctx, people)
    open_actions = ItemRepo(ctx.store).open_items(actions.KIND)
    for hos in due:
        key = HOS_KEY.format(email=hos, day=today.isoformat())
        staff = [a for a in allocations if a.get("head_of_service") == hos]
        sections = build_hos_digest(month, staff, submissions, [w for w in waiting if hos in w.answerers],
                                    [a for a in open_actions if a["owner"] == hos], people, calendar, now)
        person = people.get(hos)
        with one_item(ctx, "Head of Service's digest", hos, key=key):
            with ctx.store.transaction():
                if sections:
                    ctx.postman.post(Letter(
                        template="digests/hos", to=[hos], kind="digest-hos",
                        subject=f"Weekly digest for {person.service or person.name}: audits for {month_name(month)}",
                        context={"person_name": person.first_name, "service": person.service or "your staff",
                                 "month_name": month_name(month), "sections": _as_context(sections)}))
                ctx.ledger.mark_done(ledger_month, key, now)
            sent += bool(sections)
    return sent


def _as_context(sections: list[Section]) -> list[dict]:
    return [{"title": s.title, "rows": list(s.rows), "more": s.more} for s in sections]
