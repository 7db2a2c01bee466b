"""Exemptions decided by reply, as a Head of Service and the Director do it from Outlook."""
import pytest

from app.demo_mail import apple_reply, gmail_reply, new_email, outlook_mobile_reply, outlook_reply, out_of_office
from conftest import MAILBOX, issue, letters_to, refused_notes, text_of, utc
from db.months import MonthRepo
from db.items import ItemRepo

AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"
MARCUS = "Marcus Ellery <marcus.ellery@wexcombe.example>"
DIRECTOR = "Imogen Thackeray <imogen.thackeray@wexcombe.example>"
FIONA = "Fiona Blackwood <fiona.blackwood@wexcombe.example>"
DANIEL = "Daniel Okafor <daniel.okafor@wexcombe.example>"
QA = "priya.ramsden@wexcombe.example"
REF = "EXM-2026-12-001"
ALLOCATIONS = "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n" \
              "ben.hartley@wexcombe.example,CR-40133,monthly\n"


def address(person: str) -> str:
    return person.split("<")[1].rstrip(">")


def request(site, at, words="I have been signed off sick until the end of January after surgery.", sender=AISHA):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.receive(new_email(sender, MAILBOX, "Exemption request", at, words), at=at)
    site.once(at)


def state(site) -> str:
    ctx = site.open(utc(2027, 1, 1))
    try:
        return ItemRepo(ctx.store).get(REF)["state"]
    finally:
        ctx.close()


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_supported_then_approved_leaves_the_figures_and_stops_reminders(site):
    request(site, utc(2026, 12, 2, 9, 0))
    [ack] = letters_to(site, "aisha.patel@wexcombe.example", "received")
    assert ack["Subject"] == f"[{REF}] Your exemption request has been received"
    [ask] = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")
    assert "Prolonged absence" in text_of(ask) and "signed off sick" in text_of(ask) and "CR-40117" in text_of(ask)
    site.reply(MARCUS, "Support or Decline", "Support - she is having surgery next week", at=utc(2026, 12, 2, 11, 0))
    [to_director] = letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject")
    assert "she is having surgery next week" in text_of(to_director)
    site.reply(DIRECTOR, "Approve or Reject", "Yes, approve", at=utc(2026, 12, 2, 18, 0), shape=apple_reply)
    [decided] = letters_to(site, "aisha.patel@wexcombe.example", "approved")
    assert "marcus.ellery@wexcombe.example" in decided["To"] and QA in decided["Cc"]
    assert state(site) == "approved"
    site.once(utc(2026, 12, 15, 9, 0))
    assert letters_to(site, "aisha.patel@wexcombe.example", "Reminder") == []
    ctx = site.open(utc(2026, 12, 15, 10))
    [aisha] = [a for a in MonthRepo(ctx.store, "2026-12").allocations() if a["auditor"].startswith("aisha")]
    history = ItemRepo(ctx.store).get(REF)["history"]
    ctx.close()
    assert aisha["exempt"] is True
    assert [(e["action"], e["by"]) for e in history] == [
        ("requested", "aisha.patel@wexcombe.example"), ("supported", "marcus.ellery@wexcombe.example"),
        ("approved", "imogen.thackeray@wexcombe.example")]
    assert all(e["message_id"] for e in history)
    # "until the end of January": January's audits, issued later, are exempt from the start.
    issue(site, "2027-01", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40999,monthly\n",
          utc(2027, 1, 4, 8, 0))
    assert letters_to(site, "aisha.patel@wexcombe.example", "January 2027") == []


def test_supported_then_rejected_keeps_the_deadline(site):
    request(site, utc(2026, 12, 2, 9, 0))
    site.reply(MARCUS, "Support or Decline", "Happy to support", at=utc(2026, 12, 2, 11, 0), shape=gmail_reply)
    site.reply(DIRECTOR, "Approve or Reject", "Reject - see comments.\nThis is not exceptional.",
               at=utc(2026, 12, 3, 9, 0))
    [decided] = letters_to(site, "aisha.patel@wexcombe.example", "rejected")
    assert "This is not exceptional" in text_of(decided)
    assert state(site) == "rejected"
    site.once(utc(2026, 12, 15, 9, 0))
    assert len(letters_to(site, "aisha.patel@wexcombe.example", "Reminder")) == 1


