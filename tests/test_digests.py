"""The digests as the QA team and the Heads of Service read them: built from a real month, sent once, never empty."""
import pytest

from app.demo_mail import new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, sample, text_of, utc
from db.outbox import OutboxRepo

AISHA, BEN, CHLOE = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example", "chloe.dunmore@wexcombe.example"
SIOBHAN, OWEN = "siobhan.reilly@wexcombe.example", "owen.tranter@wexcombe.example"
HANNAH, GARETH = "hannah.brightwell@wexcombe.example", "gareth.lyle@wexcombe.example"
MARCUS, FIONA = "marcus.ellery@wexcombe.example", "fiona.blackwood@wexcombe.example"
PRIYA, TOMASZ = "priya.ramsden@wexcombe.example", "tomasz.kowal@wexcombe.example"
DECEMBER = f"""auditor_email,case_ref,audit_type,team_manager_email
{AISHA},CR-40117,monthly,{GARETH}
{BEN},CR-40133,dip sample,
{CHLOE},CR-40158,monthly,
{SIOBHAN},CR-40162,monthly,
{HANNAH},CR-40170,thematic,
"""
pytestmark = pytest.mark.digests  # these stories run with the scheduled digests (see conftest.py)
FORGED = b"Authentication-Results: mx.wexcombe.example; spf=fail; dkim=none; dmarc=fail action=none\r\n"


def answer(site, sender: str, letter, words: str, at):
    site.receive(outlook_reply(sender, MAILBOX, letter, at, words), at=at)


def ask_exemption(site, sender: str, at):
    site.receive(new_email(sender, MAILBOX, "Exemption request", at, "I am signed off sick for December after surgery."),
                 at=at)


def digests(site, to=PRIYA, part="QA daily digest"):
    return letters_to(site, to, part)


def a_built_month(site):
    """November for Owen; December issued on the 1st; two exemption requests on the 2nd; a busy early morning on the 3rd."""
    issue(site, "2026-11", f"auditor_email,case_ref,audit_type\n{OWEN},CR-39001,monthly\n", utc(2026, 11, 2, 8, 30))
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ask_exemption(site, CHLOE, utc(2026, 12, 2, 9, 0))
    ask_exemption(site, SIOBHAN, utc(2026, 12, 2, 9, 1))
    site.once(utc(2026, 12, 2, 9, 5))
    asks = letters_to(site, MARCUS, "Support or Decline")
    [chloes] = [m for m in asks if "Chloe" in text_of(m)]
    [siobhans] = [m for m in asks if "Siobhan" in text_of(m)]
    chloes_ref, siobhans_ref = (m["Subject"].split("]")[0].strip("[") for m in (chloes, siobhans))
    at = utc(2026, 12, 3, 6, 0)
    answer(site, AISHA, letters_to(site, AISHA, "Your audits")[0],
           "Grade: Inadequate\nRemedial action: yes - no visit since October", at)
    answer(site, BEN, letters_to(site, BEN, "Your audits")[0], "Grade: Good", at)
    answer(site, OWEN, letters_to(site, OWEN, "Your audits")[0], "Grade: Requires improvement", at)
    answer(site, f"Marcus Ellery <{MARCUS}>", siobhans, "Decline - we need her audit this month.", at)
    site.receive(FORGED + outlook_reply(MARCUS, MAILBOX, chloes, at, "Support"), at=at)
    site.receive(new_email("duty.team@harbourfield-police.example", MAILBOX, "Concern raised about case CR-40133", at,
                           "Please call us about the referral."), at=at)
    site.receive(new_email(BEN, MAILBOX, "Question", at, "What should I do next?"), at=at)
    site.receive(sample("malformed.eml"), at=at)
    site.receive(sample("dsn_bounce.eml"), at=at)
    site.once(utc(2026, 12, 3, 7, 0))
    return chloes_ref, siobhans_ref


