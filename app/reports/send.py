"""Sending the monthly QA report: on demand (`report --send`), and once when moderation closes.

The job is derived from the calendar and the ledger, as every scheduled letter is: at 09:00 London
on the day moderation closes it sends the report once and marks it done, so a daemon that was down
then sends it when it returns (within a fortnight; later news is stale), never twice.
"""
from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from app.director_letter import propose_director_letter
from app.reports.build import closes_on, monthly_report, report_letter
from core.clock import LONDON
from db.months import MonthRepo, stored_months
from app.guarded import one_item

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.report")
SENT = "qa-report"               # the ledger key of the report sent when moderation closed
SENT_EARLY = "qa-report:early"   # one sent on request before then (the one at close still goes)
SEND_AT = time(9, 0)
STALE_AFTER = timedelta(days=14)


def recipients(ctx: Context) -> list[str]:
    """The QA team and the Director, each once."""
    people = ctx.people
    return list(dict.fromkeys([*people.qa_team, people.director]))


def due_at(ctx: Context, month: str) -> datetime:
    """09:00 London on the working day moderation of `month` closes."""
    return datetime.combine(closes_on(ctx, month), SEND_AT, tzinfo=LONDON)


def send_report(ctx: Context, month: str) -> str | None:
    """Store the month's report for sending to the QA team and the Director; its Message-ID.

    Sent on request at or after the time the job would send it, it counts as that one. The report
    that closes the month also brings the Director the draft letter to all staff, drafted from its
    figures, in the same transaction (once per month: a second call finds the draft there).
    """
    report = monthly_report(ctx, month)
    now = ctx.clock.now()
    key = SENT if now >= due_at(ctx, month) else SENT_EARLY
    with ctx.store.transaction():
        message_id = ctx.postman.post(report_letter(ctx, month, report, recipients(ctx)))
        if key == SENT:
            propose_director_letter(ctx, month, report.trend, moderated=report.moderation.moderated)
        ctx.ledger.mark_done(month, key, now)
    log.info("monthly QA report for %s stored for sending (%s)", month, key)
    return message_id


def send_when_moderation_closes(ctx: Context) -> int:
    """The scheduled job: each month whose moderation closed today (by 09:00) gets its report once."""
    now, sent = ctx.clock.now(), 0
    for month in _recent_months(ctx, now):
        when = due_at(ctx, month)
        if not when <= now < when + STALE_AFTER:
            continue
        if ctx.ledger.was_done(month, SENT) or not MonthRepo(ctx.store, month).allocations():
            continue
        with one_item(ctx, "monthly QA report", month, key=f"{SENT}:{month}"):
            send_report(ctx, month)
            sent += 1
    return sent


def _recent_months(ctx: Context, now: datetime) -> list[str]:
    """The stored months whose report is not yet stale, oldest first: a later month's report is due later,
    so the walk goes newest first and stops at the first stale one, never looking at years of history."""
    recent = []
    for month in reversed(stored_months(ctx.store)):
        if now >= due_at(ctx, month) + STALE_AFTER:
            break
        recent.append(month)
    return recent[::-1]
