"""The scheduled job: each audit chosen for moderation gets its moderator's request the same day.

Derived from the month's submissions and the moderations table, never from a queue: an audit is
asked about once (its MOD item is the mark), a re-submission of an audit still awaiting moderation
updates that moderation instead of asking twice, and a daemon that was down asks when it returns.
"""
import logging
import secrets
from collections import defaultdict

from app.moderation.letters import request_letter
from db.items import ItemRepo
from db.months import MonthRepo, stored_months
from workflows import moderation
from workflows.calendar import WorkingCalendar, moderation_closes
from workflows.moderation import KIND, State

log = logging.getLogger("auditmail.moderation")


def request_moderations(ctx) -> int:
    """Ask for every moderation due and not yet asked for, in each month still open; returns how many letters."""
    calendar, today = WorkingCalendar(ctx.config.closure_days), ctx.clock.london_today()
    settings = ctx.config.after_deadline["moderation"]
    sent = 0
    for month in stored_months(ctx.store):
        if today >= moderation_closes(month, calendar, settings["close_after_working_days"]):
            continue  # closed: the month's report has gone out with what was moderated by then
        sent += _month(ctx, month, settings["sample_percent"])
    return sent


def _month(ctx, month: str, percent: float) -> int:
    repo, items = MonthRepo(ctx.store, month), ItemRepo(ctx.store)
    by_audit = defaultdict(list)
    for submission in repo.submissions():
        by_audit[submission["reference"]].append(submission)
    if not by_audit:
        return 0
    existing = {r["audit"]: r for r in items.all(KIND, [month])}
    sent, seed = 0, None
    for audit in sorted(by_audit):
        latest = moderation.latest_counted(by_audit[audit])
        if latest is None:
            continue
        record = existing.get(audit)
        if record is not None:
            sent += _resubmitted(ctx, repo, record, latest)
            continue
        if seed is None:
            # Made once, the first time the month needs it, and kept with the month: a replay draws the same sample.
            with ctx.store.transaction():
                seed = repo.seed("moderation", lambda: secrets.token_hex(16))
        because = moderation.selected_because(latest["grade"], seed, audit, percent)
        if because:
            sent += _ask(ctx, month, repo.allocation(audit), latest, because)
    return sent


def _ask(ctx, month: str, allocation: dict, submission: dict, because: str) -> int:
    items, now = ItemRepo(ctx.store), ctx.clock.now()
    # Open moderations of any month, and this month's answered ones, each counted once.
    records = {r["reference"]: r for r in items.open_items(KIND) + items.all(KIND, [month])}
    load = moderation.load_of(records.values(), month)
    moderator = moderation.choose_moderator(allocation["auditor"], allocation.get("service", ""), ctx.people, load)
    if moderator is None:
        return _nobody(ctx, month, allocation["reference"], now)
    with ctx.store.transaction():
        reference = items.next_reference(KIND, month)
        record = moderation.new_moderation(reference, allocation, submission, moderator, because, now)
        items.add(record)
        ctx.postman.post(request_letter(ctx, record, allocation, submission))
    log.info("%s: moderation of %s asked of %s (%s)", reference, allocation["reference"], moderator, because)
    return 1


def _resubmitted(ctx, repo: MonthRepo, record: dict, latest: dict) -> int:
    # The moderator looks at the grade the audit has now; one request, updated, never a second one.
    if record["state"] != State.AWAITING_MODERATOR or latest["received_at"] <= record["submitted_at"]:
        return 0
    items, now = ItemRepo(ctx.store), ctx.clock.now()
    allocation = repo.allocation(record["audit"])
    change = moderation.resubmitted(record, latest, now)
    with ctx.store.transaction():
        items.update(change.reference, dict(change.changes), dict(change.event))
        ctx.postman.post(request_letter(ctx, items.get(record["reference"]), allocation, latest, updated=True))
    return 1


def _nobody(ctx, month: str, audit: str, now) -> int:
    # Nobody but the auditor moderates: the QA team is told once, and the audit is asked about when
    # the roster has a moderator who may take it.
    key = f"moderation-no-moderator:{audit}"
    if not ctx.ledger.was_done(month, key):
        with ctx.store.transaction():
            ctx.ledger.add_triage(month, {"at": now.isoformat(), "key": key,
                                          "note": f"{audit}: chosen for moderation, but the roster has no "
                                                  "moderator other than its auditor"})
            ctx.ledger.mark_done(month, key, now)
    return 0
