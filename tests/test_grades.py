"""Reading grades and remedial-action lines from what an auditor wrote, in their many spellings."""
from datetime import datetime, timezone

import pytest

from inbox.classify import references_in
from inbox.parse import parse_message
from inbox.reply import newest_text
from conftest import sample
from workflows.grades import Grade, Remedial, parse_grade, read_submission

REF = "AUD-2026-11-004"
RECEIVED = datetime(2026, 11, 18, 14, 32, 9, tzinfo=timezone.utc)


@pytest.mark.parametrize("written, grade", [
    ("Grade: Good", Grade.GOOD),
    ("grade - good", Grade.GOOD),
    ("Grade \u2013 Good", Grade.GOOD),
    ("GRADE: outstanding", Grade.OUTSTANDING),
    ("Overall grade: Requires improvement to be good", Grade.REQUIRES_IMPROVEMENT),
    ("Grade: Good - the plan is current", Grade.GOOD),
    ("Good", Grade.GOOD),
    ("good.", Grade.GOOD),
    ("  Good!  ", Grade.GOOD),
    ("Requires improvement", Grade.REQUIRES_IMPROVEMENT),
    ("RI", Grade.REQUIRES_IMPROVEMENT),
    ("R.I.", Grade.REQUIRES_IMPROVEMENT),
    ("Requires Improvement To Be Good", Grade.REQUIRES_IMPROVEMENT),
    ("inadequate", Grade.INADEQUATE),
    ("Sorry, typo - Grade: Outstanding", Grade.OUTSTANDING),
    ("Thanks, grade: requires improvement", Grade.REQUIRES_IMPROVEMENT),
    ("INADEQUATE.", Grade.INADEQUATE),
])
def test_every_spelling_of_a_grade_on_its_own_line(written, grade):
    result = read_submission(f"Hi QA team,\n\n{written}\n\nKind regards\nBen", [REF])
    assert result.grades == {REF: grade}
    assert result.problems == []


@pytest.mark.parametrize("value, grade", [
    ("Good", Grade.GOOD), ("r.i", Grade.REQUIRES_IMPROVEMENT), ("Outstanding.", Grade.OUTSTANDING),
    ("requires improvement (to be good)", Grade.REQUIRES_IMPROVEMENT),
    ("Excellent", None), ("good to see", None), ("", None),
])
def test_parse_grade(value, grade):
    assert parse_grade(value) is grade


def test_several_audits_in_one_email():
    text = ("Here are my three:\n"
            "AUD-2026-11-004: Good\n"
            "[AUD-2026-11-005] Grade: Inadequate\n"
            "AUD-2026-11-006 - requires improvement\n"
            "AUD-2026-11-005 remedial action: yes \u2013 no visit since September\n")
    result = read_submission(text, ["AUD-2026-11-004", "AUD-2026-11-005"])
    # AUD-2026-11-006 was not in the thread but is named on its own line, so it is accepted.
    assert result.grades == {"AUD-2026-11-004": Grade.GOOD, "AUD-2026-11-005": Grade.INADEQUATE,
                             "AUD-2026-11-006": Grade.REQUIRES_IMPROVEMENT}
    assert result.remedial == {"AUD-2026-11-005": Remedial(True, "no visit since September")}
    assert result.problems == []


def test_one_audit_of_a_letter_listing_two_is_a_submission_of_that_one():
    result = read_submission("AUD-2026-11-004: Good", ["AUD-2026-11-004", "AUD-2026-11-005"])
    assert result.grades == {"AUD-2026-11-004": Grade.GOOD}
    assert result.problems == []


def test_a_reference_with_no_grade_is_named():
    result = read_submission("Done, thanks", ["AUD-2026-11-004", "AUD-2026-11-005"])
    assert result.grades == {}
    assert result.problems == ["no grade was found for AUD-2026-11-004", "no grade was found for AUD-2026-11-005"]


def test_a_grade_without_a_reference_when_several_audits_are_named():
    result = read_submission("Good", ["AUD-2026-11-004", "AUD-2026-11-005"])
    assert result.grades == {}
    assert "several audits are named; please give each grade next to its reference" in result.problems


def test_a_grade_in_a_fresh_email_is_tied_to_the_attached_audit_tool():
    result = read_submission("Grade: Good", [], attachment_names=["AUD-2026-11-011 audit tool.docx"])
    assert result.grades == {"AUD-2026-11-011": Grade.GOOD}


def test_an_invalid_grade_names_the_value_and_the_four_grades():
    result = read_submission("Grade: Excellent", [REF])
    assert result.grades == {}
    assert result.problems == [
        "'Grade: Excellent' is not one of Outstanding, Good, Requires improvement, Inadequate"]


@pytest.mark.parametrize("line", [
    "Remedial action: yes - the plan must be reviewed this week",
    "Remedial action: yes \u2013 the plan must be reviewed this week",
    "Remedial action: yes \u2014 the plan must be reviewed this week",
    "Remedial action needed: yes, the plan must be reviewed this week",
    "remedial action: Yes - the plan must be reviewed this week  ",
])
def test_remedial_action_yes_keeps_the_auditors_words(line):
    result = read_submission(f"Grade: Requires improvement\n{line}", [REF])
    assert result.remedial == {REF: Remedial(True, "the plan must be reviewed this week")}


