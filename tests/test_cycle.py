"""The monthly cycle as people live it: letters out, grades back by email, the deadline, alerts."""
import pytest

from app.demo_mail import apple_reply, gmail_reply, new_email, outlook_mobile_reply, outlook_reply
from conftest import MAILBOX, issue, letters_to, sample, text_of, utc

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
ALLOCATIONS = f"""auditor_email,case_ref,audit_type,team_manager_email
{AISHA},CR-40117,monthly,gareth.lyle@wexcombe.example
{BEN},CR-40133,dip sample,
{AISHA},CR-40140,Thematic,
"""


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_each_auditor_gets_one_letter_with_their_audits_and_a_calendar_entry(site):
    counts = issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    assert counts == {"new": 3, "already_issued": 0, "letters": 2}
    [letter] = letters_to(site, AISHA)
    assert letter["Subject"] == "[AUD-2026-12-001] [AUD-2026-12-003] Your audits for December 2026"
    body = text_of(letter)
    assert "CR-40117" in body and "CR-40140" in body and "thematic" in body.lower()
    assert "23:59 on Thursday 31st December 2026" in body
    [ics] = [p for p in letter.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert b"DTSTART;VALUE=DATE:20261231" in ics.get_payload(decode=True)


def test_re_running_issue_sends_nothing_twice_and_added_rows_go_on_their_own(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    assert issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 9, 0)) == {"new": 0, "already_issued": 3, "letters": 0}
    assert len(site.sent()) == 2
    added = ALLOCATIONS + f"{BEN},CR-40199,monthly,\n"
    assert issue(site, "2026-12", added, utc(2026, 12, 2, 9, 0)) == {"new": 1, "already_issued": 3, "letters": 1}
    [first, second] = letters_to(site, BEN)
    assert "[AUD-2026-12-004]" in second["Subject"] and "CR-40133" not in text_of(second)


def test_a_bad_allocations_file_is_rejected_whole_with_line_numbers(site):
    from core.errors import InputFileError

    bad = ALLOCATIONS + "nobody@wexcombe.example,CR-1,monthly,\n" + f"{BEN},Jane Smith,monthly,\n" + f"{BEN},CR-2,audit,\n"
    with pytest.raises(InputFileError) as error:
        issue(site, "2026-12", bad, utc(2026, 12, 1, 8, 30))
    assert "line 5: auditor nobody@wexcombe.example is not on the roster" in error.value.message
    assert "line 6: case_ref 'Jane Smith' is not a case reference" in error.value.message
    assert "line 7: audit_type 'audit'" in error.value.message
    assert site.sent() == []


@pytest.mark.parametrize("shape", [outlook_reply, gmail_reply, apple_reply, outlook_mobile_reply])
@pytest.mark.parametrize("written, grade", [
    ("Grade: Outstanding", "Outstanding"), ("good", "Good"), ("GRADE: Requires improvement", "Requires improvement"),
    ("Requires improvement to be good", "Requires improvement"), ("RI", "Requires improvement"),
    ("grade - inadequate", "Inadequate"),
])
def test_every_grade_spelling_from_every_client_is_recorded_and_counts(site, shape, written, grade):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    [receipt] = site.reply(f"Ben Hartley <{BEN}>", "Your audits", written, at=utc(2026, 12, 3, 10, 0), shape=shape)
    assert receipt["Subject"] == "[AUD-2026-12-002] Received: your audit counts for December 2026"
    assert grade in text_of(receipt)
    assert receipt["In-Reply-To"] is not None


