"""The monthly report's template with a sample context, for the checks every letter gets
(test_accessible_letters.py registers it through `contexts()`), and the view's formatting rules."""
from datetime import date

from app.reports.view import pct, report_context, table
from letters import body, readable, render, words
from workflows.report import MonthRecords, build_report
from workflows.results import Targets

MONTH = "2026-11"


def _allocation(n: int, service: str, **more) -> dict:
    return {"reference": f"AUD-{MONTH}-{n:03d}", "month": MONTH, "auditor": f"a{n}@wexcombe.example",
            "auditor_name": f"Auditor {n}", "service": service, "case_ref": f"CR-{n:05d}", "audit_type": "monthly",
            "team_manager": "", "exempt": False, "deadline": None, **more}


def _submission(n: int, grade: str, counts: bool = True, at: str = "2026-11-20T10:00:00+00:00") -> dict:
    return {"reference": f"AUD-{MONTH}-{n:03d}", "received_at": at, "message_id": f"<{n}@x>", "grade": grade,
            "counts": counts}


def sample_report():
    """Three audits: one Good on time, one Inadequate moderated up, one late and not counted."""
    records = MonthRecords(MONTH, [_allocation(1, "Children in Care"), _allocation(2, "Children in Care"),
                                   _allocation(3, "Early Help and Family Support")],
                           [_submission(1, "Good"), _submission(2, "Inadequate"),
                            _submission(3, "Good", counts=False, at="2026-12-01T09:00:00+00:00")],
                           [{"reference": "MOD-2026-11-001", "audit": f"AUD-{MONTH}-002", "state": "changed",
                             "original_grade": "Inadequate", "moderated_grade": "Requires improvement",
                             "submitted_at": "2026-11-20T10:00:00+00:00"}])
    return build_report(records, [], {}, Targets(), date(2026, 12, 7))


def contexts() -> dict[str, dict]:
    """Sample contexts for the report's templates (by template name)."""
    charts = {"trend": {"src": "cid:trend@x", "alt": "Line chart", "caption": "Chart: the trend."},
              "grade_mix": {"src": "cid:mix@x", "alt": "Bar chart", "caption": "Chart: the grade mix."}}
    return {"report/qa_report": report_context(sample_report(), date(2026, 12, 7), charts, {}, date(2026, 12, 7))}


def test_both_parts_say_the_same_words(composer):
    text, html = render(composer, "report/qa_report", contexts()["report/qa_report"])
    assert words(body(text)) == readable(body(html))
    assert "Completion: 66.7% (2 of 3 audits due; 3 allocated, 0 exempt)" in words(text)
    assert 'src="cid:trend@x" alt="Line chart"' in html and "Moderation of these audits closed on" in text


def test_percentages_have_one_decimal_and_a_percent_sign():
    assert [pct(47.06), pct(100.0), pct(0.0), pct(None)] == ["47.1%", "100.0%", "0.0%", "-"]


def test_number_columns_align_right_and_words_left():
    t = table(("Service", "Due", "Rate"), [("Children in Care", "3", "66.7%"), ("Early Help", "12", "-")])
    assert t["align"] == ["left", "right", "right"]
    assert t["lines"] == ["Service           Due   Rate", "Children in Care    3  66.7%", "Early Help         12      -"]
