"""The scheduled job: remind a silent approver, then tell the QA team (and the delegate). Never decide."""
import logging
from datetime import datetime

from app.cycle.letters import qa_team
from app.guarded import one_item
from core.clock import LONDON
from app.requests.people import approvers_of, first_name, name_of
from db.requests import RequestRepo
from core.letter import Letter
from workflows import exemptions, slippage
from workflows.approvals import barred_from_deciding, chases_due
from workflows.calendar import WorkingCalendar

log = logging.getLogger("auditmail.approvals")


def chase_waiting_approvers(ctx) -> int:
    """Send each reminder and escalation that is due and not yet sent; returns how many."""
    now, config = ctx.clock.now(), ctx.config
    calendar = WorkingCalendar(config.closure_days)
    repo, sent = RequestRepo(ctx.store), 0
    for record in repo.open_requests("EXM") + repo.open_requests("SLP"):
        reminded = ctx.ledger.done_at(record["month"], f"chase:reminder:{record['reference']}:{record['state']}")
        for chase in chases_due(record["reference"], record["state"], datetime.fromisoformat(record["waiting_since"]),
                                now, calendar, remind_after=config.remind_after_working_days,
                                escalate_after=config.escalate_after_working_days, hour=config.reminder_hour,
                                reminded_on=reminded.astimezone(LONDON).date() if reminded else None):
            if ctx.ledger.was_done(record["month"], chase.key):
                continue
            with one_item(ctx, "approval chase", f"{chase.step} for {record['reference']}", key=chase.key):
                with ctx.store.transaction():
                    for letter in _letters(ctx, record, chase):
                        ctx.postman.post(letter)
                    ctx.ledger.mark_done(record["month"], chase.key, now)
                log.info("%s sent for %s", chase.step, record["reference"])
                sent += 1
    return sent


def _letters(ctx, record: dict, chase) -> list[Letter]:
    reference = record["reference"]
    is_exemption = reference.startswith("EXM")
    kind = "exemption" if is_exemption else "slippage"
    options = exemptions.OPTIONS[exemptions.State(record["state"])] if is_exemption else slippage.OPTIONS
    requester = record["requester"] if is_exemption else record["auditor"]
    approvers = approvers_of(ctx, record)
    common = {"reference": reference, "kind": kind, "requester_name": name_of(ctx, requester),
              "waiting_working_days": chase.waiting_working_days, "options": options}
    if chase.step == "reminder":
        barred = barred_from_deciding(record)
        # Copied to the approver's delegate: our mail carries X-Auto-Response-Suppress, so an approver
        # away on leave usually sends no out-of-office to tell us; the delegate can step in.
        return [Letter(template="approvals/reminder", to=[a], cc=[d for d in [ctx.config.delegates.get(a)] if d and d not in barred],
                       kind="approval-reminder", refs=[reference],
                       subject=f"[{reference}] Reminder: your decision is needed, please reply {options}",
                       context={**common, "person_name": first_name(ctx, a)}) for a in approvers]
    # A delegate who made the request or took an earlier step of it cannot decide it: not invited.
    barred = barred_from_deciding(record)
    delegates = [ctx.config.delegates[a] for a in approvers
                 if a in ctx.config.delegates and ctx.config.delegates[a] not in barred]
    to = list(dict.fromkeys(qa_team(ctx) + delegates))
    return [Letter(template="approvals/escalation", to=to, kind="approval-escalation", refs=[reference],
                   subject=f"[{reference}] Still waiting for a decision after {chase.waiting_working_days} working days",
                   context={**common, "salutation": "Colleagues",
                            "approver_name": ", ".join(name_of(ctx, a) for a in approvers)})]
