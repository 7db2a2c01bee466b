"""The scheduled job: remind a silent answerer, then tell the QA team (and the delegate). Never decide.

It loops over every kind the registry chases (`ItemKind.chased`), so a new kind of request is
chased without a change here.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING

from app.guarded import one_item
from core.clock import LONDON
from core.letter import Letter
from db.items import ItemRepo
from workflows.approvals import barred_from_deciding, chases_due
from workflows.calendar import WorkingCalendar
from workflows.items import ItemKind, People
from workflows.registry import chased, month_of_item

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.approvals")


def chase_waiting_approvers(ctx: Context) -> int:
    """Send each reminder and escalation that is due and not yet sent; returns how many."""
    calendar, repo, sent = ctx.calendar, ItemRepo(ctx.store), 0
    for kind in chased():
        for record in repo.open_items(kind):
            sent += chase(ctx, kind, record, calendar)
    return sent


def chase(ctx: Context, kind: ItemKind, record: dict, calendar: WorkingCalendar) -> int:
    """Send the chase due now for one waiting item, if not yet sent; returns how many were sent."""
    now, config, month, sent = ctx.clock.now(), ctx.config, month_of_item(record), 0
    reminded = ctx.ledger.done_at(month, f"chase:reminder:{record['reference']}:{record['state']}")
    for due in chases_due(record["reference"], record["state"], datetime.fromisoformat(record["waiting_since"]),
                          now, calendar, remind_after=config.remind_after_working_days,
                          escalate_after=config.escalate_after_working_days, hour=config.reminder_hour,
                          reminded_on=reminded.astimezone(LONDON).date() if reminded else None):
        if ctx.ledger.was_done(month, due.key):
            continue
        # One chase that fails (a letter that cannot be composed) never stops the others: logged, noted, retried.
        with one_item(ctx, f"{kind.name} chase", f"{due.step} for {record['reference']}", key=due.key):
            with ctx.store.transaction():
                for letter in _letters(kind, record, due, ctx.people):
                    ctx.postman.post(letter)
                ctx.ledger.mark_done(month, due.key, now)
            log.info("%s sent for %s", due.step, record["reference"])
            sent += 1
    return sent


def _letters(kind: ItemKind, record: dict, chase, people: People) -> list[Letter]:
    if kind.chase_letters is not None:
        return kind.chase_letters(record, chase.step, chase.waiting_working_days, people)
    reference, options = record["reference"], kind.options(record)
    approvers, barred = kind.answerers(record, people), barred_from_deciding(record)
    requester = record.get("requester") or record.get("auditor")
    common = {"reference": reference, "kind": kind.name, "requester_name": people.name(requester),
              "waiting_working_days": chase.waiting_working_days, "options": options}
    if chase.step == "reminder":
        # Copied to the approver's delegate: our mail carries X-Auto-Response-Suppress, so an approver
        # away on leave usually sends no out-of-office to tell us; the delegate can step in.
        return [Letter(template="approvals/reminder", to=[a],
                       cc=[d for d in [people.delegates.get(a)] if d and d not in barred],
                       kind="approval-reminder", refs=[reference],
                       subject=f"[{reference}] Reminder: your decision is needed, please reply {options}",
                       context={**common, "person_name": people.greeting(a)}) for a in approvers]
    # A delegate who made the request or took an earlier step of it cannot decide it: not invited.
    delegates = [people.delegates[a] for a in approvers if a in people.delegates and people.delegates[a] not in barred]
    to = list(dict.fromkeys(people.in_roster_order("qa") + delegates))
    return [Letter(template="approvals/escalation", to=to, kind="approval-escalation", refs=[reference],
                   subject=f"[{reference}] Still waiting for a decision after {chase.waiting_working_days} working days",
                   context={**common, "salutation": "Colleagues",
                            "approver_name": ", ".join(people.name(a) for a in approvers)})]
