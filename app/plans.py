"""Applying a step's plan: the one place a decision of any kind of item becomes stored state and letters.

It runs inside the caller's transaction (the message's, or a scheduled job's), so the state changes,
the letters and the handled mark become durable together or not at all.
"""
from app.context import Context
from app.handlers import threaded_under
from app.router import Decision
from core.reference import month_of_reference
from db.items import ItemRepo
from db.months import MonthRepo
from inbox.parse import ParsedMail
from workflows.items import Audits, ItemKind, Plan, with_audits


def apply_plan(ctx: Context, plan: Plan, mail: ParsedMail | None = None) -> Decision:
    """Store what `plan` changes and return its letters (answers threaded under `mail`) as a Decision."""
    items = ItemRepo(ctx.store)
    for record in plan.new_items:
        items.add(record)
    for change in plan.changes:
        items.update(change.reference, dict(change.changes), dict(change.event) if change.event else None)
    for reference, changes in plan.allocation_changes:
        MonthRepo(ctx.store, month_of_reference(reference)).update_allocation(reference, changes)
    for reference, received_at, changes in plan.submission_changes:
        MonthRepo(ctx.store, month_of_reference(reference)).update_submission(reference, received_at, changes)
    answers = [threaded_under(mail, letter) for letter in plan.answers] if mail else list(plan.answers)
    return Decision(outcome=plan.outcome, letters=answers + list(plan.letters), triage=list(plan.triage),
                    refs=tuple(plan.refs))


def as_step_reads(ctx: Context, kind: ItemKind, record: dict) -> dict:
    """`record` with what its kind's steps read besides it: the audits of the months it names."""
    if kind.audit_months is None:
        return record
    return with_audits(record, load_audits(ctx, kind.audit_months(record)))


def load_audits(ctx: Context, months: list[str]) -> Audits:
    """The allocations of `months` (in that order) and the submissions for each, as plain data."""
    allocations, submissions = [], {}
    for month in dict.fromkeys(months):
        repo = MonthRepo(ctx.store, month)
        allocations += repo.allocations()
        for submission in repo.submissions():
            submissions.setdefault(submission["reference"], []).append(submission)
    return Audits(tuple(allocations), submissions)
