"""The Director's letter by reply: the draft goes to the Director alone; only their Send sends it, once, to each auditor.

The story: moderation has closed for December 2026, the report job proposes the letter (here called
directly), and the Director answers from Outlook (tests/data/director_send_outlook.eml).
"""
import re

import pytest
from freezegun import freeze_time

from app.demo_mail import gmail_reply
from app.director_letter import propose_director_letter, write_director_draft
from conftest import MAILBOX, letters_to, sample, text_of, threaded_under, utc
from db.items import ItemRepo
from db.ledger import Ledger
from workflows.results import MonthResult

DIRECTOR = "imogen.thackeray@wexcombe.example"
AISHA = "aisha.patel@wexcombe.example"
REF = "LTR-2026-12-001"
PROPOSED_AT, ANSWERED_AT = utc(2027, 1, 8, 9, 0), utc(2027, 1, 8, 10, 47, 31)


def result(month: str, rate: float, good: float, inadequate: float) -> MonthResult:
    return MonthResult(month=month, allocated=20, exempt=0, due=20, completed=round(rate / 5), completion_rate=rate,
                       graded=round(rate / 5), good_or_better_pct=good, inadequate_pct=inadequate,
                       good_met=good >= 40, inadequate_met=inadequate < 12)


RESULTS = [result("2026-10", 90.0, 45.0, 10.0), result("2026-11", 85.0, 50.0, 5.0), result("2026-12", 80.0, 47.1, 5.9)]


def propose(site) -> str:
    with freeze_time(PROPOSED_AT):
        ctx = site.open()
        try:
            with ctx.store.transaction():
                reference = propose_director_letter(ctx, "2026-12", RESULTS)
        finally:
            ctx.close()
    site.once(PROPOSED_AT)  # delivers the outbox
    return reference


def auditors(site) -> list[str]:
    ctx = site.open(read_only=True)
    try:
        return ctx.people.with_role("auditor")
    finally:
        ctx.close()


def record(site) -> dict:
    ctx = site.open(read_only=True)
    try:
        return ItemRepo(ctx.store).get(REF)
    finally:
        ctx.close()


def outlook_send(site) -> bytes:
    """The Director's "Send" from Outlook (tests/data/director_send_outlook.eml), threaded under our draft."""
    [draft] = letters_to(site, DIRECTOR, "Draft letter")
    return threaded_under(sample("director_send_outlook.eml"), draft)


def staff_letters(site) -> list:
    return [m for m in site.sent() if m["Subject"].startswith("Monthly quality assurance auditing standards")]


def test_the_draft_goes_to_the_director_only_and_nothing_more_until_they_answer(site):
    assert propose(site) == REF
    [draft] = site.sent()
    assert draft["To"] == DIRECTOR and draft["Cc"] is None
    assert draft["Subject"] == f"[{REF}] Draft letter to all staff for December 2026: please reply Send or Don't send"
    assert "draft letter to all staff" in draft["Subject"].lower()
    text = text_of(draft)
    assert "47.1% of the practice audited was rated good or better" in text
    assert f"each of the {len(auditors(site))} active auditors individually" in text
    # The cover note claims only what proposing the draft means: moderation closed, the report went.
    assert "Moderation of the December 2026 audits has closed" in text and "have been moderated" not in text
    assert record(site)["state"] == "awaiting_director"
    # Proposed again (the report job runs at every pass): the same item, nothing new sent.
    assert propose(site) == REF and len(site.sent()) == 1


