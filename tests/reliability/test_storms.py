"""Storms: robots are never answered, letters stay bounded, and the service comes through it.

Each storm lands in the inbox at once and is handled by the real command line (`once` with the clock
fixed by `--now`), with one genuine submission received last: its receipt proves the pass got through.
The fast version sends a sample of each storm; `AUDITMAIL_LONG=1` sends 1,000 out-of-office replies,
1,000 bounces and 200 forged decisions.
"""
import os
import random
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from app.demo_mail import gmail_reply, new_email, out_of_office
from conftest import MAILBOX, Site, issue, letters_to, sample, utc

LONG = os.environ.get("AUDITMAIL_LONG") == "1"
ROBOTS = 1000 if LONG else 40
FLOOD = 200 if LONG else 40
LOOP = 100 if LONG else 25
REFUSED_LETTERS_CAP = 20
ROOT = Path(__file__).parents[2]
QA = ("priya.ramsden@wexcombe.example", "tomasz.kowal@wexcombe.example")
PEOPLE = ["aisha.patel", "ben.hartley", "chloe.dunmore", "hannah.brightwell", "owen.tranter", "laura.penrose"]
ALLOCATIONS = "auditor_email,case_ref,audit_type\n" + "".join(
    f"{p}@wexcombe.example,CR-{40100 + n},monthly\n" for n, p in enumerate(PEOPLE))


def once(site: Site, now: str) -> str:
    """`python main.py --config … --now NOW once`; it must exit 0 with no traceback. Returns what it printed."""
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "--config", str(site.config_path), "--now", now, "once"],
                          capture_output=True, text=True, cwd=site.folder, timeout=1800)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr[-2000:]
    return done.stdout


def fresh_id(raw: bytes, n: int) -> bytes:
    return re.sub(rb"(?im)^Message-I[dD]:[ \t]*(\r?\n[ \t]+)?<[^>]+>", f"Message-ID: <storm.{n}@mx.example>".encode(),
                  raw, count=1)


def person(address: str) -> str:
    return f"{address.split('.')[0].title()} {address.split('.')[1].split('@')[0].title()} <{address}>"


@pytest.fixture
def month(site) -> Site:
    """December issued to six auditors on the 1st."""
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    return site


def genuine_submission_last(site: Site, at) -> None:
    letter = letters_to(site, "owen.tranter@wexcombe.example", "Your audits")[0]
    site.receive(gmail_reply(person("owen.tranter@wexcombe.example"), MAILBOX, letter, at, "Grade: Good"), at=at)


def storm(site: Site, messages: list[bytes], start) -> int:
    """Deliver the storm one second apart, then a genuine submission; one pass; returns letters sent by it."""
    for n, raw in enumerate(messages):
        site.receive(raw, at=start.replace(hour=9) + timedelta(seconds=n))
    genuine_submission_last(site, start.replace(hour=20))
    before, filed = len(answers(site)), len(site.files("processed")) + len(site.files("failed"))
    once(site, "2026-12-03T21:00")
    assert site.files("inbox") == [], "nothing is left behind"
    assert len(site.files("processed")) + len(site.files("failed")) - filed == len(messages) + 1
    receipts = letters_to(site, "owen.tranter@wexcombe.example", "Received")
    assert len(receipts) == 1 and "counts" in receipts[0]["Subject"], "the pass got through the storm"
    return len(answers(site)) - before - 1


def answers(site: Site) -> list:
    """What was sent, less the QA team's daily digest (the pass runs as deployed, digests included)."""
    return [m for m in site.sent() if "digest" not in m["Subject"].lower()]


