"""The letters of the monthly cycle, read as the auditor, Head of Service or team manager would read them.

Each template is rendered with the real Composer and a fixed, zone-aware clock. Both parts of every
letter must carry the same words and data; cases appear only as case references, never a child's name.
What every letter must do (test_every_letter.py) is checked for each template in `contexts()`.
"""

from __future__ import annotations

from datetime import datetime, timezone

import jinja2
import pytest

from conftest import MAILBOX
from letters import LONDON, readable, words
from letters import render as render_letter
from mailer.compose import Composer

DEADLINE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=LONDON)
DEADLINE_WORDS = "23:59 on Thursday 31st December 2026"
EXTENDED = datetime(2027, 1, 7, 23, 59, 59, tzinfo=LONDON)
LATE_ARRIVAL = datetime(2027, 1, 1, 10, 2, tzinfo=timezone.utc)
LATE_WORDS = "10:02 on Friday 1st January 2027"
A1 = dict(reference="AUD-2026-12-001", case_ref="CR-40117", audit_type="monthly")
A2 = dict(reference="AUD-2026-12-002", case_ref="CR-40118", audit_type="dip sample")
A3 = dict(reference="AUD-2026-12-007", case_ref="CR-40200", audit_type="service review")
GRADES = ("Outstanding", "Good", "Requires improvement", "Inadequate")


def receipt_item(audit: dict, **overrides) -> dict:
    item = dict(reference=audit["reference"], case_ref=audit["case_ref"], grade="Good", counts=True,
                replaced=False, deadline=DEADLINE, extended=False)
    return {**item, **overrides}


def contexts() -> dict[str, dict]:
    """Every template's context, exactly the keys its header comment documents (fresh each call)."""
    return {
        "allocation": dict(person_name="Sam", month_name="December 2026", allocations=[A1, A2],
                           deadline=DEADLINE, mailbox_address=MAILBOX),
        "receipt": dict(person_name="Sam", received_at=LATE_ARRIVAL, remedial_raised=["AUD-2026-12-002"],
                        items=[receipt_item(A1, replaced=True, deadline=EXTENDED, extended=True),
                               receipt_item(A2, grade="Requires improvement", counts=False)]),
        "incomplete": dict(person_name="Sam", received_at=LATE_ARRIVAL,
                           problems=["AUD-2026-12-009 is not one of your audits",
                                     "the line for AUD-2026-12-002 has no grade"],
                           recorded=[dict(reference="AUD-2026-12-001", grade="Good")],
                           examples=["AUD-2026-12-002"]),
        "reminder": dict(person_name="Sam", step="10wd", working_days_left=10, outstanding=[A1, A2], deadline_is_today=True,
                         deadline=DEADLINE, month_name="December 2026"),
        "not_counted": dict(person_name="Sam", month_name="December 2026", deadline=DEADLINE,
                            items=[dict(A1, status="late"), dict(A2, status="missing")]),
        "hos_not_counted": dict(
            person_name="Priya", month_name="December 2026", deadline=DEADLINE, service="Safeguarding East",
            final=False,
            staff=[dict(name="Sam Okafor", email="sam.okafor@wexcombe.example",
                        items=[dict(A1, status="late"), dict(A2, status="missing")]),
                   dict(name="Lee Chen", email="lee.chen@wexcombe.example",
                        items=[dict(A3, status="agreed", agreed_until=EXTENDED)])],
            completion=dict(allocated=12, exempt=1, on_time=8, not_on_time=3, rate_percent=72.727272)),
    }


def render(composer: Composer, name: str, **overrides) -> tuple[str, str]:
    return render_letter(composer, f"cycle/{name}", contexts()[name], **overrides)


# --- allocation ---------------------------------------------------------------------------------

