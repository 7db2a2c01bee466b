"""The scheduled job: the owner of each overdue remedial action is reminded, at most once a working day.

Derived from the stored actions and the ledger of reminders sent, so a daemon that was down sends
the day's reminder once when it returns, never twice.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import TYPE_CHECKING

from core.clock import month_of
from core.letter import Letter
from db.items import ItemRepo
from workflows import actions
from app.guarded import one_item

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.actions")


def remind_overdue_actions(ctx: Context) -> int:
    """Remind the owners of overdue actions not yet reminded today; returns how many letters were stored."""
    now, config = ctx.clock.now(), ctx.config
    calendar = ctx.calendar
    due = actions.overdue_reminders(ItemRepo(ctx.store).open_items(actions.KIND), now, calendar,
                                    config.after_deadline["digests"]["qa_hour"])
    stored, month = 0, month_of(now)
    for reminder in due:
        if ctx.ledger.was_done(month, reminder.key):
            continue
        with one_item(ctx, "overdue-action reminder", reminder.record["reference"], key=reminder.key):
            with ctx.store.transaction():
                ctx.postman.post(_letter(ctx, reminder))
                ctx.ledger.mark_done(month, reminder.key, now)
            log.info("overdue reminder sent for %s", reminder.record["reference"])
            stored += 1
    return stored


def _letter(ctx: Context, reminder: actions.OverdueReminder) -> Letter:
    record, people = reminder.record, ctx.people
    owner = record["owner"]
    return Letter(
        template="actions/overdue", to=[owner], kind="action-overdue",  # the QA team sees it in its digest
        refs=[record["reference"], record["audit"]],
        subject=f"[{record['reference']}] Overdue: remedial action for case {record['case_ref']}",
        context={"person_name": people.first_name(owner), "reference": record["reference"],
                 "audit": record["audit"], "case_ref": record["case_ref"], "due": date.fromisoformat(record["due"]),
                 "working_days_late": reminder.working_days_late, "details": record["details"]})