def test_an_old_grade_in_quoted_history_does_not_win(site):
    # The allocation letter quoted under every reply says "Grade: Good" as an example.
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Inadequate", at=utc(2026, 12, 3, 10, 0))
    assert "Inadequate" in text_of(letters_to(site, BEN, "Received")[0])


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
@pytest.mark.parametrize("month, last_second, first_after", [
    ("2026-03", utc(2026, 3, 31, 22, 59, 59), utc(2026, 3, 31, 23, 0, 0)),    # BST began on 29 March
    ("2026-10", utc(2026, 10, 31, 23, 59, 59), utc(2026, 11, 1, 0, 0, 0)),    # GMT again from 25 October
])
def test_the_deadline_is_the_last_second_of_the_month_in_london(site, month, last_second, first_after):
    allocations = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"
    issue(site, month, allocations, utc(int(month[:4]), int(month[5:]), 1, 9, 0))
    site.reply(f"Aisha Patel <{AISHA}>", "Your audits", "Grade: Good", at=last_second, shape=gmail_reply,
               handle=False)
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Good", at=first_after, shape=gmail_reply)
    [on_time] = letters_to(site, AISHA, "Received")
    [late] = letters_to(site, BEN, "Received")
    assert "counts" in on_time["Subject"]
    assert "after the deadline: not counted" in late["Subject"]
    assert "not" in text_of(late) and "counted" in text_of(late)