def test_allocation_lists_each_audit_the_deadline_and_how_to_submit(composer):
    text, html = render(composer, "allocation")
    for part in (words(text), readable(html)):
        for value in ("AUD-2026-12-001 CR-40117 Monthly", "AUD-2026-12-002 CR-40118 Dip sample",
                      "December 2026", f"by {DEADLINE_WORDS}", "reflect, evaluate, learn and improve",
                      "recorded, but they cannot be counted", "Grade: Good", *GRADES,
                      "AUD-2026-12-001 Grade: Good", "AUD-2026-12-002 Grade: Requires improvement",
                      "Remedial action: yes - what is needed",
                      "team manager, the Head of Service and the Quality Assurance Team",
                      "attach your completed audit tool", '"Slippage" in the subject',
                      '"Exemption request" in the subject', "exceptional circumstances",
                      "last week of the month", "calendar entry", MAILBOX):
            assert value in part, value
    assert "Dear Sam" in text


def test_a_single_allocation_is_not_asked_for_reference_lines(composer):
    text, html = render(composer, "allocation", allocations=[A3])
    for part in (words(text), readable(html)):
        assert "Your audit for December 2026 is:" in part
        assert "AUD-2026-12-007 CR-40200 Service review" in part
        assert "Please submit it by" in part
        assert "Grade: Good" in part and "AUD-2026-12-007 Grade:" not in part


# --- receipt ------------------------------------------------------------------------------------

def test_receipt_says_which_audit_counts_and_which_does_not(composer):
    text, html = render(composer, "receipt")
    for part in (words(text), readable(html)):
        assert "AUD-2026-12-001 CR-40117 Good Yes" in part
        assert "AUD-2026-12-002 CR-40118 Requires improvement No - late" in part
        assert ("AUD-2026-12-001 (case CR-40117) counts for the month: it reached the mailbox before "
                "the agreed later date of 23:59 on Thursday 7th January 2027. "
                "This replaces the grade you sent earlier.") in part
        assert "AUD-2026-12-002 (case CR-40118) has been recorded" in part
        assert "its learning will still be used" in part
        assert "may be selected for moderation: every audit that counts and is graded Inadequate" in part
        assert "cannot be counted in the month's completion figures" in part
        assert f"reached the mailbox at {LATE_WORDS}, after the deadline of {DEADLINE_WORDS}" in part
        assert "remedial action is needed for the child in AUD-2026-12-002" in part
        assert "team manager, the Head of Service and the Quality Assurance Team" in part


def test_an_on_time_receipt_counts_and_says_nothing_of_lateness_or_remedial_action(composer):
    on_time = datetime(2026, 12, 14, 16, 45, tzinfo=timezone.utc)
    text, html = render(composer, "receipt", received_at=on_time, remedial_raised=[], items=[receipt_item(A1)])
    for part in (words(text), readable(html)):
        assert "Thank you for your audit, which reached the audit mailbox at 16:45 on Monday 14th December 2026" in part
        assert f"AUD-2026-12-001 (case CR-40117) counts for the month: it reached the mailbox before the deadline of {DEADLINE_WORDS}." in part
        for absent in ("cannot be counted", "late", "replaces", "Remedial", "remedial"):
            assert absent not in part


# --- incomplete ---------------------------------------------------------------------------------

def test_incomplete_lists_the_problems_what_was_recorded_and_how_to_write_it(composer):
    text, html = render(composer, "incomplete")
    assert "  - AUD-2026-12-009 is not one of your audits" in text
    assert ">the line for AUD-2026-12-002 has no grade</li>" in html
    for part in (words(text), readable(html)):
        assert f"reached the audit mailbox at {LATE_WORDS}" in part
        assert "nothing has been recorded as complete" in part
        assert "This was recorded from the same email" in part and "AUD-2026-12-001 Grade: Good" in part
        assert "reply to this email" in part and "AUD-2026-12-002 Grade: Good" in part
        assert "AUD-YYYY-MM-NNN" not in part


def test_incomplete_without_examples_shows_a_placeholder(composer):
    text, html = render(composer, "incomplete", recorded=[], examples=[])
    for part in (words(text), readable(html)):
        assert "AUD-YYYY-MM-NNN Grade: Good" in part and "is the reference in your allocation letter" in part
        assert "recorded from the same email" not in part


# --- reminders ----------------------------------------------------------------------------------