def test_send_from_the_director_sends_one_letter_to_each_active_auditor_alone(site):
    propose(site)
    site.receive(outlook_send(site), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    sent = staff_letters(site)
    assert sorted(m["To"] for m in sent) == auditors(site) and len(sent) == 17
    for message in sent:
        assert "," not in message["To"] and message["Cc"] is None and message["Bcc"] is None
        assert message["To"] not in text_of(message)   # no recipient list in the body either
        assert "Dear Colleagues" in text_of(message) and "Imogen Thackeray" in text_of(message)
        assert "consistently met our short-term targets" in text_of(message)
    stored = record(site)
    assert stored["state"] == "sent" and sorted(stored["recipients"]) == auditors(site)
    assert stored["history"][-1]["by"] == DIRECTOR and stored["history"][-1]["decision"] == "send"


def test_a_second_send_and_a_replay_send_nothing_more(site):
    propose(site)
    site.receive(outlook_send(site), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    [draft] = letters_to(site, DIRECTOR, "Draft letter")
    later = utc(2027, 1, 8, 11, 30)
    site.receive(gmail_reply(DIRECTOR, MAILBOX, draft, later, "Send"), at=later)
    site.receive(outlook_send(site), at=later, name="replayed")
    site.once(later)
    assert len(staff_letters(site)) == 17
    [already] = letters_to(site, DIRECTOR, "Already decided")
    assert "approved by Imogen Thackeray" in text_of(already)


def test_a_crash_between_posting_the_letters_and_marking_the_reply_handled_sends_them_once(site, monkeypatch):
    propose(site)
    site.receive(outlook_send(site), at=ANSWERED_AT)

    class Crash(BaseException):
        """The process dying mid-transaction (not an error the pass would catch and set aside)."""

    def crash(*args, **kwargs):
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(Ledger, "mark_handled", crash)
        with pytest.raises(Crash):
            site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and record(site)["state"] == "awaiting_director"
    site.once(utc(2027, 1, 8, 10, 50))    # the daemon restarts and finds the reply still in the inbox
    assert len(staff_letters(site)) == 17
    site.once(utc(2027, 1, 8, 11, 0))
    assert len(staff_letters(site)) == 17


@pytest.mark.parametrize("sender", [AISHA, "marcus.ellery@wexcombe.example", "priya.ramsden@wexcombe.example"])
def test_only_the_director_may_send_it(site, sender):
    propose(site)
    [draft] = letters_to(site, DIRECTOR, "Draft letter")
    site.receive(gmail_reply(sender, MAILBOX, draft, ANSWERED_AT, "Send"), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and record(site)["state"] == "awaiting_director"


def test_a_forged_send_changes_nothing(site):
    propose(site)
    forged = outlook_send(site).replace(
        b"Accept-Language:", b"Authentication-Results: mx.wexcombe.example; dmarc=fail header.from=wexcombe.example\r\n"
                             b"Accept-Language:", 1)
    site.receive(forged, at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and record(site)["state"] == "awaiting_director"


def test_dont_send_sends_nothing_and_anything_unclear_is_asked_again(site):
    propose(site)
    [draft] = letters_to(site, DIRECTOR, "Draft letter")
    site.receive(gmail_reply(DIRECTOR, MAILBOX, draft, ANSWERED_AT, "Send?"), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    [again] = letters_to(site, DIRECTOR, "Nothing decided yet")
    assert re.search(r"please reply Send or Don't send", again["Subject"])
    assert record(site)["state"] == "awaiting_director"
    later = utc(2027, 1, 8, 12, 0)
    site.receive(gmail_reply(DIRECTOR, MAILBOX, draft, later, "Don't send - I will rewrite the second paragraph"),
                 at=later)
    site.once(later)
    assert staff_letters(site) == []
    stored = record(site)
    assert stored["state"] == "not_sent" and stored["history"][-1]["comment"] == "I will rewrite the second paragraph"


def test_report_out_writes_the_draft_for_editing_by_hand_readable_by_the_service_only(site, tmp_path):
    ctx = site.open(utc(2027, 1, 8, 9, 0), read_only=True)
    try:
        written = write_director_draft(ctx, "2026-12", RESULTS, tmp_path / "out")
    finally:
        ctx.close()
    assert [p.name for p in written] == ["director-letter-2026-12.html", "director-letter-2026-12.txt"]
    for path in written:
        assert path.stat().st_mode & 0o777 == 0o600
    text = " ".join(written[1].read_text(encoding="utf-8").split())
    assert "Dear Colleagues" in text and "consistently met our short-term targets" in text
    assert "<script" not in written[0].read_text(encoding="utf-8")


def test_the_director_s_configured_delegate_may_send_it_in_their_place(site):
    assert 'imogen.thackeray@wexcombe.example" = "fiona.blackwood@wexcombe.example"' in site.config_path.read_text()
    propose(site)
    [draft] = letters_to(site, DIRECTOR, "Draft letter")
    site.receive(gmail_reply("fiona.blackwood@wexcombe.example", MAILBOX, draft, ANSWERED_AT, "Send"), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert len(staff_letters(site)) == 17
    assert record(site)["history"][-1]["by"] == "fiona.blackwood@wexcombe.example"


def test_a_send_that_does_not_answer_our_draft_is_asked_about_again_and_sends_nothing(site):
    # The same Outlook reply with its threading headers gone (forwarded, copied into a new email, or a
    # lookalike someone else sent the Director): the bracketed reference alone never sends the letter.
    propose(site)
    site.receive("director_send_outlook.eml", at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and record(site)["state"] == "awaiting_director"
    [asked] = letters_to(site, DIRECTOR, "Nothing decided yet")
    assert "only a reply to our own email about LTR-2026-12-001 can decide it" in text_of(asked)
    site.reply(f"Imogen Thackeray <{DIRECTOR}>", "Nothing decided yet", "Send", at=utc(2027, 1, 8, 11, 0))
    assert len(staff_letters(site)) == 17, "answering the question in our thread sends it"
