"""The moderation letters, read as the moderator and the auditor would read them.

What every letter must do (both parts the same words, every value used, built for Outlook, ending
with how to say something is wrong) is checked for each template in `contexts()`, which
test_request_letters.py folds into its own registry.
"""
from __future__ import annotations

from datetime import datetime, timezone

from letters import body, readable, render, words

RECEIVED = datetime(2026, 12, 14, 10, 2, tzinfo=timezone.utc)
OPTIONS = "Agree, or Grade: <grade> with a comment on the lines below"
COMMENT = "The plan has no contingency and the child was not seen alone.\nThat is <b>Inadequate</b>, I'm afraid."


def contexts() -> dict[str, dict]:
    """Every moderation template's context, exactly the keys its header comment documents (fresh each call)."""
    common = dict(reference="MOD-2026-12-004", audit="AUD-2026-12-017")
    return {
        "moderation/request": dict(
            **common, person_name="Gareth", case_ref="CR-41226", audit_type="dip sample",
            auditor_name="Ruth Castell", auditor_service="Safeguarding and Assessment", grade="Inadequate",
            inadequate=True, submitted_at=RECEIVED, remedial_details="yes - no safety plan in place",
            attachments=["audit CR-41226.docx"], updated=False, options=OPTIONS),
        "moderation/reminder": dict(**common, person_name="Gareth", grade="Good", auditor_name="Ruth Castell",
                                    waiting_working_days=2, options=OPTIONS),
        "moderation/escalation": dict(**common, grade="Good", auditor_name="Ruth Castell",
                                      moderator_name="Gareth Lyle", waiting_working_days=4, options=OPTIONS),
        "moderation/closed": dict(person_name="Gareth", month_name="December 2026",
                                  items=[dict(**common, grade="Good"),
                                         dict(reference="MOD-2026-12-006", audit="AUD-2026-12-021", grade="Inadequate")]),
        "moderation/outcome": dict(**common, person_name="Ruth", agreed=False, original_grade="Good",
                                   moderated_grade="Requires improvement", moderator_name="Gareth Lyle",
                                   comment=COMMENT),
        "moderation/recorded": dict(**common, person_name="Gareth", agreed=False, original_grade="Good",
                                    moderated_grade="Requires improvement", auditor_name="Ruth Castell"),
    }


def both(composer, name: str, **overrides) -> list[str]:
    text, html = render(composer, name, contexts()[name], **overrides)
    return [words(body(text)), readable(body(html))]


def test_the_request_gives_the_case_reference_grade_and_how_to_answer(composer):
    for part in both(composer, "moderation/request"):
        assert "Case: CR-41226" in part and "Grade given: Inadequate" in part
        assert "Every audit graded Inadequate is moderated." in part
        assert "Remedial action noted: yes - no safety plan in place" in part
        assert "Agree, if the grade is right; or Grade: followed by the grade you would give" in part


def test_a_sampled_audit_says_it_was_drawn_in_the_sample(composer):
    for part in both(composer, "moderation/request", inadequate=False, grade="Good", remedial_details=""):
        assert "drawn in this month's random sample" in part and "Remedial action" not in part


def test_an_updated_request_says_the_grade_to_moderate_is_now_the_new_one(composer):
    for part in both(composer, "moderation/request", updated=True, grade="Requires improvement"):
        assert "has sent a new grade for audit AUD-2026-12-017" in part
        assert "The grade to moderate is now Requires improvement" in part


def test_agreement_thanks_the_auditor(composer):
    for part in both(composer, "moderation/outcome", agreed=True, moderated_grade="Good", comment=""):
        assert "who agreed with your grade of Good" in part and "Your judgement stands" in part
        assert "criticism" not in part and "wrote:" not in part


def test_a_changed_grade_is_explained_plainly_with_the_comment_never_as_a_reprimand(composer):
    for part in both(composer, "moderation/outcome"):
        assert "a moderated grade of Requires improvement; your grade was Good" in part
        assert "Both grades are kept on the record" in part
        assert "not a criticism of your work" in part
        assert "the child was not seen alone" in part
    _, html = render(composer, "moderation/outcome", contexts()["moderation/outcome"])
    assert "<b>Inadequate</b>" not in html and "&lt;b&gt;" in html  # the moderator's words are escaped


def test_closing_lists_what_was_waiting_and_says_it_is_reported_unmoderated(composer):
    for part in both(composer, "moderation/closed"):
        assert "AUD-2026-12-017 (MOD-2026-12-004), graded Good" in part
        assert "reported as unmoderated" in part and "rather than as agreed" in part