def test_the_sender_date_header_never_decides(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    # Written (Date:) before midnight on a laptop, received by the mailbox after it: not counted.
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Good", at=utc(2027, 1, 1, 0, 0, 30), handle=False)
    raw = site.files("inbox")[0].read_bytes().replace(b"Date: Fri, 01 Jan 2027", b"Date: Thu, 31 Dec 2026")
    site.files("inbox")[0].write_bytes(raw)
    import os
    os.utime(site.files("inbox")[0], (utc(2027, 1, 1, 0, 0, 30).timestamp(),) * 2)
    site.once(utc(2027, 1, 1, 0, 1))
    assert "not counted" in letters_to(site, BEN, "Received")[0]["Subject"]


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_remedial_action_raises_an_alert_at_once_to_those_who_can_act(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    words = "AUD-2026-12-001 Grade: Inadequate\nAUD-2026-12-001 Remedial action: yes - no visit since October\nAUD-2026-12-003 Good"
    site.reply(f"Aisha Patel <{AISHA}>", "Your audits", words, at=utc(2026, 12, 3, 10, 0))
    [alert] = letters_to(site, "marcus.ellery@wexcombe.example", "Remedial")
    assert "gareth.lyle@wexcombe.example" in alert["To"]           # the team manager
    assert "priya.ramsden@wexcombe.example" in alert["Cc"]          # the QA team
    assert alert["Subject"] == "[ACT-2026-12-001] [AUD-2026-12-001] Remedial action needed: please act now"
    assert "no visit since October" in text_of(alert) and "CR-40117" in text_of(alert)
    [receipt] = letters_to(site, AISHA, "Received")
    assert "Inadequate" in text_of(receipt) and "Good" in text_of(receipt)


def test_an_invalid_grade_or_unknown_reference_records_nothing_and_says_what_is_missing(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Excellent", at=utc(2026, 12, 3, 10, 0), handle=False)
    site.receive(new_email(f"Ben Hartley <{BEN}>", MAILBOX, "[AUD-2026-12-099] done", utc(2026, 12, 3, 11), "Good"),
                 at=utc(2026, 12, 3, 11, 0))
    site.once(utc(2026, 12, 3, 11, 0))
    answers = " | ".join(text_of(m) for m in letters_to(site, BEN, "could not be recorded"))
    assert answers.count("Dear Ben") == 2
    assert "'Grade: Excellent' is not one of Outstanding, Good, Requires improvement, Inadequate" in answers
    assert "AUD-2026-12-099 is not a reference" in answers
    overall = site.status(utc(2026, 12, 3, 12), "2026-12").split("All services")[1].split()
    assert overall[:2] == ["3", "0"]  # 3 allocated, 0 on time


def test_a_second_submission_replaces_the_first_and_the_history_keeps_both(site):
    from db.months import MonthRepo

    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Good", at=utc(2026, 12, 3, 10, 0), shape=gmail_reply)
    [second] = site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Outstanding", at=utc(2026, 12, 4, 10, 0),
                          shape=gmail_reply)
    assert "replaces" in text_of(second)
    ctx = site.open(utc(2026, 12, 4, 11))
    history = MonthRepo(ctx.store, "2026-12").submissions("AUD-2026-12-002")
    ctx.close()
    assert [s["grade"] for s in history] == ["Good", "Outstanding"]


def test_submission_samples_from_real_clients_reach_a_receipt(site):
    # The sample .eml files answer November letters AUD-2026-11-004 to 011; issue November to match.
    auditors = [AISHA, AISHA, AISHA, BEN, AISHA] + ["hannah.brightwell@wexcombe.example"] * 2 + \
        ["owen.tranter@wexcombe.example"] * 2 + ["laura.penrose@wexcombe.example"] * 2   # 001 to 011
    rows = "auditor_email,case_ref,audit_type\n" + "".join(
        f"{a},CR-{n},monthly\n" for n, a in enumerate(auditors, start=40001))
    issue(site, "2026-11", rows, utc(2026, 11, 2, 8, 0))
    names = ["outlook_desktop_submission.eml", "outlook_web_submission.eml", "apple_mail_submission.eml",
             "html_only.eml", "gmail_submission.eml", "windows_1252.eml", "outlook_mobile_reply.eml",
             "with_attachment.eml"]
    for n, name in enumerate(names):
        site.receive(sample(name), at=utc(2026, 11, 18, 9, n))
    site.once(utc(2026, 11, 18, 10, 0))
    receipts = [m for m in site.sent() if "Received" in m["Subject"]]
    assert len(receipts) == len(names)
    assert all("counts" in m["Subject"] for m in receipts)


def test_a_thank_you_for_a_receipt_is_filed_not_answered(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Good", at=utc(2026, 12, 3, 10, 0), shape=gmail_reply)
    thanks = site.reply(f"Ben Hartley <{BEN}>", "Received", "Thank you!", at=utc(2026, 12, 3, 11), shape=gmail_reply)
    assert thanks == []
    assert len(letters_to(site, BEN)) == 2  # the allocation letter and the receipt; nothing more
    assert len(site.files("processed")) == 2


def test_a_fresh_email_with_one_reference_and_grade_per_line_is_a_submission(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    body = "Hi both done\n\nAUD-2026-12-001 Good\nAUD-2026-12-003 Requires improvement\n\nAisha"
    site.receive(new_email(f"Aisha Patel <{AISHA}>", MAILBOX, "my audits", utc(2026, 12, 3, 10), body),
                 at=utc(2026, 12, 3, 10, 0))
    site.once(utc(2026, 12, 3, 10, 0))
    [receipt] = letters_to(site, AISHA, "Received")
    assert receipt["Subject"].startswith("[AUD-2026-12-001] [AUD-2026-12-003] Received")


def test_a_correction_after_the_deadline_does_not_un_count_an_audit_done_on_time(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Good", at=utc(2026, 12, 30, 10, 0), shape=gmail_reply)
    [correction] = site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Outstanding", at=utc(2027, 1, 2, 10, 0),
                              shape=gmail_reply)
    assert "counts" in correction["Subject"] and "replaces" in text_of(correction)


def test_answers_held_back_by_the_daily_limit_are_listed_for_the_qa_team(site):
    from db.ledger import Ledger
    from db.store import Store

    rows = "auditor_email,case_ref,audit_type\n" + "".join(f"{BEN},CR-{40200 + n},monthly\n" for n in range(12))
    issue(site, "2026-12", rows, utc(2026, 12, 1, 8, 30))
    [letter] = letters_to(site, BEN, "Your audits")
    for n in range(12):
        site.receive(gmail_reply(f"Ben Hartley <{BEN}>", MAILBOX, letter, utc(2026, 12, 3, 10, n),
                                 f"AUD-2026-12-{n + 1:03d} Good"), at=utc(2026, 12, 3, 10, n))
    site.once(utc(2026, 12, 3, 11, 0))
    assert len(letters_to(site, BEN, "Received")) == 10
    with Store(site.folder / "data") as store:
        held = [t for t in Ledger(store).triage("2026-12") if "held back" in t["note"]]
    assert len(held) == 2 and "AUD-2026-12-011" in held[0]["note"]
