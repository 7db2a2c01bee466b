"""Reading one month's records out of the store for the report: plain dicts in, nothing written.

Moderations and remedial actions are read through their kinds; a store from before they existed
simply has none, and the report says so with zeros.
Exemption requests are filed in the month they were made, which may be months before the audit
month they cover, so the months before are searched too.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from db.items import ItemRepo
from db.months import MonthRepo, stored_months
from db.month_files import stored_months_back
from core.reference import Reference
from workflows import actions as action_kind
from workflows import moderation as moderation_kind
from workflows import exemptions as exemption_kind
from workflows.items import ItemKind
from workflows.exemption_reasons import MAX_MONTHS_AHEAD, add_months
from workflows.report import TREND_MONTHS, MonthRecords
from workflows.results import Targets

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

# A moderation or remedial action may be filed in the month it was raised, which for a late or
# extended submission is after the audit month: those months are read too, and filtered by audit.
MONTHS_AFTER = 3



def month_records(ctx: Context, month: str) -> MonthRecords:
    """The allocations, submissions, moderations, exemptions and actions of one audit month."""
    stored = set(stored_months(ctx.store))
    if month not in stored:
        return MonthRecords(month, [])
    repo, items = MonthRepo(ctx.store, month), ItemRepo(ctx.store)
    later = [add_months(month, n) for n in range(MONTHS_AFTER + 1)]
    moderations = [m for m in _rows(items, moderation_kind.KIND, later, stored) if _about(m, month)]
    actions = [a for a in _rows(items, action_kind.KIND, later, stored) if _about(a, month)]
    exemptions = [e for e in items.all(exemption_kind.KIND, request_months(ctx, month))
                  if month in e.get("months", [])]
    return MonthRecords(month, repo.allocations(), repo.submissions(), moderations, exemptions, actions)


def request_months(ctx: Context, month: str) -> list[str]:
    """The stored months an exemption request covering `month` can be filed in: it names at most
    MAX_MONTHS_AHEAD months after the one it was made in, so years of older months need not be read."""
    return stored_months_back(ctx.store, month, MAX_MONTHS_AHEAD)


def earlier_records(ctx: Context, month: str) -> list[MonthRecords]:
    """The records of up to 11 stored months before `month` that had audits, for the trend."""
    earlier = [m for m in stored_months(ctx.store) if m < month][-(TREND_MONTHS - 1):]
    return [month_records(ctx, m) for m in earlier]


def names(ctx: Context) -> dict[str, str]:
    """Each roster address's full name (staff only: there are no children on the roster)."""
    return {email: person.name for email, person in ctx.people.by_email.items()}


def targets(ctx: Context) -> Targets:
    """The targets from `[targets]` in the configuration."""
    values = ctx.config.after_deadline.get("targets", {})
    return Targets(good_or_better_min=float(values.get("good_or_better_min", 40.0)),
                   inadequate_max=float(values.get("inadequate_max", 12.0)))


def _about(record: dict, month: str) -> bool:
    audit = Reference.read(record.get("audit"))
    return audit is not None and audit.month == month


def _rows(items: ItemRepo, kind: ItemKind, months: list[str], stored: set[str]) -> list[dict]:
    return items.all(kind, [m for m in months if m in stored])
