"""After the deadline the letters add up: every audit not completed on time is listed, with the total.

December 2026 for eight auditors in three services: three on time, one late, three not received
and one with a later date agreed by the QA team (through the real slippage conversation). The
figures expected are worked out by hand below; the letters are read as their readers would.
"""
import re

from app.demo_mail import gmail_reply, outlook_reply
from conftest import MAILBOX, issue, letters_to, text_of, utc

DIRECTOR = "imogen.thackeray@wexcombe.example"
MARCUS, FIONA, DANIEL = ("marcus.ellery@wexcombe.example", "fiona.blackwood@wexcombe.example",
                         "daniel.okafor@wexcombe.example")
AISHA, BEN, CHLOE = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example", "chloe.dunmore@wexcombe.example"
HANNAH, OWEN = "hannah.brightwell@wexcombe.example", "owen.tranter@wexcombe.example"
LAURA, NEIL = "laura.penrose@wexcombe.example", "neil.ashdown@wexcombe.example"
PRIYA = "Priya Ramsden <priya.ramsden@wexcombe.example>"
ORDER = [AISHA, BEN, CHLOE, MARCUS, HANNAH, OWEN, LAURA, NEIL]   # AUD-2026-12-001 … 008, in this order
DECEMBER = "auditor_email,case_ref,audit_type\n" + "".join(
    f"{who},CR-{40100 + n},monthly\n" for n, who in enumerate(ORDER, start=1))
REF = {who: f"AUD-2026-12-{n:03d}" for n, who in enumerate(ORDER, start=1)}
FIRST_WORKING_DAY = utc(2027, 1, 4, 9, 0)

# By hand: on time Aisha, Owen, Neil; late Hannah; not received Chloe, Marcus (his own), Laura;
# Ben's later date (7 January) agreed and not yet passed on the 4th.
NOT_ON_TIME = {"all services": {BEN, CHLOE, MARCUS, HANNAH, LAURA},
               "Children in Care": {BEN, CHLOE, MARCUS},
               "Safeguarding and Assessment": {HANNAH},
               "Early Help and Family Support": {LAURA}}


def submit(site, who, at, grade="Good"):
    [letter] = letters_to(site, who, "Your audits")
    site.receive(gmail_reply(who, MAILBOX, letter, at, f"Grade: {grade}"), at=at)
    site.once(at)


def ben_agrees_a_later_date_with_the_qa_team(site, date_words="7 January"):
    [letter] = letters_to(site, BEN, "Your audits")
    at = utc(2026, 12, 18, 10, 0)
    raw = outlook_reply(f"Ben Hartley <{BEN}>", MAILBOX, letter, at, "I may not make the deadline: in court all week.")
    site.receive(raw.replace(b"Subject: RE: ", b"Subject: Slippage - RE: ", 1), at=at)
    site.once(at)
    ask = letters_to(site, "priya.ramsden@wexcombe.example", "accommodate")[-1]
    at = utc(2026, 12, 18, 14, 0)
    site.receive(gmail_reply(PRIYA, MAILBOX, ask, at, f"Yes, by {date_words}"), at=at)
    site.once(at)


