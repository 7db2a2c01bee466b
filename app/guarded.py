"""Scheduled work never stalls: one item that fails is logged, listed for the QA team, and tried again later.

Every per-item loop of scheduled work (reminders, notices, approver chases) runs each item inside
`one_item(...)`, and the daemon runs each whole job through `run_job(...)`:

    for item in due:
        with one_item(ctx, "reminder", f"{item.step} for {month} to {item.to}", key=item.key):
            ...compose, store, mark done...

An item that fails leaves nothing half-done (its transaction is rolled back, so it is not marked done
and the next pass tries it again), the operator gets the traceback in the log, and the QA team a note
in the triage list (once a London day, however often the daemon polls). A failing store is different:
it is no item's fault and every later item would fail the same way, so the pass stops, as intake does.
Items are named by reference and address, never by anything about a child.
"""
from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Callable, Iterator

from core.clock import month_of
from core.errors import StoreError

if TYPE_CHECKING:
    from app.context import Context

log = logging.getLogger("auditmail.scheduled")
NOTE_LIMIT = 300  # characters of the error kept in the note: enough to recognise it, the log has the rest


@contextmanager
def one_item(ctx: Context, job: str, item: str, *, key: str) -> Iterator[None]:
    """Run the block for one item of scheduled work; a failure is logged, noted and swallowed, never spread.

    `job` says what kind of work it is ("reminder", "approval chase"), `item` names the one item in the
    log and the note (references and addresses only), `key` identifies it for the once-a-day note.
    """
    try:
        yield
    except StoreError:
        raise  # the store itself is failing: the pass stops and the next one tries everything again
    except Exception as exc:  # noqa: BLE001 - one bad item must never stop the items after it
        log.exception("%s failed: %s; the rest goes on, and it is tried again at the next pass", job, item)
        note_for_qa_team(ctx, key, f"a scheduled {job} ({item}) could not be sent: {_said(exc)}; the daemon "
                                   "tries again at every pass, and the log has the details")


def run_job(ctx: Context, job: Callable[[Context], object]) -> None:
    """Run one whole scheduled job; if it fails outside its own items, the next job still runs."""
    name = getattr(job, "__name__", repr(job))
    with one_item(ctx, "job", name, key=f"job:{name}"):
        job(ctx)


def note_for_qa_team(ctx: Context, key: str, note: str) -> None:
    """Add `note` to the QA team's triage list, unless the same failure was already noted today."""
    now = ctx.clock.now()
    today = ctx.clock.london_today().isoformat()
    month = month_of(now)
    try:
        with ctx.store.transaction():
            if any(t.get("scheduled_failure") == key and t.get("day") == today for t in ctx.ledger.triage(month)):
                return  # the daemon polls every minute or so: one note a day is enough for a person
            ctx.ledger.add_triage(month, {"at": now.isoformat(), "key": key, "scheduled_failure": key,
                                          "day": today, "note": note})
    except StoreError:
        raise
    except Exception:  # noqa: BLE001 - the note is lost, never the rest of the scheduled work
        log.exception("could not note the failure of %s in the triage list", key)


def _said(exc: BaseException) -> str:
    """The error in one short line, as the triage list shows it."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= NOTE_LIMIT else text[:NOTE_LIMIT] + "…"
