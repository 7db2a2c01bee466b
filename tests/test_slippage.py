"""Slippage told early: the Head of Service informed, the QA team agrees a date or says no."""
import pytest

from app.demo_mail import gmail_reply, new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, text_of, utc

BEN = "Ben Hartley <ben.hartley@wexcombe.example>"
PRIYA = "Priya Ramsden <priya.ramsden@wexcombe.example>"
ALLOCATIONS = "auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,monthly\n"


def notice(site, at, words="I may not make the deadline: I am in court all week. I expect to finish by 6 January."):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    [letter] = letters_to(site, "ben.hartley@wexcombe.example", "Your audits")
    raw = outlook_reply(BEN, MAILBOX, letter, at, words).replace(b"Subject: RE: ", b"Subject: Slippage - RE: ", 1)
    site.receive(raw, at=at)
    site.once(at)


def test_a_notice_goes_to_the_head_of_service_and_asks_the_qa_team(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    [ack] = letters_to(site, "ben.hartley@wexcombe.example", "slippage notice has been received")
    assert ack["Subject"].startswith("[SLP-2026-12-001] [AUD-2026-12-001]")
    [info] = letters_to(site, "marcus.ellery@wexcombe.example", "Slippage notice from Ben Hartley")
    assert "in court all week" in text_of(info)
    [ask] = letters_to(site, "priya.ramsden@wexcombe.example", "accommodate")
    assert "tomasz.kowal@wexcombe.example" in ask["To"] and "CR-40133" in text_of(ask)


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_an_agreed_date_becomes_the_deadline_a_submission_by_then_counts(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    site.reply(PRIYA, "accommodate", "Yes, by 7 January", at=utc(2026, 12, 18, 14, 0), shape=gmail_reply)
    [outcome] = letters_to(site, "ben.hartley@wexcombe.example", "Slippage agreed")
    assert "marcus.ellery@wexcombe.example" in outcome["To"] and "7th January 2027" in text_of(outcome)
    site.once(utc(2027, 1, 4, 9, 0))   # the after-deadline notices skip an agreed later date
    assert letters_to(site, "ben.hartley@wexcombe.example", "Not counted") == []
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2027, 1, 7, 23, 59), shape=gmail_reply)
    assert "counts" in letters_to(site, "ben.hartley@wexcombe.example", "Received")[-1]["Subject"]


def test_after_the_agreed_date_a_submission_does_not_count(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    site.reply(PRIYA, "accommodate", "Yes - 07/01/2027", at=utc(2026, 12, 18, 14, 0), shape=gmail_reply)
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2027, 1, 8, 0, 0, 1), shape=gmail_reply)
    assert "not counted" in letters_to(site, "ben.hartley@wexcombe.example", "Received")[-1]["Subject"]
    site.once(utc(2027, 1, 8, 9, 0))
    # The receipt already told him it is not counted: no second notice for the same audit (issue 9, item 6).
    assert letters_to(site, "ben.hartley@wexcombe.example", "Not counted") == []


def test_no_capacity_means_the_deadline_stands(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    site.reply(PRIYA, "accommodate", "Sorry, no capacity this month", at=utc(2026, 12, 18, 14, 0), shape=gmail_reply)
    [outcome] = letters_to(site, "ben.hartley@wexcombe.example", "Slippage not agreed")
    assert "no capacity this month" in text_of(outcome)
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2027, 1, 2, 10, 0), shape=gmail_reply)
    assert "not counted" in letters_to(site, "ben.hartley@wexcombe.example", "Received")[-1]["Subject"]


def test_yes_without_a_date_decides_nothing(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    site.reply(PRIYA, "accommodate", "Yes", at=utc(2026, 12, 18, 14, 0), shape=gmail_reply)
    assert letters_to(site, "ben.hartley@wexcombe.example", "Slippage agreed") == []
    assert letters_to(site, "priya.ramsden@wexcombe.example", "Nothing decided yet")


def test_a_notice_after_the_deadline_is_too_late_and_the_qa_team_is_told(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.receive(new_email(BEN, MAILBOX, "Slippage", utc(2027, 1, 2, 9), "Sorry, I will not make the deadline."),
                 at=utc(2027, 1, 2, 9, 0))
    site.once(utc(2027, 1, 2, 9, 0))
    [late] = letters_to(site, "ben.hartley@wexcombe.example", "after the deadline")
    assert "CR-40133" in text_of(late)
    assert letters_to(site, "priya.ramsden@wexcombe.example", "Slippage notice after the deadline")


def test_a_date_that_is_no_later_than_the_deadline_is_asked_again(site):
    notice(site, utc(2026, 12, 18, 10, 0))
    site.reply(PRIYA, "accommodate", "Yes, by 20 December", at=utc(2026, 12, 18, 14, 0), shape=gmail_reply)
    assert letters_to(site, "ben.hartley@wexcombe.example", "Slippage agreed") == []
    [again] = letters_to(site, "priya.ramsden@wexcombe.example", "Nothing decided yet")
    assert "not after the month's deadline" in text_of(again)


def test_a_submission_that_came_before_the_agreement_counts_once_the_date_is_agreed(site):
    notice(site, utc(2026, 12, 30, 10, 0))
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2027, 1, 2, 10, 0), shape=gmail_reply)
    assert "not counted" in letters_to(site, "ben.hartley@wexcombe.example", "Received")[-1]["Subject"]
    site.reply(PRIYA, "accommodate", "Yes, by 7 January", at=utc(2027, 1, 4, 11, 0), shape=gmail_reply)
    overall = site.status(utc(2027, 1, 4, 12), "2026-12").split("All services")[1].split()
    assert overall[:3] == ["1", "1", "0"]   # allocated, on time, late


def test_a_notice_naming_no_outstanding_audit_asks_with_an_example_of_the_right_shape(site):
    from app.demo_mail import new_email

    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    aisha = "Aisha Patel <aisha.patel@wexcombe.example>"
    at = utc(2026, 12, 18, 10, 0)
    site.receive(new_email(aisha, MAILBOX, "Slippage", at, "I may not make the deadline this month."), at=at)
    site.once(at)
    [asked] = letters_to(site, "aisha.patel@wexcombe.example", "no outstanding audit found")
    assert "e.g. [AUD-2026-12-…]" in text_of(asked) and "AUD-2026-12-004" not in text_of(asked)
