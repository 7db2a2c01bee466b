"""The monthly report as data for spreadsheets: a CSV of one row per audit, and an .xlsx workbook
(Summary, Audits, Services) for the improvement board, which works in Excel.

Only references, never a child's name: the rows carry the case reference, as the store does.
A cell that starts like a formula (=, +, -, @) is written as text, so a name or reference from a
file someone else typed can never run in Excel.
"""
import csv
import io

from core.clock import LONDON
from workflows.calendar import month_name
from workflows.report import MonthReport
from workflows.report_audits import GRADES, AuditRow
from workflows.results import verdict

AUDIT_COLUMNS = ("reference", "month", "service", "team", "auditor", "case_ref", "audit_type", "state",
                 "received_at", "original_grade", "moderated_grade", "moderation_state", "counted")
PERCENT = '0.0"%"'      # the report's percentages are already in percent, one decimal


def audit_values(row: AuditRow) -> list:
    """One audit's cells, in AUDIT_COLUMNS order."""
    received = row.received_at.astimezone(LONDON).isoformat(timespec="seconds") if row.received_at else ""
    return [row.reference, row.month, row.service, row.team, row.auditor, row.case_ref, row.audit_type, row.state,
            received, row.original_grade or "", row.moderated_grade or "", row.moderation_state,
            "yes" if row.counted else "no"]


def csv_bytes(report: MonthReport) -> bytes:
    """The per-audit CSV, UTF-8 with a byte-order mark so Excel reads the names' accents right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AUDIT_COLUMNS)
    for row in report.rows:
        writer.writerow([_safe(v) for v in audit_values(row)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(report: MonthReport) -> bytes:
    """The workbook: Summary (headline figures, targets, last three months), Audits, Services."""
    # Imported when a workbook is made, not when the service starts: every command (even `status`)
    # loads the report's modules, and openpyxl's import was a third of a command's start-up.
    from openpyxl import Workbook
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    _summary(summary, report)
    audits = book.create_sheet("Audits")
    _rows(audits, AUDIT_COLUMNS, [audit_values(r) for r in report.rows])
    services = book.create_sheet("Services")
    headers = ("service", "allocated", "exempt", "due", "counted", "late", "not_counted", "outstanding",
               "completion_pct", *("grade_" + g.lower().replace(" ", "_") for g in GRADES), "good_or_better_pct",
               "inadequate_pct")
    mixes = {m.name: m for m in report.service_grades}
    rows = []
    for c in [*report.services, report.overall]:
        mix = mixes.get(c.name) if c is not report.overall else report.grades
        counts = [mix.counts[g] if mix else 0 for g in GRADES]
        rows.append([c.name, c.allocated, c.exempt, c.due, c.counted, c.states["late"], c.states["not counted"],
                     c.states["outstanding"], c.rate, *counts, mix.good_or_better_pct if mix else None,
                     mix.inadequate_pct if mix else None])
    _rows(services, headers, rows, percent_columns=(9, 14, 15))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _summary(sheet, report: MonthReport) -> None:
    r, t = report.result, report.targets
    from openpyxl.styles import Font
    sheet.append([f"Monthly QA report - {month_name(report.month)}"])
    sheet["A1"].font = Font(bold=True, size=14)
    lines = [("Allocated", r.allocated, None), ("Exempt", r.exempt, None), ("Due", r.due, None),
             ("Counted", r.completed, None), ("Completion", r.completion_rate, PERCENT),
             ("Graded", r.graded, None),
             ("Good or better", r.good_or_better_pct, PERCENT),
             (f"Good or better target (at least {t.good_or_better_min:.1f}%)", verdict(r.good_met), None),
             ("Inadequate", r.inadequate_pct, PERCENT),
             (f"Inadequate target (less than {t.inadequate_max:.1f}%)", verdict(r.inadequate_met), None),
             ("Moderated", report.moderation.moderated, None), ("Moderation rate", report.moderation.rate, PERCENT),
             ("Grades changed", report.moderation.changed, None),
             ("Grade-change rate", report.moderation.change_rate, PERCENT),
             ("Changed up", report.moderation.up, None), ("Changed down", report.moderation.down, None),
             ("Unmoderated at close", report.moderation.unmoderated, None),
             ("Remedial actions open", report.actions.open, None),
             ("Remedial actions overdue", len(report.actions.overdue), None)]
    for label, value, number_format in lines:
        sheet.append([label, value])
        if number_format:
            sheet.cell(sheet.max_row, 2).number_format = number_format
    sheet.append([])
    sheet.append(["Month", "Completion", "Good or better", "Good or better target", "Inadequate",
                  "Inadequate target"])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for m in report.trend:
        sheet.append([m.month, m.completion_rate, m.good_or_better_pct, verdict(m.good_met), m.inadequate_pct,
                      verdict(m.inadequate_met)])
        for column in (2, 3, 5):
            sheet.cell(sheet.max_row, column).number_format = PERCENT
    sheet.column_dimensions["A"].width = 48


def _rows(sheet, headers, rows, percent_columns=()) -> None:
    from openpyxl.styles import Font
    sheet.append(list(headers))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_safe(v) for v in row])
        for column in percent_columns:
            sheet.cell(sheet.max_row, column).number_format = PERCENT
    sheet.freeze_panes = "A2"


def _safe(value):
    """Text that Excel would read as a formula, made plain text by a leading apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
