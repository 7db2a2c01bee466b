"""The stored records a digest is built from: submissions, items of every kind, the outbox, the triage list.

Every kind of item comes from the registry, so a new kind shows in the digests with no change here.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.clock import month_of
from db.items import ItemRepo
from db.months import MonthRepo, stored_months
from db.outbox import OutboxRepo
from workflows import actions
from workflows.approvals import DECISIONS
from workflows.digests import QaFacts, Waiting
from workflows.exemptions import add_months
from workflows.items import People
from workflows.registry import KINDS, waiting_kinds

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

# Items and submissions are filed in the month their reference names; a late submission or a
# decision can come a while after. Months further back than this are not read for "since" news.
LOOK_BACK_MONTHS = 3


def qa_facts(ctx: Context, people: People, since: datetime, now: datetime) -> QaFacts:
    """Everything the QA team's digest needs, for what happened from `since` to `now`."""
    months = recent_months(ctx, since)
    facts = QaFacts(since=since, now=now, waiting=waiting_items(ctx, people), mailbox=ctx.config.mailbox_address,
                    set_aside=OutboxRepo(ctx.store).set_aside_letters())
    for month in months:
        facts.submissions += [s for s in MonthRepo(ctx.store, month).submissions()
                              if _between(s["received_at"], since, now)]
    facts.submissions.sort(key=lambda s: (s["received_at"], s["reference"]))
    items = ItemRepo(ctx.store)
    for kind in KINDS.values():
        for record in items.all(kind, months):
            facts.decided += [{"reference": record["reference"], "kind": kind.name, "action": e["action"],
                               "by": e["by"], "at": e["at"]}
                              for e in record.get("history", [])
                              if e["action"] in DECISIONS and _between(e["at"], since, now)]
    facts.decided.sort(key=lambda d: (d["at"], d["reference"]))
    recent = {a["reference"]: a for a in items.all(actions.KIND, months) if _between(a["raised_at"], since, now)}
    recent.update({a["reference"]: a for a in items.open_items(actions.KIND)})
    facts.actions = sorted(recent.values(), key=lambda a: a["reference"])
    for month in sorted({month_of(since), month_of(now)}):
        facts.triage += [t for t in ctx.ledger.triage(month) if _between(t["at"], since, now)]
    facts.triage.sort(key=lambda t: t["at"])
    return facts


def waiting_items(ctx: Context, people: People) -> list[Waiting]:
    """Every item of every kind answered by reply that waits for someone, with who and since when."""
    waiting, items = [], ItemRepo(ctx.store)
    for kind in waiting_kinds():
        for record in items.open_items(kind):
            answerers = kind.answerers(record, people)
            history = record.get("history") or [{}]
            since = record.get("waiting_since") or record.get("raised_at") or history[0].get("at")
            waiting.append(Waiting(kind.name, record["reference"], kind.waiting_line(record, people),
                                   tuple(answerers), datetime.fromisoformat(since)))
    return waiting


def recent_months(ctx: Context, since: datetime) -> list[str]:
    """The stored months that can hold news since `since`."""
    first = add_months(month_of(since), -LOOK_BACK_MONTHS)
    return [m for m in stored_months(ctx.store) if m >= first]


def _between(at: str, since: datetime, now: datetime) -> bool:
    # `since` is the previous digest's own `now`, whose window included that instant: the lower bound
    # is open, or mail handled in the pass that sent a digest would be news in the next one too.
    return since < datetime.fromisoformat(at) <= now
