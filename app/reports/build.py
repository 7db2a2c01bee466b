"""The monthly QA report built from the store: its figures, its letter with the charts, its files.

`report` is read-only on the store: only sending it (`--send`, or the job when moderation closes)
writes, and then only the letter and the ledger mark that it went.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from app.reports import records
from app.reports.tables import csv_bytes, xlsx_bytes
from app.reports.view import report_context
from core.letter import Letter, OutgoingAttachment
from db.files import make_private_folder, private_by_default, write_bytes_atomic
from mailer.compose import Composer
from mailer.charts import grade_mix_chart, trend_chart
from workflows.calendar import moderation_closes, month_name
from workflows.report import MonthReport, build_report

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

TEMPLATE = "report/qa_report"
# The report is the QA team's, under their heading, whoever it goes to (never in the Director's voice).
QA_SIGNS = {"writer": "qa", "signatory_name": "The Quality Assurance Team"}


@dataclass(frozen=True)
class Chart:
    """One chart of the report: its image and the words that stand in for it."""

    key: str              # "trend" or "grade_mix"
    filename: str
    png: bytes
    alt: str
    caption: str


def monthly_report(ctx: Context, month: str) -> MonthReport:
    """The month's figures, with up to 11 earlier months for the trend."""
    names, today = records.names(ctx), ctx.clock.london_today()
    return build_report(records.month_records(ctx, month), records.earlier_records(ctx, month), names,
                        records.targets(ctx), today, moderation_closed=today >= closes_on(ctx, month))


def closes_on(ctx: Context, month: str) -> date:
    """The day moderation of `month` closes (and its report is sent)."""
    days = int(ctx.config.after_deadline.get("moderation", {}).get("close_after_working_days", 5))
    return moderation_closes(month, ctx.calendar, days)


def charts(report: MonthReport) -> list[Chart]:
    """The trend against both targets, and the grade mix per service."""
    t = report.targets
    trend = ", ".join(f"{month_name(m.month)}: {_p(m.good_or_better_pct)} good or better, "
                      f"{_p(m.inadequate_pct)} inadequate" for m in report.trend)
    mix = "; ".join(f"{m.name}: " + ", ".join(f"{n} {g.lower()}" for g, n in m.counts.items())
                    for m in report.service_grades) or "no graded audits"
    return [
        Chart("trend", f"qa-trend-{report.month}.png", trend_chart(report.trend, t),
              alt=f"Line chart of {_months(len(report.trend))} against the targets (at least "
                  f"{t.good_or_better_min:.1f}% good or better, less than {t.inadequate_max:.1f}% inadequate). {trend}.",
              caption="Chart: the share of audits rated good or better and rated inadequate each month, against "
                      "both targets. The figures are in the table above."),
        Chart("grade_mix", f"qa-grade-mix-{report.month}.png", grade_mix_chart(report.service_grades),
              alt=f"Bar chart of the grade mix per service. {mix}.",
              caption="Chart: the grades of each service's counted audits. The figures are in the table above."),
    ]


def _months(n: int) -> str:
    return "this month" if n == 1 else f"the last {n} months"


def _p(value: float | None) -> str:
    return "no graded audits" if value is None else f"{value:.1f}%"


def report_letter(ctx: Context, month: str, report: MonthReport, to: list[str]) -> Letter:
    """The report as an email: HTML with the charts as cid: images, and the same in plain text."""
    domain = ctx.config.mailbox_address.rsplit("@", 1)[1]
    drawn = charts(report)
    images = [OutgoingAttachment(c.filename, "image/png", c.png, inline_id=f"{c.key}-{month}@{domain}")
              for c in drawn]
    shown = {c.key: {"src": f"cid:{i.inline_id}", "alt": c.alt, "caption": c.caption} for c, i in zip(drawn, images)}
    context = {**_context(ctx, month, report, shown), **QA_SIGNS,
               "signatory_title": ctx.config.letterhead.organisation}
    return Letter(template=TEMPLATE, to=to, subject=f"Monthly QA report: {month_name(month)}", context=context,
                  kind="qa-report", attachments=images)


def write_files(ctx: Context, month: str, report: MonthReport, out_dir: Path) -> list[Path]:
    """qa-report-YYYY-MM.html, .txt, .csv and .xlsx in `out_dir`, readable by this user only."""
    private_by_default()
    make_private_folder(out_dir)
    drawn = charts(report)
    shown = {c.key: {"src": f"cid:{c.filename}", "alt": c.alt, "caption": c.caption} for c in drawn}
    html = render(ctx, _context(ctx, month, report, shown))[1]
    text = render_text(ctx, month, report)  # the .txt file holds no charts, so no captions for them
    # A file opened in a browser has no email around it: each chart travels inside it as a data: URI
    # (put in after rendering: the composer cuts any one value to a letter's length).
    for chart in drawn:
        html = html.replace(f'src="cid:{chart.filename}"',
                            f'src="data:image/png;base64,{base64.b64encode(chart.png).decode("ascii")}"')
    files = {"html": html.encode("utf-8"), "txt": text.encode("utf-8"), "csv": csv_bytes(report),
             "xlsx": xlsx_bytes(report)}
    written = []
    for ext, data in files.items():
        path = out_dir / f"qa-report-{month}.{ext}"
        write_bytes_atomic(path, data)  # 0600: the rows say who audited which case, and how well
        written.append(path)
    return written


def render(ctx: Context, context: dict) -> tuple[str, str]:
    """(text, html) of the report as the QA team sends it, dated now."""
    config = ctx.config
    composer = Composer(config.letterhead, config.mailbox_address, config.mailbox_name)
    signed = {**QA_SIGNS, "signatory_title": config.letterhead.organisation, **context}
    return composer.render(TEMPLATE, signed, now=ctx.clock.now())


def render_text(ctx: Context, month: str, report: MonthReport) -> str:
    """The report as plain text, as `report` prints it (no charts: their figures are in the tables)."""
    return render(ctx, _context(ctx, month, report, {}))[0]


def _context(ctx: Context, month: str, report: MonthReport, shown: dict) -> dict:
    return report_context(report, closes_on(ctx, month), shown, records.names(ctx), ctx.clock.london_today(),
                          ctx.clock.now())
