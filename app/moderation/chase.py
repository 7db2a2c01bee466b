"""The scheduled job: remind a silent moderator, then tell the QA team; the approvals ladder, never a timeout.

Mirrors the approvals' chase (`app/requests/waiting.py`), with the same ledger keys per item and state,
so after downtime a moderator is reminded once, and told off to nobody before they were reminded.
"""
import logging
from datetime import datetime

from app.moderation.letters import chase_letters
from core.clock import LONDON
from core.reference import month_of_reference
from db.items import ItemRepo
from workflows.approvals import chases_due
from workflows.calendar import WorkingCalendar
from workflows.moderation import KIND

log = logging.getLogger("auditmail.moderation")


def chase_moderators(ctx) -> int:
    """Send each moderation reminder and escalation that is due and not yet sent; returns how many."""
    now, config = ctx.clock.now(), ctx.config
    calendar, sent = WorkingCalendar(config.closure_days), 0
    for record in ItemRepo(ctx.store).open_items(KIND):
        month, reference = month_of_reference(record["reference"]), record["reference"]
        reminded = ctx.ledger.done_at(month, f"chase:reminder:{reference}:{record['state']}")
        for chase in chases_due(reference, record["state"], datetime.fromisoformat(record["waiting_since"]), now,
                                calendar, remind_after=config.remind_after_working_days,
                                escalate_after=config.escalate_after_working_days, hour=config.reminder_hour,
                                reminded_on=reminded.astimezone(LONDON).date() if reminded else None):
            if ctx.ledger.was_done(month, chase.key):
                continue
            with ctx.store.transaction():
                for letter in chase_letters(ctx, record, chase.step, chase.waiting_working_days):
                    ctx.postman.post(letter)
                ctx.ledger.mark_done(month, chase.key, now)
            log.info("moderation %s sent for %s", chase.step, reference)
            sent += 1
    return sent