def set_aside_a_letter(site):
    ctx = site.open(utc(2026, 12, 3, 7, 10))
    with ctx.store.transaction():   # a letter the mail server refused for good, set aside for a person
        outbox = OutboxRepo(ctx.store)
        outbox.add({"message_id": "<set-aside-1@wexcombe.example>", "kind": "receipt", "refs": ["AUD-2026-12-002"],
                    "to": [BEN], "cc": [], "created_at": "2026-12-03T07:10:00+00:00",
                    "raw": b"Subject: [AUD-2026-12-002] Received\r\n\r\nThank you.\r\n"})
        outbox.set_aside("<set-aside-1@wexcombe.example>", "550 mailbox unavailable", utc(2026, 12, 3, 7, 10))
    ctx.close()


def test_the_qa_digest_lists_each_section_from_a_built_month(site):
    chloes, siobhans = a_built_month(site)
    set_aside_a_letter(site)
    before = len(digests(site))
    site.once(utc(2026, 12, 3, 8, 5))
    site.once(utc(2026, 12, 3, 12, 0))                      # a later pass the same day sends no second digest
    [digest] = digests(site)[before:]
    assert TOMASZ in digest["To"] and "digest" in digest["Subject"].lower()
    assert digest["Subject"] == "QA daily digest: Thursday 3rd December 2026"
    body = text_of(digest)
    sections = {title: body.split(title, 1)[1] for title in (
        "New submissions", "Late submissions", "Waiting for an answer", "Decided since the last digest",
        "Remedial actions raised", "Letters not delivered or set aside", "Mail from outside the roster",
        "Mail the service could not understand", "Messages that could not be handled", "Decisions refused")}
    assert "AUD-2026-12-001: Inadequate, from Aisha Patel" in sections["New submissions"]
    assert "AUD-2026-12-002: Good, from Ben Hartley" in sections["New submissions"]
    assert "AUD-2026-11-001: Requires improvement, from Owen Tranter" in sections["Late submissions"]
    assert "waiting on Marcus Ellery for 1 working day" in sections["Waiting for an answer"]
    assert "waiting on Marcus Ellery: waiting on" not in body        # whom it waits on, said once
    # The service's own working note to the QA team: in the audit mailbox's voice, not the Director's.
    assert "Please ask for" not in body and "Imogen Thackeray" not in body
    assert "The QA audit mailbox Wexcombe County Council" in body
    assert ("ACT-2026-12-001 (audit AUD-2026-12-001, case CR-40117): remedial action owned by Gareth Lyle, due "
            "17 Dec 2026: waiting on Gareth Lyle since today") in sections["Waiting for an answer"]
    assert f"{siobhans} (exemption): declined by Marcus Ellery" in sections["Decided since the last digest"]
    assert "ACT-2026-12-001 (audit AUD-2026-12-001, case CR-40117): remedial action owned by Gareth Lyle, due 17 Dec 2026" \
        in sections["Remedial actions raised"]
    assert "550 mailbox unavailable" in sections["Letters not delivered or set aside"]
    assert "auditmail resend <set-aside-1@wexcombe.example>" in sections["Letters not delivered or set aside"]
    assert "bounce from mailer-daemon@mx.wexcombe.example" in sections["Letters not delivered or set aside"]
    assert ("duty.team@harbourfield-police.example, who is not on the roster, subject: Concern raised about case "
            "CR-40133") in sections["Mail from outside the roster"]
    assert f"unclear mail from {BEN}" in sections["Mail the service could not understand"]
    assert "moved to failed/" in sections["Messages that could not be handled"]
    assert f"{chloes}: decision from {MARCUS} refused" in sections["Decisions refused"]
    assert not letters_to(site, PRIYA, "refused")          # gathered here, no letter of its own


def test_an_overdue_action_is_listed_and_the_next_digest_covers_only_what_is_new(site):
    a_built_month(site)
    site.once(utc(2026, 12, 3, 8, 5))
    site.once(utc(2026, 12, 18, 8, 5))
    body = text_of(digests(site)[-1])
    assert "Remedial actions overdue" in body and "ACT-2026-12-001" in body.split("Remedial actions overdue")[1]
    assert "New submissions" not in body and "Mail from outside the roster" not in body


def test_an_empty_day_sends_nothing(site):
    site.once(utc(2026, 12, 3, 8, 5))
    site.once(utc(2026, 12, 7, 8, 5))                       # a Monday: no Head of Service has anything either
    assert not [m for m in site.sent() if "digest" in m["Subject"].lower()]