def test_the_first_reminder_is_gentle(composer):
    text, html = render(composer, "reminder")
    for part in (words(text), readable(html)):
        assert f"a reminder that your December 2026 audits are due by {DEADLINE_WORDS}, 10 working days from now" in part
        assert "AUD-2026-12-001 CR-40117 Monthly" in part and "AUD-2026-12-002 CR-40118 Dip sample" in part
        assert "tell your Head of Service now" in part and "AUD-2026-12-001 Grade: Good" in part
        assert "tonight" not in part


def test_the_five_day_reminder_is_firmer(composer):
    text, html = render(composer, "reminder", step="5wd", working_days_left=5)
    for part in (words(text), readable(html)):
        assert f"only 5 working days left before the deadline of {DEADLINE_WORDS}" in part
        assert "will not be counted" in part and "straight away" in part


def test_the_last_day_reminder_says_tonight(composer):
    text, html = render(composer, "reminder", step="last-day", working_days_left=0, outstanding=[A3])
    for part in (words(text), readable(html)):
        assert "Today, Thursday 31st December 2026, is the last day for your December 2026 audit." in part
        assert "Audits received after 23:59 tonight will not be counted" in part
        assert "AUD-2026-12-007 CR-40200 Service review" in part and "Please send it today" in part


def test_one_working_day_is_singular(composer):
    text, _ = render(composer, "reminder", step="5wd", working_days_left=1)
    assert "only 1 working day left" in words(text)


def test_an_unknown_reminder_step_is_an_error(composer):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, "reminder", step="6wd")


# --- after the deadline -------------------------------------------------------------------------

def test_not_counted_is_kind_and_plain(composer):
    text, html = render(composer, "not_counted")
    for part in (words(text), readable(html)):
        assert f"The deadline for December 2026 audits was {DEADLINE_WORDS}" in part
        assert "will not be counted in the month's completion figures" in part
        assert "AUD-2026-12-001 CR-40117 Monthly Received late" in part
        assert "AUD-2026-12-002 CR-40118 Dip sample Not received" in part
        assert "please still complete and send it" in part and "AUD-2026-12-002 Grade: Good" in part
        assert "learning will still be used" in part
        assert "appealing for full cooperation" in part


def test_not_counted_for_a_late_audit_does_not_ask_for_it_again(composer):
    text, html = render(composer, "not_counted", items=[dict(A1, status="late")])
    for part in (words(text), readable(html)):
        assert "this audit was not completed by then" in part
        assert "The audit received after the deadline has been recorded" in part
        assert "please still complete" not in part


def test_an_unknown_status_is_an_error(composer):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, "not_counted", items=[dict(A1, status="lost")])


def test_head_of_service_sees_their_staff_and_the_completion_rate(composer):
    text, html = render(composer, "hos_not_counted")
    for part in (words(text), readable(html)):
        for value in ("Dear Priya", "December 2026", DEADLINE_WORDS, "Safeguarding East",
                      "Allocated 12", "Exempt 1", "Completed on time 8", "Completion rate 72.7%",
                      "Sam Okafor (sam.okafor@wexcombe.example)", "AUD-2026-12-001 CR-40117 Monthly Received late",
                      "AUD-2026-12-002 CR-40118 Dip sample Not received",
                      "Lee Chen (lee.chen@wexcombe.example) AUD-2026-12-007 CR-40200 Service review "
                      "Later date agreed: Thursday 7th January 2027",
                      "Not completed on time 3", "These 3 audits were not completed on time",
                      "follow up with each of them"):
            assert value in part, value
    assert html.count("<table") >= 3  # the letterhead's, the figures and the staff


def test_head_of_service_with_no_audits_due(composer):
    text, html = render(composer, "hos_not_counted", staff=[],
                        completion=dict(allocated=2, exempt=2, on_time=0, not_on_time=0, rate_percent=None))
    for part in (words(text), readable(html)):
        assert "Completion rate not applicable (no audits were due)" in part
        assert "follow up" not in part


def test_a_whole_rate_has_no_decimal(composer):
    text, _ = render(composer, "hos_not_counted", completion=dict(allocated=4, exempt=0, on_time=4, not_on_time=0, rate_percent=100.0))
    assert "Completion rate 100%" in words(text)