def test_a_thousand_out_of_office_replies_are_never_answered(month):
    rng, robots = random.Random(1), []
    letters = {p: letters_to(month, f"{p}@wexcombe.example", "Your audits")[0] for p in PEOPLE}
    for n in range(ROBOTS):
        who = rng.choice(PEOPLE)
        shape = n % 4
        if shape == 0:
            robots.append(out_of_office(person(f"{who}@wexcombe.example"), MAILBOX, letters[who], utc(2026, 12, 3)))
        elif shape == 1:
            robots.append(fresh_id(sample("exchange_out_of_office.eml"), n))
        elif shape == 2:  # only the subject says so
            robots.append(new_email(person(f"{who}@wexcombe.example"), MAILBOX,
                                    "Automatic reply: Your audits for December 2026", utc(2026, 12, 3), "I am away."))
        else:  # an outsider's robot, answering a forwarded letter
            robots.append(new_email(f"Robot {n} <noreply{n}@vendor.example>", MAILBOX, "Out of Office: audits",
                                    utc(2026, 12, 3), "Away until January.").replace(
                b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1))
    assert storm(month, robots, utc(2026, 12, 3)) == 0
    assert month.files("failed") == []


def test_a_thousand_bounces_are_never_answered(month):
    robots = []
    for n in range(ROBOTS):
        shape = n % 3
        if shape == 0:
            robots.append(fresh_id(sample("dsn_bounce.eml"), n))
        elif shape == 1:
            robots.append(new_email("Mail Delivery System <MAILER-DAEMON@mx.wexcombe.example>", MAILBOX,
                                    "Undelivered Mail Returned to Sender", utc(2026, 12, 3), "Delivery failed."))
        else:
            robots.append(new_email(f"postmaster@relay{n}.example", MAILBOX, "Delivery Status Notification (Failure)",
                                    utc(2026, 12, 3), "Address not found."))
    assert storm(month, robots, utc(2026, 12, 3)) == 0
    assert month.files("failed") == []


def test_a_correspondent_without_robot_headers_gets_at_most_the_daily_answers(month):
    # A forwarding rule that loops, or a person who will not stop: answered ten times in a day, no more.
    loop = [new_email(person("ben.hartley@wexcombe.example"), MAILBOX, f"Re: question {n}", utc(2026, 12, 3),
                      "What do I do now?") for n in range(LOOP)]
    assert storm(month, loop, utc(2026, 12, 3)) == 10
    assert len(letters_to(month, "ben.hartley@wexcombe.example")) == 10 + 1  # and their allocation letter


@pytest.fixture(scope="module")
def flood(tmp_path_factory):
    """FLOOD forged decisions (the Head of Service's address, DMARC failed) on one waiting exemption; made once."""
    site = Site(tmp_path_factory.mktemp("flood") / "site")
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    at = utc(2026, 12, 2, 9, 0)
    site.receive(new_email(person("aisha.patel@wexcombe.example"), MAILBOX, "Exemption request", at,
                           "I have been signed off sick for three weeks."), at=at)
    site.once(at)
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    forged = [b"Authentication-Results: mx.wexcombe.example; spf=fail; dkim=none; dmarc=fail\r\n" +
              gmail_reply("Marcus Ellery <marcus.ellery@wexcombe.example>", MAILBOX, ask, utc(2026, 12, 3), "Support")
              for _ in range(FLOOD)]
    sent = storm(site, forged, utc(2026, 12, 3))
    return site, sent


def test_a_flood_of_forged_decisions_decides_nothing_and_answers_no_one(flood):
    site, sent = flood
    from db.items import ItemRepo

    ctx = site.open(utc(2026, 12, 4), read_only=True)
    try:
        record = ItemRepo(ctx.store).get("EXM-2026-12-001")
    finally:
        ctx.close()
    assert record["state"] == "awaiting_hos"
    assert not [e for e in record["history"] if e["action"] not in ("requested", "refused")]
    assert letters_to(site, "imogen.thackeray@wexcombe.example") == []
    assert len(letters_to(site, "marcus.ellery@wexcombe.example")) == 1  # only the real request, never the forgeries
    assert sent <= FLOOD  # never more than one letter per forged message


def test_a_flood_of_forged_decisions_sends_the_qa_team_a_bounded_number_of_letters(flood):
    site, _ = flood
    refused = [m for m in site.sent() if "refused" in m["Subject"].lower()
               and any(qa in (m["To"] or "") + (m["Cc"] or "") for qa in QA)]
    assert len(refused) <= REFUSED_LETTERS_CAP
