"""The monthly report as its templates take it: every figure already written as the reader will see it.

Formatting happens once, here, so the HTML and the plain text cannot disagree about a number:
percentages with one decimal and a `%` sign (`47.1%`), each target `met` or `not met`. Each table
is given as header and rows (for the HTML) and as the same cells laid out in columns (for the text).
"""
import re
from datetime import date, datetime

from core.clock import LONDON
from mailer.dates import deadline_words, long_weekday_date
from workflows.calendar import month_deadline, month_name
from workflows.report import MonthReport
from workflows.report_audits import GRADES, AuditRow
from workflows.report_figures import Completion, GradeMix
from workflows.results import MonthResult, verdict

NONE = "-"
NUMBER = re.compile(r"^(-|\d+(\.\d)?%?)$")
COMPLETION = ("Allocated", "Exempt", "Due", "Counted", "Of which late", "Not counted", "Outstanding", "Completion")


def pct(value: float | None) -> str:
    """A percentage as the report writes it: "47.1%", or "-" when there is nothing to divide by."""
    return NONE if value is None else f"{value:.1f}%"


def provisional(month: str, closes: date | None, now: datetime | None) -> str:
    """Why the figures are not final yet at `now`, in one sentence for the top of the report; "" once
    the month's deadline has passed and its moderation has closed (or when `now` is not known)."""
    if now is None:
        return ""
    deadline = month_deadline(month)
    still_open = f"moderation is still open until {long_weekday_date(closes)}" if closes else ""
    if now <= deadline:
        return (f"These figures are provisional: the deadline for {month_name(month)}'s audits "
                f"({deadline_words(deadline)}) has not passed yet" + (f", and {still_open}" if still_open else "")
                + ". They will change as audits come in.")
    if closes and now.astimezone(LONDON).date() < closes:
        return f"These figures are provisional: {still_open}, so grades may still change."
    return ""


def report_context(report: MonthReport, closes: date | None, charts: dict[str, dict], names: dict[str, str],
                   today: date | None = None, now: datetime | None = None) -> dict:
    """The context of `templates/report/qa_report`. `charts` maps "trend" and "grade_mix" to {src, alt,
    caption} (empty for the text alone); `names` gives staff names by address (action owners); `now`
    says whether the figures are still provisional (see `provisional`)."""
    t, r, m = report.targets, report.result, report.moderation
    overall = report.overall
    return {
        "month": report.month, "month_name": month_name(report.month), "moderation_closes": closes,
        "moderation_closed": bool(closes and today and today >= closes),
        "provisional": provisional(report.month, closes, now),
        "completion_rate": pct(overall.rate), "counted": overall.counted, "due": overall.due,
        "allocated": overall.allocated, "exempt": overall.exempt, "graded": r.graded,
        "good_target": f"{t.good_or_better_min:.1f}%", "inadequate_target": f"{t.inadequate_max:.1f}%",
        "targets": table(("Measure", "This month", "Target", "Result"), [
            ("Good or better", pct(r.good_or_better_pct), f"at least {t.good_or_better_min:.1f}%", verdict(r.good_met)),
            ("Inadequate", pct(r.inadequate_pct), f"less than {t.inadequate_max:.1f}%", verdict(r.inadequate_met))]),
        "last_three": table(("Month", "Completion", "Good or better", "Result", "Inadequate", "Result"),
                            [_targets_row(x) for x in report.last_three]),
        "trend": table(("Month", "Completion", "Graded", "Good or better", "Inadequate"),
                       [(month_name(x.month), pct(x.completion_rate), str(x.graded), pct(x.good_or_better_pct),
                         pct(x.inadequate_pct)) for x in report.trend]),
        "services": table(("Service", *COMPLETION),
                          [_completion_row(c) for c in report.services] + [_completion_row(overall)]),
        "teams": table(("Team manager", *COMPLETION), [_completion_row(c) for c in report.teams]),
        "grades": table(("Grade", "Audits", "Share"),
                        [(g, str(report.grades.counts[g]), pct(report.grades.pct(g))) for g in GRADES]
                        + [("All graded", str(report.grades.graded), pct(100.0) if report.grades.graded else NONE)]),
        "service_grades": table(("Service", *GRADES, "Good or better", "Inadequate"),
                                [_mix_row(x) for x in report.service_grades]),
        "late": table(("Reference", "Case", "Service", "Auditor", "Received"), [_audit_row(a) for a in report.late]),
        "not_counted": table(("Reference", "Case", "Service", "Auditor", "Received"),
                             [_audit_row(a) for a in report.not_counted]),
        "exemptions": table(("Reason", "Requests approved", "Audits exempted"),
                            [(e.label, str(e.requests), str(e.audits)) for e in report.exemptions]),
        "moderation": {"counted": m.counted, "moderated": m.moderated, "rate": pct(m.rate), "agreed": m.agreed,
                       "changed": m.changed, "change_rate": pct(m.change_rate), "up": m.up, "down": m.down,
                       "awaiting": m.awaiting, "unmoderated": m.unmoderated},
        "actions": {"raised": report.actions.raised, "done": report.actions.done, "open": report.actions.open,
                    "overdue": table(("Action", "Audit", "Case", "Owner", "Due"), [
                        (a["reference"], a.get("audit", ""), a.get("case_ref", ""),
                         names.get(a.get("owner", ""), a.get("owner", "")), a["due"]) for a in report.actions.overdue])},
        "charts": charts,
        "salutation": "Colleagues",
    }


def table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> dict:
    """A table as the templates take it: headers, rows, each column's alignment (numbers to the right)
    and, for the text, the same cells laid out in columns."""
    rows = [tuple(str(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    align = ["right" if i and rows and all(NUMBER.match(row[i]) for row in rows) else "left"
             for i in range(len(headers))]

    def line(cells) -> str:
        return "  ".join(c.rjust(w) if a == "right" else c.ljust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    return {"headers": headers, "rows": rows, "align": align,
            "lines": [line(headers), *(line(row) for row in rows)]}


def _completion_row(c: Completion) -> tuple[str, ...]:
    s = c.states
    return (c.name, str(c.allocated), str(c.exempt), str(c.due), str(c.counted), str(s["late"]),
            str(s["not counted"]), str(s["outstanding"]), pct(c.rate))


def _mix_row(m: GradeMix) -> tuple[str, ...]:
    return (m.name, *(str(m.counts[g]) for g in GRADES), pct(m.good_or_better_pct), pct(m.inadequate_pct))


def _targets_row(x: MonthResult) -> tuple[str, ...]:
    return (month_name(x.month), pct(x.completion_rate), pct(x.good_or_better_pct), verdict(x.good_met),
            pct(x.inadequate_pct), verdict(x.inadequate_met))


def _audit_row(a: AuditRow) -> tuple[str, ...]:
    received = a.received_at.astimezone(LONDON).strftime("%d %b %Y %H:%M") if a.received_at else NONE
    return (a.reference, a.case_ref, a.service, a.auditor, received)