def test_a_digest_missed_at_eight_goes_once_when_the_daemon_is_back_the_same_day_only(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ask_exemption(site, CHLOE, utc(2026, 12, 1, 9, 0))
    site.once(utc(2026, 12, 1, 9, 5))                        # Tuesday's digest: the request waits
    site.once(utc(2026, 12, 3, 15, 0))                       # down all Wednesday; back Thursday afternoon
    site.once(utc(2026, 12, 3, 16, 0))
    days = [m["Subject"] for m in digests(site)]
    assert days == ["QA daily digest: Tuesday 1st December 2026", "QA daily digest: Thursday 3rd December 2026"]


def test_each_head_of_service_gets_a_monday_digest_of_their_own_staff_only(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    answer(site, AISHA, letters_to(site, AISHA, "Your audits")[0], "Grade: Good", utc(2026, 12, 2, 10, 0))
    ask_exemption(site, CHLOE, utc(2026, 12, 2, 10, 0))
    site.once(utc(2026, 12, 2, 10, 5))
    site.once(utc(2026, 12, 7, 7, 0))                        # Monday, before the hour
    assert not digests(site, MARCUS, "Weekly digest")
    site.once(utc(2026, 12, 7, 8, 5))
    site.once(utc(2026, 12, 7, 9, 0))
    [marcus] = digests(site, MARCUS, "Weekly digest")
    assert marcus["Subject"] == "Weekly digest for Children in Care: audits for December 2026"
    body = text_of(marcus)
    assert "Aisha Patel: AUD-2026-12-001 (monthly): Good" in body.split("Submitted")[1]
    not_yet = body.split("Not yet submitted")[1].split("Submitted")[0]
    assert "Ben Hartley: AUD-2026-12-002" in not_yet and "Siobhan Reilly" in not_yet
    assert "EXM-2026-12-001" in body.split("Waiting on you")[1]
    assert "Hannah" not in body and "AUD-2026-12-005" not in body
    [fiona] = digests(site, FIONA, "Weekly digest")
    assert "Hannah Brightwell: AUD-2026-12-005" in text_of(fiona) and "Aisha" not in text_of(fiona)
    assert not digests(site, "daniel.okafor@wexcombe.example", "Weekly digest")   # no staff audits, nothing waiting
    site.once(utc(2026, 12, 8, 8, 5))                        # Tuesday: no Head of Service digest
    assert len(digests(site, MARCUS, "Weekly digest")) == 1


def test_fifty_forged_decisions_send_no_letter_each_and_one_digest_lists_them(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ask_exemption(site, CHLOE, utc(2026, 12, 1, 9, 0))
    site.once(utc(2026, 12, 1, 9, 5))
    [ask] = letters_to(site, MARCUS, "Support or Decline")
    at = utc(2026, 12, 2, 6, 0)
    for n in range(50):
        site.receive(FORGED + outlook_reply(MARCUS, MAILBOX, ask, at, "Support"), at=at, name=f"forged-{n:02d}")
    site.once(utc(2026, 12, 2, 6, 30))
    assert not letters_to(site, PRIYA, "refused")
    site.once(utc(2026, 12, 2, 8, 5))
    [digest] = digests(site)[1:]
    refused = text_of(digest).split("Decisions refused")[1]
    assert f"EXM-2026-12-001: decision from {MARCUS} refused (it failed the DMARC check" in refused
    assert "(50 times, the last at 06:00 Wed 02 Dec)" in refused
    assert len(letters_to(site, PRIYA)) == 2  # the two digests, nothing else


def test_mail_handled_in_the_pass_that_sent_a_digest_is_not_news_the_next_day(site):
    # The daemon was down at 08:00: at 09:00 one pass handles Aisha's reply and then sends the day's
    # digest, which lists it. The next morning's digest covers what came after, not that again.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    at = utc(2026, 12, 3, 9, 0)
    answer(site, AISHA, letters_to(site, AISHA, "Your audits")[0], "Grade: Good", at)
    site.once(at)
    assert "AUD-2026-12-001: Good, from Aisha Patel" in text_of(digests(site)[-1])
    before = len(digests(site))
    site.once(utc(2026, 12, 4, 8, 5))
    assert not any("AUD-2026-12-001: Good" in text_of(m) for m in digests(site)[before:])
