"""`status`: the month at a glance, per service and overall, as a plain-text table."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING

from app.cycle.issue import checked_month
from app.failed_mail import failed_section
from core.clock import LONDON
from db.outbox import OutboxRepo
from db.items import ItemRepo
from db.months import MonthRepo, stored_months
from workflows.calendar import month_deadline, month_name
from mailer.dates import deadline_words
from workflows.figures import tally
from workflows.digests import for_how_long
from workflows.registry import waiting_kinds

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

# The words the monthly report uses: "Counted" includes audits in by an agreed later date; "Not counted" were
# received after their deadline. (The report's "late" is a counted audit that used an agreed later date.)
COLUMNS = ("Service", "Allocated", "Counted", "Not counted", "Outstanding", "Exempt", "Completion")


def month_status(ctx: Context, month: str | None) -> str:
    """The status for `month` (default: the latest month issued), then what waits and the triage list."""
    if month is None:
        # The latest month with audits, not merely the latest file: a request made on 2 January
        # creates January's file before January's audits are issued.
        # Newest first, stopping at the first with audits: years of history are not read.
        issued = next((m for m in reversed(stored_months(ctx.store)) if MonthRepo(ctx.store, m).allocations()), None)
        month = issued or ctx.clock.london_now().strftime("%Y-%m")
    checked_month(month)
    month = month.strip()
    this_month = ctx.clock.london_now().strftime("%Y-%m")
    triage = _triage(ctx, month) + (_triage(ctx, this_month) if this_month != month else [])
    return "\n".join(_figures(ctx, month) + _waiting(ctx) + _unsent(ctx) + triage
                     + failed_section(ctx))


def _figures(ctx: Context, month: str) -> list[str]:
    repo = MonthRepo(ctx.store, month)
    allocations = repo.allocations()
    if not allocations:
        return [f"No audits have been issued for {month_name(month)} "
                "(use `issue --month YYYY-MM --allocations CSV`)."]
    submissions = defaultdict(list)
    for submission in repo.submissions():
        submissions[submission["reference"]].append(submission)
    services, overall = tally(allocations, submissions)
    deadline = month_deadline(month)
    passed = ctx.clock.now() > deadline
    lines = [f"{month_name(month)}: deadline {deadline_words(deadline)}" + (" (passed)" if passed else ""), ""]
    lines += _table([_row(t) for t in services] + [_row(overall)], separator_before_last=True)
    lines += ["", "Completion = counted (by the deadline, or by an agreed later date) / (allocated - exempt).",
              "An audit received after its deadline is recorded, not counted."]
    return lines


def _waiting(ctx: Context) -> list[str]:
    """Items of every kind answered by reply still waiting, on whom, and for how many working days."""
    calendar, people = ctx.calendar, ctx.people
    today = ctx.clock.london_today()
    repo, lines = ItemRepo(ctx.store), []
    for kind in waiting_kinds():
        for record in repo.open_items(kind):
            since = datetime.fromisoformat(record["waiting_since"]).astimezone(LONDON).date()
            lines.append(f"  {kind.waiting_line(record, people)} {for_how_long(since, today, calendar)}")
    return ["", "Waiting for a decision:"] + lines if lines else []


# --- sending that never stalls: letters waiting to be tried again, and letters set aside --------------

def _unsent(ctx: Context) -> list[str]:
    """Letters the server has not taken yet (with when they are tried next) and letters set aside for a person."""
    outbox = OutboxRepo(ctx.store)
    retrying = [r for r in outbox.pending() if r.get("last_error")]
    aside = outbox.set_aside_letters()
    lines = []
    pause = outbox.paused()
    if pause and datetime.fromisoformat(pause["until"]) > ctx.clock.now():
        until = datetime.fromisoformat(pause["until"]).astimezone(LONDON)
        lines += ["", f"Sending is paused until {until:%d %b %H:%M}: {pause['reason']}"]
    if retrying:
        lines += ["", f"Letters the mail server has not taken yet ({len(retrying)}), tried again on their own:"]
        for r in retrying:
            when = "at the next pass" if not r.get("next_attempt_at") else \
                f"at {datetime.fromisoformat(r['next_attempt_at']).astimezone(LONDON):%d %b %H:%M}"
            tries = r.get("attempts", 0)
            counted = f"{tries} failed tr{'ies' if tries != 1 else 'y'}" if tries else "the server was not reached"
            lines.append(f"  {r['message_id']}  {_letter(r)}: {counted}, next {when}; last: {r['last_error']}")
    if aside:
        lines += ["", f"Letters set aside, not sent ({len(aside)}) - `resend MESSAGE-ID` or `resend --all` "
                      "sends them again:"]
        for r in aside:
            at = datetime.fromisoformat(r["set_aside_at"]).astimezone(LONDON)
            lines.append(f"  {at:%d %b %H:%M}  {r['message_id']}  {_letter(r)}: {r['last_error']}")
    return lines


def _letter(record: dict) -> str:
    about = f" about {', '.join(record['refs'])}" if record.get("refs") else ""
    return f"{record['kind']}{about} to {', '.join(record['to'] + record.get('cc', []))}"


def _triage(ctx: Context, month: str) -> list[str]:
    """What the QA team must look at this month: outsiders, unclear mail, failures, refusals, held answers."""
    notes = ctx.ledger.triage(month)
    if not notes:
        return []
    lines = ["", f"For the QA team to look at, {month_name(month)} ({len(notes)}):"]
    lines += [f"  {datetime.fromisoformat(n['at']).astimezone(LONDON):%d %b %H:%M}  {n['note']}" for n in notes[-20:]]
    if len(notes) > 20:
        lines.insert(2, f"  ... {len(notes) - 20} earlier")
    return lines


def _row(t) -> tuple[str, ...]:
    c = t.counts
    rate = "-" if t.rate is None else f"{t.rate:.1f}%"
    return (t.name, str(t.allocated), str(c["on_time"]), str(c["late"]), str(c["outstanding"]), str(c["exempt"]), rate)


def _table(rows: list[tuple[str, ...]], separator_before_last: bool) -> list[str]:
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]

    def line(cells):
        return "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(cells, widths)))

    rule = "  ".join("-" * w for w in widths)
    out = [line(COLUMNS), rule] + [line(r) for r in rows[:-1]]
    if separator_before_last:
        out.append(rule)
    return out + [line(rows[-1])]
