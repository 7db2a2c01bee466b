"""`status`: the month at a glance, per service and overall, as a plain-text table."""
from collections import defaultdict

from app.cycle.issue import checked_month
from db.months import MonthRepo, stored_months
from workflows.calendar import month_deadline, month_name
from mailer.dates import deadline_words
from workflows.figures import tally

COLUMNS = ("Service", "Allocated", "On time", "Late", "Outstanding", "Exempt", "Completion")


def month_status(service, month: str | None) -> str:
    """The status table for `month` (default: the latest month issued)."""
    months = stored_months(service.store)
    if month is None:
        if not months:
            return "No audit month has been issued yet (use `issue --month YYYY-MM --allocations CSV`)."
        month = months[-1]
    checked_month(month)
    month = month.strip()
    repo = MonthRepo(service.store, month)
    allocations = repo.allocations()
    if not allocations:
        return f"No audits have been issued for {month_name(month)}."
    submissions = defaultdict(list)
    for submission in repo.submissions():
        submissions[submission["reference"]].append(submission)
    services, overall = tally(allocations, submissions)
    deadline = month_deadline(month)
    passed = service.clock.now() > deadline
    lines = [f"{month_name(month)}: deadline {deadline_words(deadline)}"
             + (" (passed)" if passed else ""), ""]
    rows = [_row(t) for t in services] + [_row(overall)]
    lines += _table(rows, separator_before_last=True)
    lines += ["", "Completion = completed on time / (allocated - exempt). Late audits are recorded, not counted."]
    return "\n".join(lines)


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
