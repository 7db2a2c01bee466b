"""The digests are the service's own working notes to colleagues, and say only what is true.

They come from the QA audit mailbox under the organisation's name (no Director's signature, no
"Please ask for"); a decision the service itself made is said to be the audit mailbox's, never the
bare address; after the month's deadline an audit not received is missed, not "not yet submitted";
and something asked today waits "since today", never "for 0 working days".
"""
from datetime import datetime, timedelta

import pytest

from letters import LONDON, body, render, words
from test_digests_letters import contexts
from workflows.calendar import WorkingCalendar
from workflows.digests import QaFacts, Waiting, build_hos_digest, build_qa_digest
from workflows.items import People
from workflows.roster import Person

MAILBOX = "qa-audits@wexcombe.example"
AISHA = Person("aisha.patel@wexcombe.example", "Aisha Patel", ("auditor",), "Children in Care",
               "marcus.ellery@wexcombe.example")
BEN = Person("ben.hartley@wexcombe.example", "Ben Hartley", ("auditor",), "Children in Care",
             "marcus.ellery@wexcombe.example")
CHLOE = Person("chloe.dunmore@wexcombe.example", "Chloe Dunmore", ("auditor",), "Children in Care",
               "marcus.ellery@wexcombe.example")
PEOPLE = People({p.email: p for p in (AISHA, BEN, CHLOE)}, director="imogen.thackeray@wexcombe.example")
CALENDAR = WorkingCalendar()


@pytest.mark.parametrize("name", ["digests/qa", "digests/hos"])
def test_a_digest_comes_from_the_audit_mailbox_not_the_director(composer, name):
    text, html = render(composer, name, contexts()[name])
    for part in (text, words(html)):
        assert "Please ask for" not in part and "Imogen Thackeray" not in part and "Director" not in part
        assert "QA audit mailbox" in part and "Wexcombe County Council" in part and "Our Ref:" in part
    assert text.split("Yours sincerely", 1)[1].split("-- ")[0].split() == \
        ["The", "QA", "audit", "mailbox", "Wexcombe", "County", "Council"]


def test_other_letters_keep_the_directors_letterhead(composer):
    text, _ = render(composer, "actions/alert", contexts()["actions/alert"])
    assert "Please ask for: Imogen Thackeray" in text and "QA audit mailbox\n" not in text.split("Dear")[0]


def test_a_decision_the_service_made_names_the_audit_mailbox_not_its_address():
    now = datetime(2026, 12, 7, 9, 5, tzinfo=LONDON)
    facts = QaFacts(since=now - timedelta(days=1), now=now, mailbox=MAILBOX, decided=[
        {"reference": "MOD-2026-11-002", "kind": "moderation", "action": "closed without moderation",
         "by": MAILBOX, "at": now.isoformat()}])
    [decided] = [s for s in build_qa_digest(facts, PEOPLE, CALENDAR) if s.key == "decided"]
    assert decided.rows == ("MOD-2026-11-002 (moderation): closed without moderation by the Quality Assurance "
                            "Team's audit mailbox at 09:05 Mon 07 Dec",)
    # The same words the already-decided answer uses (app/replies.py): one helper for both.
    assert PEOPLE.decider(MAILBOX.upper(), MAILBOX) == "the Quality Assurance Team's audit mailbox"
    assert PEOPLE.decider(AISHA.email, MAILBOX) == "Aisha Patel"


def hos_sections(now: datetime) -> dict:
    allocations = [
        {"reference": "AUD-2026-12-001", "auditor": AISHA.email, "audit_type": "monthly", "deadline": None},
        {"reference": "AUD-2026-12-002", "auditor": BEN.email, "audit_type": "monthly",
         "deadline": datetime(2027, 1, 8, 23, 59, tzinfo=LONDON).isoformat()},
        {"reference": "AUD-2026-12-003", "auditor": CHLOE.email, "audit_type": "monthly", "deadline": None}]
    submissions = {"AUD-2026-12-003": [{"reference": "AUD-2026-12-003", "grade": "Good", "counts": True,
                                        "received_at": datetime(2026, 12, 20, tzinfo=LONDON).isoformat()}]}
    return {s.key: s for s in build_hos_digest("2026-12", allocations, submissions, [], [], PEOPLE, CALENDAR, now)}


def test_before_the_deadline_audits_not_received_are_not_yet_submitted():
    sections = hos_sections(datetime(2026, 12, 14, 8, 5, tzinfo=LONDON))
    assert sections["not_submitted"].rows == ("Aisha Patel: AUD-2026-12-001 (monthly), due 31 Dec",
                                              "Ben Hartley: AUD-2026-12-002 (monthly), due 08 Jan (agreed later date)")
    assert "missed" not in sections


def test_after_the_deadline_an_audit_not_received_was_missed_unless_a_later_date_was_agreed():
    sections = hos_sections(datetime(2027, 1, 4, 8, 5, tzinfo=LONDON))
    assert sections["missed"].title == "Not completed on time (not received by the deadline)"
    assert sections["missed"].rows == ("Aisha Patel: AUD-2026-12-001 (monthly), was due 31 Dec",)
    assert sections["not_submitted"].rows == ("Ben Hartley: AUD-2026-12-002 (monthly), due 08 Jan (agreed later date)",)
    later = hos_sections(datetime(2027, 1, 11, 8, 5, tzinfo=LONDON))
    assert later["missed"].rows[1] == "Ben Hartley: AUD-2026-12-002 (monthly), was due 08 Jan (agreed later date)"
    assert "not_submitted" not in later


def test_something_asked_today_waits_since_today():
    now = datetime(2026, 12, 7, 15, 0, tzinfo=LONDON)
    waiting = [Waiting("Director's letter", "LTR-2026-11-001", "LTR-2026-11-001: the draft letter to all staff, "
                       "waiting for Imogen Thackeray to reply Send or Don't send", (PEOPLE.director,),
                       now - timedelta(hours=6)),
               Waiting("exemption", "EXM-2026-12-001", "EXM-2026-12-001", ("marcus.ellery@wexcombe.example",),
                       now - timedelta(days=1))]
    [section] = [s for s in build_qa_digest(QaFacts(since=now - timedelta(days=1), now=now, waiting=waiting),
                                            PEOPLE, CALENDAR) if s.key == "waiting"]
    assert section.rows[1] == ("LTR-2026-11-001: the draft letter to all staff, waiting for Imogen Thackeray to "
                               "reply Send or Don't send since today")
    assert "0 working days" not in " ".join(section.rows)
