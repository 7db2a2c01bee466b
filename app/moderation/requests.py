"""The scheduled job: each audit chosen for moderation gets its moderator's request the same day.

Derived from the month's submissions and the moderations table, never from a queue: an audit is
asked about once (its MOD item is the mark), a re-submission of an audit still awaiting moderation
updates that moderation instead of asking twice, and a daemon that was down asks when it returns.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from app.moderation.letters import request_letter
from app.reports.build import closes_on
from db.items import ItemRepo
from db.months import MonthRepo, stored_months
from workflows import moderation
from workflows.moderation import KIND, State
from app.guarded import one_item

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.moderation")


def request_moderations(ctx: Context) -> int:
    """Ask for every moderation due and not yet asked for, in each month still open; returns how many letters."""
    today, settings = ctx.clock.london_today(), ctx.config.after_deadline["moderation"]
    sent = 0
    for month in open_months(ctx, today):
        sent += _month(ctx, month, settings["sample_percent"])
    return sent


def open_months(ctx: Context, today) -> list[str]:
    """The months whose moderation has not closed by `today`, oldest first.

    A later month closes later, so the walk goes newest first and stops at the first closed one
    (its report has gone out with what was moderated by then): years of history are not looked at.
    """
    still_open = []
    for month in reversed(stored_months(ctx.store)):
        if today >= closes_on(ctx, month):
            break
        still_open.append(month)
    return still_open[::-1]


def _month(ctx: Context, month: str, percent: float) -> int:
    # The month's counted submissions are walked in the order the mailbox received them, whatever
    # passes they were handled in: a daemon killed half-way through a busy morning numbers, assigns
    # and words its requests exactly as one that never stopped.
    repo, items = MonthRepo(ctx.store, month), ItemRepo(ctx.store)
    counted = sorted((s for s in repo.submissions() if s.get("counts")),
                     key=lambda s: (s["received_at"], s.get("message_id") or "", s["reference"]))
    if not counted:
        return 0
    existing = {r["audit"]: r for r in items.all(KIND, [month])}
    sent, seed, moderations = 0, None, None
    for submission in counted:
        audit = submission["reference"]
        record = existing.get(audit)
        if record is not None:
            sent += _resubmitted(ctx, repo, record, submission)
            existing[audit] = items.get(record["reference"])
            if moderations is not None:
                moderations[record["reference"]] = existing[audit]
            continue
        if seed is None:
            # Made once, the first time the month needs it, and kept with the month: a replay draws the same sample.
            with ctx.store.transaction():
                seed = repo.seed("moderation", lambda: moderation.new_seed(month, ctx.clock.now()))
        because = moderation.selected_because(submission["grade"], seed, audit, percent)
        if not because:
            continue
        # One request that fails (a letter that cannot be composed) never stops the others.
        if moderations is None:
            # Open moderations of any month, and this month's answered ones, each counted once: read
            # once for the month's requests, and kept up to date as each is made.
            moderations = {r["reference"]: r for r in items.open_items(KIND) + items.all(KIND, [month])}
        with one_item(ctx, "moderation request", audit, key=f"moderation-request:{audit}"):
            asked = _ask(ctx, month, repo.allocation(audit), submission, because, moderations)
            if asked:
                existing[audit] = asked
                sent += 1
    return sent


def _ask(ctx: Context, month: str, allocation: dict, submission: dict, because: str,
         moderations: dict[str, dict]) -> dict | None:
    """Ask for one audit's moderation; `moderations` (what decides each moderator's load) gains the new one."""
    items, now = ItemRepo(ctx.store), ctx.clock.now()
    load = moderation.load_of(moderations.values(), month)
    moderator = moderation.choose_moderator(allocation["auditor"], allocation.get("service", ""), ctx.people, load)
    if moderator is None:
        _nobody(ctx, month, allocation["reference"], now)
        return None
    with ctx.store.transaction():
        reference = items.next_reference(KIND, month)
        record = moderation.new_moderation(reference, allocation, submission, moderator, because, now)
        items.add(record)
        ctx.postman.post(request_letter(ctx, record, allocation, submission))
    moderations[reference] = record
    log.info("%s: moderation of %s asked of %s (%s)", reference, allocation["reference"], moderator, because)
    return record


def _resubmitted(ctx: Context, repo: MonthRepo, record: dict, latest: dict) -> int:
    # The moderator looks at the grade the audit has now; one request, updated, never a second one.
    if record["state"] != State.AWAITING_MODERATOR or latest["received_at"] <= record["submitted_at"]:
        return 0
    items, now = ItemRepo(ctx.store), ctx.clock.now()
    allocation = repo.allocation(record["audit"])
    change = moderation.resubmitted(record, latest, now)
    same_grade = latest["grade"] == record["original_grade"]
    with ctx.store.transaction():
        items.update(change.reference, dict(change.changes), dict(change.event))
        if not same_grade:  # the same grade sent again changes nothing the moderator is looking at
            ctx.postman.post(request_letter(ctx, items.get(record["reference"]), allocation, latest, updated=True))
    return 0 if same_grade else 1


def _nobody(ctx: Context, month: str, audit: str, now) -> None:
    # Nobody but the auditor moderates: the QA team is told once, and the audit is asked about when
    # the roster has a moderator who may take it.
    key = f"moderation-no-moderator:{audit}"
    if not ctx.ledger.was_done(month, key):
        with ctx.store.transaction():
            ctx.ledger.add_triage(month, {"at": now.isoformat(), "key": key,
                                          "note": f"{audit}: chosen for moderation, but the roster has no "
                                                  "moderator other than its auditor"})
            ctx.ledger.mark_done(month, key, now)
