"""The scheduled job: moderation of a month closes a few working days into the next month.

What is still waiting then becomes "unmoderated": reported as such, never counted as agreed. Each
moderator who still had some is thanked and told nothing more is needed. Done once per month (ledger).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import TYPE_CHECKING

from app.moderation.letters import closed_letter
from app.reports.build import closes_on
from core.reference import month_of_reference
from db.items import ItemRepo
from workflows import moderation
from workflows.moderation import KIND

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.moderation")


def close_moderation(ctx: Context) -> int:
    """Close each month whose moderation closing day has come; returns how many moderations closed."""
    today, now = ctx.clock.london_today(), ctx.clock.now()
    items, waiting = ItemRepo(ctx.store), defaultdict(list)
    for record in items.open_items(KIND):
        waiting[month_of_reference(record["reference"])].append(record)
    closed = 0
    for month, records in sorted(waiting.items()):
        # Closed from the start of the closing day, so that day's report shows the month as it stands.
        if today < closes_on(ctx, month):
            continue
        by_moderator = defaultdict(list)
        with ctx.store.transaction():
            for record in records:
                change = moderation.closed(record, now, ctx.config.mailbox_address)
                items.update(change.reference, dict(change.changes), dict(change.event))
                by_moderator[record["moderator"]].append(record)
            for moderator, theirs in sorted(by_moderator.items()):
                ctx.postman.post(closed_letter(ctx, moderator, month, theirs))
            if not ctx.ledger.was_done(month, f"moderation-closed:{month}"):
                ctx.ledger.mark_done(month, f"moderation-closed:{month}", now)
        log.info("moderation of %s closed: %d unmoderated", month, len(records))
        closed += len(records)
    return closed