@pytest.mark.parametrize("line", ["Remedial action: no", "Remedial action: none", "Remedial action: None."])
def test_remedial_action_no(line):
    result = read_submission(f"Grade: Good\n{line}", [REF])
    assert result.remedial == {REF: Remedial(False, "")}
    assert result.grades == {REF: Grade.GOOD}


def test_good_inside_a_sentence_is_not_a_grade():
    result = read_submission("It was good to see the plan updated.\nGood morning,\nThanks", [REF])
    assert result.grades == {}
    assert result.problems == [f"no grade was found for {REF}"]


def test_conflicting_grades_for_one_reference():
    result = read_submission("Grade: Good\nAUD-2026-11-004: Inadequate", [REF])
    assert REF not in result.grades
    assert result.problems == ["two different grades were given for AUD-2026-11-004 (Good, Inadequate); "
                               "please say which one stands"]


def test_the_same_grade_twice_is_not_a_conflict():
    assert read_submission("Grade: Good\n\nAUD-2026-11-004: good", [REF]).grades == {REF: Grade.GOOD}


def test_no_reference_and_no_grade():
    assert read_submission("Please see attached.", []).problems == ["no grade was found"]


# --- the sample emails, through the real parse and reply-extraction steps -----------------------

@pytest.mark.parametrize("eml, reference, grade", [
    # Its quoted history carries the letter's example "Grade: Good", which must not win.
    ("outlook_desktop_submission.eml", "AUD-2026-11-004", Grade.REQUIRES_IMPROVEMENT),
    ("outlook_web_submission.eml", "AUD-2026-11-005", Grade.GOOD),
    ("gmail_submission.eml", "AUD-2026-11-008", Grade.OUTSTANDING),
    ("apple_mail_submission.eml", "AUD-2026-11-006", Grade.INADEQUATE),
    ("outlook_mobile_reply.eml", "AUD-2026-11-010", Grade.GOOD),
    ("html_only.eml", "AUD-2026-11-007", Grade.GOOD),
    ("windows_1252.eml", "AUD-2026-11-009", Grade.REQUIRES_IMPROVEMENT),
    ("with_attachment.eml", "AUD-2026-11-011", Grade.GOOD),
])
def test_sample_emails_yield_the_grade_their_body_gives(eml, reference, grade):
    mail = parse_message(sample(eml), RECEIVED)
    result = read_submission(newest_text(mail.text), references_in(mail.subject),
                             [a.filename for a in mail.attachments])
    assert result.grades == {reference: grade}
    assert result.problems == []


def test_outlook_web_sample_raises_remedial_action():
    mail = parse_message(sample("outlook_web_submission.eml"), RECEIVED)
    result = read_submission(newest_text(mail.text), references_in(mail.subject))
    assert result.remedial == {
        "AUD-2026-11-005": Remedial(True, "the child's plan has not been reviewed since July")}


@pytest.mark.parametrize("line", [
    "Remedial action is needed: the plan has not been reviewed since July",
    "I think remedial action is required for this child's plan.",
])
def test_remedial_action_written_as_a_sentence_is_taken_as_needed(line):
    result = read_submission(f"Grade: Good\n{line}", [REF])
    assert result.remedial[REF] == Remedial(True, line)


@pytest.mark.parametrize("line", ["No remedial action needed.", "Remedial action is not required."])
def test_a_sentence_saying_no_remedial_action_raises_nothing(line):
    result = read_submission(f"Grade: Good\n{line}", [REF])
    assert REF not in result.remedial or not result.remedial[REF].needed


def test_several_audits_one_per_attachment_name():
    names = ["AUD-2026-12-012 Good.docx", "AUD-2026-12-013 - Requires improvement.docx", "signature.png"]
    result = read_submission("Please find my two audits attached.", ["AUD-2026-12-012", "AUD-2026-12-013"], names)
    assert result.grades == {"AUD-2026-12-012": Grade.GOOD, "AUD-2026-12-013": Grade.REQUIRES_IMPROVEMENT}
    assert result.problems == []


@pytest.mark.parametrize("line", ["Remedial actions: no", "Remedial action: nil", "Remedial action: Not at this time",
                                  "Any remedial action? No"])
def test_plain_negative_remedial_answers_raise_nothing(line):
    result = read_submission(f"Grade: Good\n{line}", [REF])
    assert REF not in result.remedial or not result.remedial[REF].needed


def test_a_remedial_yes_naming_no_audit_among_several_is_raised_for_each():
    text = ("AUD-2026-12-012 Good\nAUD-2026-12-013 Inadequate\n"
            "Remedial action: yes - the child has not been seen since October")
    result = read_submission(text, ["AUD-2026-12-012", "AUD-2026-12-013"])
    assert all(result.remedial[r].needed for r in ("AUD-2026-12-012", "AUD-2026-12-013"))
    assert result.problems == []
