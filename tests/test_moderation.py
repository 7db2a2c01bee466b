"""Moderation told as stories: an audit is chosen, its moderator asked the same day, the answer acted on once.

Every Inadequate audit is moderated; the moderator is never the auditor and comes from another
service where one exists. Agree, or "Grade: <grade>" with a comment; anything else decides nothing.
What is still waiting when moderation closes is unmoderated, never agreed.
"""
import pytest

from app.demo_mail import apple_reply, gmail_reply, outlook_reply
from conftest import MAILBOX, issue, letters_to, refused_notes, stored_item, text_of, utc

RUTH = "Ruth Castell <ruth.castell@wexcombe.example>"            # auditor, Safeguarding and Assessment
GARETH = "Gareth Lyle <gareth.lyle@wexcombe.example>"            # moderator, Children in Care
SAMIR = "Samir Haddad <samir.haddad@wexcombe.example>"           # moderator, Ruth's own service
RUTH_AT, GARETH_AT = "ruth.castell@wexcombe.example", "gareth.lyle@wexcombe.example"
ALLOCATIONS = "auditor_email,case_ref,audit_type\nruth.castell@wexcombe.example,CR-41226,dip sample\n"
SUBMITTED = utc(2026, 12, 14, 10, 0)  # a Monday
MOD, AUD = "MOD-2026-12-001", "AUD-2026-12-001"


def set_config(site, old: str, new: str) -> None:
    path = site.config_path
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def submit(site, grade="Inadequate", at=SUBMITTED, shape=gmail_reply):
    [letter] = letters_to(site, RUTH_AT, "Your audits")
    site.receive(shape(RUTH, MAILBOX, letter, at, f"Grade: {grade}"), at=at)
    site.once(at)


def submitted(site, grade="Inadequate"):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    submit(site, grade)


def request(site, to=GARETH_AT):
    return letters_to(site, to, "Moderation of audit")[-1]


def reply(site, sender, words, at=utc(2026, 12, 15, 11, 0), shape=outlook_reply, headers=b""):
    site.receive(headers + shape(sender, MAILBOX, request(site), at, words), at=at)
    site.once(at)


def record(site, reference=MOD) -> dict:
    return stored_item(site, reference)


def test_an_inadequate_audit_gets_a_moderation_request_the_same_day(site):
    submitted(site)
    [asked] = letters_to(site, GARETH_AT, "Moderation")
    assert asked["Subject"].startswith(f"[{MOD}] Moderation of audit [{AUD}]: please reply Agree or Grade:")
    assert "Case: CR-41226" in text_of(asked) and "Grade given: Inadequate" in text_of(asked)
    assert "Every audit graded Inadequate is moderated" in text_of(asked)
    assert asked["Date"] and "14 Dec 2026" in asked["Date"]
    stored = record(site)
    assert stored["state"] == "awaiting_moderator" and stored["selected_because"] == "inadequate"
    assert (stored["auditor"], stored["moderator"], stored["original_grade"]) == (RUTH_AT, GARETH_AT, "Inadequate")
    assert stored["moderated_grade"] is None
    # Nobody of Ruth's own service moderates her, while someone from another service can.
    assert letters_to(site, "samir.haddad@wexcombe.example", "Moderation") == []
    [receipt] = letters_to(site, RUTH_AT, "Received")
    assert "may be selected for moderation" in text_of(receipt)
    site.once(utc(2026, 12, 14, 10, 5))
    assert len(letters_to(site, GARETH_AT, "Moderation")) == 1  # asked once
    status = site.status(utc(2026, 12, 16, 12, 0), "2026-12")
    assert f"{MOD}  moderation of {AUD} (Inadequate, by Ruth Castell): waiting on Gareth Lyle for 2 working days" \
        in status


def test_agree_from_the_moderator_agrees_and_the_auditor_is_told(site):
    submitted(site)
    reply(site, GARETH, "Agree")
    stored = record(site)
    assert (stored["state"], stored["original_grade"], stored["moderated_grade"]) == ("agreed", "Inadequate", "Inadequate")
    [told] = letters_to(site, RUTH_AT, "Moderation of your audit")
    assert told["Subject"] == f"[{MOD}] [{AUD}] Moderation of your audit: grade agreed"
    assert "agreed with your grade of Inadequate" in text_of(told)
    assert letters_to(site, GARETH_AT, "your moderation of")


def test_a_new_grade_with_a_comment_changes_it_and_both_grades_are_kept(site):
    submitted(site)
    reply(site, GARETH, "Grade: Requires improvement\nThe child was seen alone and the plan is being followed; "
                        "what is missing is the chronology.", shape=apple_reply)
    stored = record(site)
    assert (stored["state"], stored["original_grade"], stored["moderated_grade"]) == \
        ("changed", "Inadequate", "Requires improvement")
    assert "chronology" in stored["comment"]
    [told] = letters_to(site, RUTH_AT, "Moderation of your audit")
    assert "moderated to Requires improvement" in told["Subject"]
    assert "your grade was Inadequate" in text_of(told) and "not a criticism of your work" in text_of(told)
    assert "what is missing is the chronology" in text_of(told)


def test_a_grade_line_the_same_as_the_auditors_is_agreement(site):
    submitted(site)
    reply(site, GARETH, "Grade: Inadequate\nThere is no safety plan; the grade is right.")
    assert record(site)["state"] == "agreed"