def test_declined_by_the_head_of_service_never_reaches_the_director(site):
    request(site, utc(2026, 12, 2, 9, 0))
    site.reply(MARCUS, "Support or Decline", "No - not supported, she has no audits outstanding",
               at=utc(2026, 12, 2, 11, 0), shape=outlook_mobile_reply)
    [declined] = letters_to(site, "aisha.patel@wexcombe.example", "not supported")
    assert "she has no audits outstanding" in text_of(declined)
    assert letters_to(site, "imogen.thackeray@wexcombe.example") == []
    assert state(site) == "declined"


def test_a_head_of_service_asking_for_a_staff_member_goes_straight_to_the_director(site):
    request(site, utc(2026, 12, 2, 9, 0), sender=MARCUS,
            words="Exemption request for Ben Hartley: he is giving evidence at a final care proceedings hearing all week.")
    [ack] = letters_to(site, "marcus.ellery@wexcombe.example", "received")
    assert "ben.hartley@wexcombe.example" in ack["Cc"]
    [ask] = letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject")
    assert "Ben Hartley" in ask["Subject"] and "statutory" in text_of(ask).lower()
    site.reply(DIRECTOR, "Approve or Reject", "Approved", at=utc(2026, 12, 2, 12, 0))
    ctx = site.open(utc(2026, 12, 3))
    [ben] = [a for a in MonthRepo(ctx.store, "2026-12").allocations() if a["auditor"].startswith("ben")]
    ctx.close()
    assert ben["exempt"] is True