def december(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ben_agrees_a_later_date_with_the_qa_team(site)
    for who in (AISHA, OWEN, NEIL):
        submit(site, who, utc(2026, 12, 14, 10, 0))
    submit(site, HANNAH, utc(2027, 1, 1, 0, 0, 5))    # five seconds late: her receipt says "not counted"


def the_list(site, reader, subject="not completed by the deadline") -> str:
    [letter] = letters_to(site, reader, subject)
    assert letter["To"] == reader
    return text_of(letter)


def listed(text: str) -> set[str]:
    """The auditors whose audits a list names (by their reference, the only way a case appears)."""
    return {who for who, ref in REF.items() if ref in text}


def figure(text: str, label: str) -> int:
    return int(re.search(rf"\b{label} (\d+)", text).group(1))


def test_every_list_names_every_audit_not_completed_on_time_and_its_total_adds_up(site):
    december(site)
    site.once(FIRST_WORKING_DAY)
    for reader, service in ((DIRECTOR, "all services"), (MARCUS, "Children in Care"),
                            (FIONA, "Safeguarding and Assessment"), (DANIEL, "Early Help and Family Support")):
        text = the_list(site, reader)
        assert f"For {service}, the month's audits stand as follows" in text
        assert listed(text) == NOT_ON_TIME[service], reader
        total = figure(text, "Not completed on time")
        assert total == len(NOT_ON_TIME[service]) and f"These {total} audits were not completed on time" in text
        assert total == figure(text, "Allocated") - figure(text, "Exempt") - figure(text, "Completed on time")
    # The Heads of Service's lists together are the Director's, with nothing left out or counted twice.
    by_service = [listed(the_list(site, hos)) for hos in (MARCUS, FIONA, DANIEL)]
    assert set().union(*by_service) == listed(the_list(site, DIRECTOR)) and sum(map(len, by_service)) == 5
    assert figure(the_list(site, DIRECTOR), "Allocated") == 8 and figure(the_list(site, DIRECTOR), "Completed on time") == 3


def test_an_audit_with_an_agreed_later_date_is_shown_as_such(site):
    december(site)
    site.once(FIRST_WORKING_DAY)
    for reader in (DIRECTOR, MARCUS):
        text = the_list(site, reader)
        assert f"{REF[BEN]} CR-40102 Monthly Later date agreed: Thursday 7th January 2027" in text
        assert f"{REF[CHLOE]} CR-40103 Monthly Not received" in text
    assert f"{REF[HANNAH]} CR-40105 Monthly Received late" in the_list(site, DIRECTOR)
    assert letters_to(site, BEN, "Not counted") == []      # his date has not come yet


def test_no_second_notice_after_a_not_counted_receipt_and_never_two_for_one_audit(site):
    december(site)
    [receipt] = letters_to(site, HANNAH, "not counted")
    assert receipt["Subject"].startswith(f"[{REF[HANNAH]}] Received after the deadline: not counted")
    site.once(FIRST_WORKING_DAY)
    site.once(utc(2027, 1, 4, 15, 0))
    assert letters_to(site, HANNAH, "Not counted") == []
    for who in (CHLOE, MARCUS, LAURA):
        [notice] = letters_to(site, who, "Not counted")
        assert notice["Subject"] == f"[{REF[who]}] Not counted: your audits for December 2026"
    # Ben's agreed date passes with nothing received: he is told, and nobody is told a second time.
    site.once(utc(2027, 1, 8, 9, 0))
    site.once(utc(2027, 1, 11, 9, 0))
    [ben] = letters_to(site, BEN, "Not counted")
    assert REF[BEN] in ben["Subject"]
    for who in (CHLOE, MARCUS, LAURA):
        assert len(letters_to(site, who, "Not counted")) == 1
    # Chloe then sends hers late: her receipt says so, and still no second notice follows.
    submit(site, CHLOE, utc(2027, 1, 11, 10, 0))
    site.once(utc(2027, 1, 12, 9, 0))
    assert len(letters_to(site, CHLOE, "Not counted")) == 1


def test_the_final_figures_go_once_after_the_agreed_dates_have_passed(site):
    december(site)
    site.once(FIRST_WORKING_DAY)
    site.once(utc(2027, 1, 7, 9, 0))
    site.once(utc(2027, 1, 8, 8, 59))       # Ben's date was the 7th; the figures are final on the 8th at 09:00
    assert letters_to(site, DIRECTOR, "Final figures") == []
    site.once(utc(2027, 1, 8, 9, 0))
    site.once(utc(2027, 1, 8, 9, 30))
    site.once(utc(2027, 1, 11, 9, 0))
    for reader in (DIRECTOR, MARCUS):
        [final] = letters_to(site, reader, "Final figures")
        text = text_of(final)
        assert "so these are the month's final figures" in text
        assert f"{REF[BEN]} CR-40102 Monthly Not received" in text and "Later date agreed" not in text
        assert figure(text, "Not completed on time") == len(listed(text))
    # Only the readers whose audits had an agreed date wait for final figures; the others' lists were final.
    assert letters_to(site, FIONA, "Final figures") == [] and letters_to(site, DANIEL, "Final figures") == []
    # The first lists went once each, too.
    assert len(letters_to(site, DIRECTOR, "not completed by the deadline")) == 1


def test_an_audit_sent_by_its_agreed_date_counts_in_the_final_figures(site):
    december(site)
    site.once(FIRST_WORKING_DAY)
    submit(site, BEN, utc(2027, 1, 7, 23, 0))
    site.once(utc(2027, 1, 8, 9, 0))
    text = text_of(letters_to(site, MARCUS, "Final figures")[0])
    assert listed(text) == {CHLOE, MARCUS}
    assert figure(text, "Completed on time") == 2 and figure(text, "Not completed on time") == 2
    assert letters_to(site, BEN, "Not counted") == []



def test_the_final_figures_wait_for_an_agreed_date_weeks_after_the_deadline(site):
    # Three weeks after the deadline, past the fortnight after which month-old news stops: the final
    # figures still go, the day after the agreed date, and once.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ben_agrees_a_later_date_with_the_qa_team(site, "22 January")
    site.once(FIRST_WORKING_DAY)
    site.once(utc(2027, 1, 22, 9, 0))
    assert letters_to(site, DIRECTOR, "Final figures") == []
    site.once(utc(2027, 1, 25, 9, 0))
    site.once(utc(2027, 1, 25, 9, 30))
    [final] = letters_to(site, DIRECTOR, "Final figures")
    assert f"{REF[BEN]} CR-40102 Monthly Not received" in text_of(final)