@pytest.mark.parametrize(("sender", "why"), [
    (SAMIR, "is not the person asked to decide it"),
    (RUTH, "is not the person asked to decide it"),
])
def test_an_answer_from_anyone_but_the_moderator_changes_nothing(site, sender, why):
    submitted(site)
    reply(site, sender, "Agree")
    assert record(site)["state"] == "awaiting_moderator"
    [refused] = refused_notes(site)
    assert why in refused
    assert letters_to(site, RUTH_AT, "Moderation of your audit") == []


def test_the_auditor_never_moderates_their_own_audit_even_as_the_moderators_delegate(site):
    set_config(site, "[delegates]\n", f'[delegates]\n"{GARETH_AT}" = "{RUTH_AT}"\n')
    submitted(site)
    reply(site, RUTH, "Agree")
    assert record(site)["state"] == "awaiting_moderator"
    assert refused_notes(site)


def test_a_forged_answer_changes_nothing(site):
    submitted(site)
    reply(site, GARETH, "Agree", headers=b"Authentication-Results: mx.wexcombe.example; dmarc=fail "
                                         b"header.from=wexcombe.example\r\n")
    assert record(site)["state"] == "awaiting_moderator"
    [refused] = refused_notes(site)
    assert "DMARC" in refused


@pytest.mark.parametrize(("words", "why"), [
    ("I'll have a look at this next week.", "no decision word was found"),
    ("Grade: Good", "a new grade needs a comment saying why"),
    ("Disagree", "reply Grade: <grade>"),
    ("Grade: Excellent\nA lovely piece of work.", '"Excellent" is not a grade'),
])
def test_an_unclear_answer_decides_nothing_and_the_moderator_is_asked_again(site, words, why):
    submitted(site)
    reply(site, GARETH, words)
    assert record(site)["state"] == "awaiting_moderator"
    [again] = letters_to(site, GARETH_AT, "Nothing decided yet")
    assert why in text_of(again) and "Agree, or Grade: <grade> with a comment" in text_of(again)
    assert letters_to(site, RUTH_AT, "Moderation of your audit") == []


def test_a_resubmission_updates_the_waiting_moderation_instead_of_asking_twice(site):
    submitted(site)
    submit(site, "Requires improvement", at=utc(2026, 12, 14, 15, 0))
    assert record(site)["original_grade"] == "Requires improvement"
    assert record(site, "MOD-2026-12-002") is None
    assert "the grade is now Requires improvement" in request(site)["Subject"]
    reply(site, GARETH, "Agree")
    assert record(site)["moderated_grade"] == "Requires improvement"


def test_the_same_grade_sent_again_asks_nothing_new(site):
    submitted(site)
    submit(site, "Inadequate", at=utc(2026, 12, 14, 15, 0))
    assert len(letters_to(site, GARETH_AT, "Moderation of audit")) == 1
    assert record(site)["submitted_at"] == utc(2026, 12, 14, 15, 0).isoformat()


def test_a_silent_moderator_is_reminded_once_then_the_qa_team_told(site):
    submitted(site)
    site.once(utc(2026, 12, 16, 9, 0))
    site.once(utc(2026, 12, 16, 9, 30))
    [reminder] = letters_to(site, GARETH_AT, "is waiting for your answer")
    assert "waiting for your answer for 2 working days" in text_of(reminder)
    site.once(utc(2026, 12, 18, 9, 0))
    assert letters_to(site, "priya.ramsden@wexcombe.example", "still waiting after 4 working days")
    assert record(site)["state"] == "awaiting_moderator"  # never decided on a timeout


def test_closing_leaves_what_was_waiting_unmoderated_and_thanks_the_moderator(site):
    submitted(site)
    site.once(utc(2027, 1, 7, 23, 0))  # the day before moderation closes (5 working days, 1 January a holiday)
    assert record(site)["state"] == "awaiting_moderator"
    site.once(utc(2027, 1, 8, 7, 0))
    stored = record(site)
    assert (stored["state"], stored["moderated_grade"]) == ("unmoderated", None)
    [closed] = letters_to(site, GARETH_AT, "Moderation for December 2026 has closed")
    assert f"{AUD} ({MOD}), graded Inadequate" in text_of(closed)
    assert closed["Subject"].startswith(f"[{MOD}] Moderation for December 2026")   # its reference, as every letter's
    site.once(utc(2027, 1, 8, 9, 0))
    assert len(letters_to(site, GARETH_AT, "has closed")) == 1
    reply(site, GARETH, "Agree", at=utc(2027, 1, 8, 10, 0))  # too late: told so, nothing changes
    assert record(site)["state"] == "unmoderated"
    [late] = letters_to(site, GARETH_AT, "Already decided")
    assert "closed without moderation by the Quality Assurance Team" in text_of(late)
    assert MAILBOX not in text_of(late).split("closed without moderation")[1][:80], "a person, not an address"
    assert "please contact the Quality Assurance Team and say so" in text_of(late)


def test_with_no_sample_a_good_audit_is_not_moderated_and_with_all_of_it_it_is(site):
    set_config(site, "sample_percent = 25", "sample_percent = 0")
    submitted(site, "Good")
    assert letters_to(site, GARETH_AT, "Moderation") == [] and record(site) is None
    set_config(site, "sample_percent = 0", "sample_percent = 100")
    site.once(utc(2026, 12, 14, 11, 0))
    assert record(site)["selected_because"] == "sample"
    assert "drawn in this month's random sample" in text_of(request(site))