@pytest.mark.parametrize("who, how, headers", [
    (FIONA, "another Head of Service answers the letter", None),
    (DIRECTOR, "the Director at the Head of Service's stage", None),
    (FIONA, "via Reply-To", {"Reply-To": "marcus.ellery@wexcombe.example"}),
    (MARCUS, "with dmarc=fail", {"Authentication-Results": "mx.wexcombe.example; dkim=none; dmarc=fail action=none"}),
    (MARCUS, "from outside Exchange", {"X-MS-Exchange-Organization-AuthAs": "Anonymous"}),
])
def test_a_decision_from_anyone_but_the_approver_changes_nothing_and_is_reported(site, who, how, headers):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = outlook_reply(who, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support")
    if headers:
        raw = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items()) + raw
    site.receive(raw, at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos", how
    [report] = refused_notes(site)
    assert report.startswith(REF) and address(who) in report
    assert letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject") == []


def test_a_replay_after_the_decision_changes_nothing_and_says_who_decided(site):
    request(site, utc(2026, 12, 2, 9, 0))
    site.reply(MARCUS, "Support or Decline", "Supported", at=utc(2026, 12, 2, 11, 0))
    # Marcus answers his old letter again, the other way, after the request moved on.
    site.reply(MARCUS, "Support or Decline", "Actually, declined", at=utc(2026, 12, 2, 12, 0))
    [already] = letters_to(site, "marcus.ellery@wexcombe.example", "Already decided")
    assert "Marcus Ellery" in text_of(already) and "2nd December 2026" in text_of(already)
    assert state(site) == "awaiting_director"
    site.reply(DIRECTOR, "Approve or Reject", "Approved", at=utc(2026, 12, 2, 13, 0))
    site.reply(DIRECTOR, "Approve or Reject", "Reject", at=utc(2026, 12, 2, 14, 0))
    assert state(site) == "approved"
    assert len(letters_to(site, "imogen.thackeray@wexcombe.example", "Already decided")) == 1


@pytest.mark.parametrize("words", ["approve?", "Can you tell me more before I decide?", "Thanks, will look later"])
def test_an_unclear_answer_decides_nothing_and_asks_again(site, words):
    request(site, utc(2026, 12, 2, 9, 0))
    site.reply(MARCUS, "Support or Decline", words, at=utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos"
    [again] = letters_to(site, "marcus.ellery@wexcombe.example", "Nothing decided yet")
    assert "Support or Decline" in again["Subject"]


def test_an_approver_away_sends_the_request_to_their_delegate_who_may_decide(site):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    site.receive(out_of_office(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 9, 1)), at=utc(2026, 12, 2, 9, 1))
    site.once(utc(2026, 12, 2, 9, 1))
    [delegated] = letters_to(site, "daniel.okafor@wexcombe.example", "Support or Decline")
    assert "Marcus Ellery" in text_of(delegated)
    site.reply(DANIEL, "Support or Decline", "Support", at=utc(2026, 12, 2, 10, 0))
    assert state(site) == "awaiting_director"


def test_a_request_in_the_last_week_is_flagged_to_the_approvers(site):
    request(site, utc(2026, 12, 28, 10, 0), words="Exemption please: a multi-agency audit for the partnership.")
    [ask] = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")
    assert "last week" in text_of(ask)
    assert "Other quality assurance activity" in text_of(ask)


def test_a_reason_outside_the_examples_is_allowed_but_flagged(site):
    request(site, utc(2026, 12, 2, 9, 0), words="I would like an exemption because I am very busy this month.")
    [ask] = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")
    assert "outside" in text_of(ask)


def test_approvers_are_reminded_then_escalated_across_christmas_and_nothing_is_decided(site):
    # Asked on Wednesday 23rd. Working days after: Thu 24 (1), Tue 29 (2), Wed 30 (3), Thu 31 (4);
    # Friday 25th and Monday 28th are bank holidays, and the weekend between.
    request(site, utc(2026, 12, 23, 10, 0))
    for day in (24, 25, 26, 27, 28):
        site.once(utc(2026, 12, day, 9, 30))
    assert letters_to(site, "marcus.ellery@wexcombe.example", "Reminder: your decision") == []
    site.once(utc(2026, 12, 29, 9, 0))
    site.once(utc(2026, 12, 29, 15, 0))
    assert len(letters_to(site, "marcus.ellery@wexcombe.example", "Reminder: your decision")) == 1
    site.once(utc(2026, 12, 30, 9, 0))
    assert letters_to(site, QA, "Still waiting") == []
    site.once(utc(2026, 12, 31, 9, 0))
    [escalation] = letters_to(site, QA, "Still waiting")
    assert "daniel.okafor@wexcombe.example" in escalation["To"]     # Marcus's delegate
    site.once(utc(2027, 1, 15, 9, 0))
    assert state(site) == "awaiting_hos"
    assert len(letters_to(site, QA, "Still waiting")) == 1


def test_status_lists_what_is_waiting_and_on_whom(site):
    request(site, utc(2026, 12, 2, 9, 0))
    text = site.status(utc(2026, 12, 7, 12, 0), "2026-12")
    assert f"{REF}  Aisha Patel: waiting on Marcus Ellery for 3 working days" in text


HANNAH = "Hannah Brightwell <hannah.brightwell@wexcombe.example>"


def test_a_delegate_cannot_decide_their_own_request_nor_two_steps_of_one(site):
    # Fiona is the Director's delegate (sample config) and Hannah's Head of Service.
    request(site, utc(2026, 12, 2, 9, 0), sender=FIONA, words="I am signed off sick for December.")
    site.receive(new_email(FIONA, MAILBOX, f"RE: [{REF}] Exemption request", utc(2026, 12, 2, 10), "Approved"),
                 at=utc(2026, 12, 2, 10, 0))
    site.once(utc(2026, 12, 2, 10, 0))
    assert state(site) == "awaiting_director"
    assert "made the request" in refused_notes(site)[-1]
    site.receive(new_email(HANNAH, MAILBOX, "Exemption request", utc(2026, 12, 2, 11), "I am in court all week."),
                 at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    site.reply(FIONA, "Support or Decline", "Support", at=utc(2026, 12, 2, 12, 0))
    site.receive(new_email(FIONA, MAILBOX, "RE: [EXM-2026-12-002] Exemption request", utc(2026, 12, 2, 13), "Approved"),
                 at=utc(2026, 12, 2, 13, 0))
    site.once(utc(2026, 12, 2, 13, 0))
    ctx = site.open(utc(2026, 12, 3))
    second = ItemRepo(ctx.store).get("EXM-2026-12-002")
    ctx.close()
    assert second["state"] == "awaiting_director"
    assert "already decided an earlier step" in refused_notes(site)[-1]


@pytest.mark.parametrize("words, requester", [
    ("Exemption request for Ben: he is giving evidence at a final hearing.", "ben.hartley@wexcombe.example"),
    ("Exemption request on behalf of Aisha Patel, who is off sick.", "aisha.patel@wexcombe.example"),
    ("Exemption request: I am in court all week; Aisha Patel is covering my duty rota.", "marcus.ellery@wexcombe.example"),
])
def test_on_behalf_only_when_the_head_of_service_says_for_whom(site, words, requester):
    request(site, utc(2026, 12, 2, 9, 0), sender=MARCUS, words=words)
    ctx = site.open(utc(2026, 12, 3))
    record = ItemRepo(ctx.store).get(REF)
    ctx.close()
    assert record["requester"] == requester


def test_a_forged_request_on_someone_s_behalf_implies_no_support(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    raw = b"Authentication-Results: mx.wexcombe.example; dmarc=fail\r\n" + new_email(
        MARCUS, MAILBOX, "Exemption request", utc(2026, 12, 2, 9), "Exemption request for Ben Hartley, in court.")
    site.receive(raw, at=utc(2026, 12, 2, 9, 0))
    site.once(utc(2026, 12, 2, 9, 0))
    ctx = site.open(utc(2026, 12, 3))
    record = ItemRepo(ctx.store).get(REF)
    ctx.close()
    assert record["requester"] == "marcus.ellery@wexcombe.example" and not record["on_behalf"]


def test_already_decided_names_who_decided_not_who_was_refused(site):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    owen = "Owen Tranter <owen.tranter@wexcombe.example>"
    site.receive(outlook_reply(owen, MAILBOX, ask, utc(2026, 12, 2, 9, 30), "Support"), at=utc(2026, 12, 2, 9, 30))
    site.once(utc(2026, 12, 2, 9, 30))
    site.reply(MARCUS, "Support or Decline", "Declined", at=utc(2026, 12, 2, 10, 0))
    site.reply(MARCUS, "Support or Decline", "Support after all", at=utc(2026, 12, 2, 11, 0))
    [already] = letters_to(site, "marcus.ellery@wexcombe.example", "Already decided")
    assert "Marcus Ellery" in text_of(already) and "Owen" not in text_of(already)


def test_a_requester_who_left_the_roster_is_still_told(site):
    request(site, utc(2026, 12, 2, 9, 0))
    roster = (site.folder / "roster.csv").read_text().splitlines()
    (site.folder / "roster2.csv").write_text("\n".join(l for l in roster if not l.startswith("aisha")) + "\n")
    from app import commands
    commands.import_roster(site.folder / "data", site.folder / "roster2.csv")
    site.reply(MARCUS, "Support or Decline", "Declined", at=utc(2026, 12, 2, 11, 0))
    assert state(site) == "declined" and not site.files("failed")


def test_after_downtime_the_approver_is_reminded_before_anyone_is_told_and_never_at_a_weekend(site):
    request(site, utc(2026, 12, 2, 9, 0))          # Wednesday; reminder due Friday 4th, escalation Tuesday 8th
    site.once(utc(2026, 12, 5, 10, 0))              # the daemon is back on Saturday: nothing
    assert letters_to(site, "marcus.ellery@wexcombe.example", "Reminder: your decision") == []
    site.once(utc(2026, 12, 9, 10, 0))              # next run Wednesday: the reminder, not yet the escalation
    [reminder] = letters_to(site, "marcus.ellery@wexcombe.example", "Reminder: your decision")
    assert "5 working days" in text_of(reminder)
    assert letters_to(site, QA, "Still waiting") == []
    site.once(utc(2026, 12, 9, 15, 0))
    assert letters_to(site, QA, "Still waiting") == []
    site.once(utc(2026, 12, 10, 9, 0))              # a working day later: the escalation
    assert len(letters_to(site, QA, "Still waiting")) == 1


def test_a_delegate_who_took_an_earlier_step_is_not_invited_to_decide(site):
    # Fiona supports Hannah's request as her Head of Service; she is also the Director's delegate.
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.receive(new_email(HANNAH, MAILBOX, "Exemption request", utc(2026, 12, 2, 9), "I am in court all week."),
                 at=utc(2026, 12, 2, 9, 0))
    site.once(utc(2026, 12, 2, 9, 0))
    site.reply(FIONA, "Support or Decline", "Support", at=utc(2026, 12, 2, 10, 0))
    for day in (4, 7, 8, 9):
        site.once(utc(2026, 12, day, 9, 0))
    [reminder] = letters_to(site, "imogen.thackeray@wexcombe.example", "Reminder: your decision")
    assert reminder["Cc"] is None
    [escalation] = letters_to(site, QA, "Still waiting")
    assert "fiona.blackwood@wexcombe.example" not in escalation["To"]


def test_the_reminder_is_copied_to_the_approver_s_delegate(site):
    request(site, utc(2026, 12, 2, 9, 0))
    site.once(utc(2026, 12, 4, 9, 0))
    [reminder] = letters_to(site, "marcus.ellery@wexcombe.example", "Reminder: your decision")
    assert "daniel.okafor@wexcombe.example" in reminder["Cc"]


def test_status_shows_what_waits_even_before_the_month_is_issued(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.receive(new_email(AISHA, MAILBOX, "Exemption request", utc(2027, 1, 2, 9), "Off sick in January."),
                 at=utc(2027, 1, 2, 9, 0))
    site.once(utc(2027, 1, 2, 9, 0))
    text = site.status(utc(2027, 1, 4, 12, 0))
    assert text.startswith("December 2026") and "EXM-2027-01-001  Aisha Patel: waiting on Marcus Ellery" in text


def test_letters_to_the_director_are_signed_by_the_qa_team_not_by_the_director(site):
    request(site, utc(2026, 12, 2, 9, 0), sender=MARCUS, words="Exemption request for Ben Hartley: in court all week.")
    [ask] = letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject")
    signed = text_of(ask).split("Yours sincerely")[1]
    assert "The Quality Assurance Team" in signed and "Imogen Thackeray" not in signed
    [ack] = letters_to(site, "marcus.ellery@wexcombe.example", "received")
    assert "Imogen Thackeray" in text_of(ack).split("Yours sincerely")[1]


def test_the_head_of_service_s_comment_reaches_the_director_without_their_sign_off(site):
    request(site, utc(2026, 12, 2, 9, 0))
    site.reply(MARCUS, "Support or Decline", "Support - the surgery is booked.\n\nMarcus", at=utc(2026, 12, 2, 11, 0),
               shape=gmail_reply)
    [to_director] = letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject")
    words = text_of(to_director)
    assert "the surgery is booked." in words and "booked. Marcus" not in words


def test_status_shows_this_month_s_triage_beside_the_month_it_reports(site):
    request(site, utc(2026, 12, 2, 9, 0))
    owen = "Owen Tranter <owen.tranter@wexcombe.example>"
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    site.receive(outlook_reply(owen, MAILBOX, ask, utc(2027, 1, 5, 9, 30), "Support"), at=utc(2027, 1, 5, 9, 30))
    site.once(utc(2027, 1, 5, 9, 30))
    text = site.status(utc(2027, 1, 5, 12, 0))
    assert text.startswith("December 2026")
    assert "For the QA team to look at, January 2027" in text and "owen.tranter@wexcombe.example refused" in text
