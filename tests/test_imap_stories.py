"""The month's key stories through transport = "imap": a real Dovecot holds the shared mailbox, a real
SMTP server (aiosmtpd, delivering to Dovecot over LMTP) takes the letters.

Receipt times are set with IMAP APPEND's INTERNALDATE, the way the server dates mail it receives;
the sender's Date: header never decides. November 2026 is in the past here, so every APPEND keeps
its date.
"""
import threading
import time

from freezegun import freeze_time

from app.daemon import one_pass
from app.demo_mail import gmail_reply, new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, sample, utc
from core.backoff import Backoff

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
MARCUS = "Marcus Ellery <marcus.ellery@wexcombe.example>"
DIRECTOR = "Imogen Thackeray <imogen.thackeray@wexcombe.example>"
ALLOCATIONS = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"
ISSUED = utc(2026, 11, 2, 8, 30)


def test_a_submission_by_reply_is_answered_and_moved_to_processed_which_is_created(imap_site):
    site = imap_site
    issue(site, "2026-11", ALLOCATIONS, ISSUED)
    assert {m["To"] for m in site.sent()} == {AISHA, BEN}
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 11, 3, 10, 0), shape=outlook_reply, handle=False)
    assert site.once(utc(2026, 11, 3, 10, 5)) == {"handled": 1, "sent": 1}
    [receipt] = letters_to(site, AISHA, "Received")
    assert receipt["Subject"] == "[AUD-2026-11-001] Received: your audit counts for November 2026"
    assert site.smtp.received[-1].mail_from == MAILBOX  # bounces come back to the shared mailbox
    assert site.files("inbox") == [] and len(site.files("processed")) == 1 and site.files("failed") == []
    # The receipt really reached Aisha's own mailbox, through LMTP.
    delivered = site.dovecot.messages("aisha.patel")
    assert any(receipt["Message-ID"].encode() in raw for raw in delivered)
    assert site.once(utc(2026, 11, 3, 10, 6)) == {"handled": 0, "sent": 0}


def test_the_last_minute_counts_by_internaldate_and_a_minute_after_midnight_does_not(imap_site):
    site = imap_site
    issue(site, "2026-11", ALLOCATIONS, ISSUED)
    # GMT: London time is UTC in November
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 11, 30, 23, 58), shape=gmail_reply, handle=False)
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2026, 12, 1, 0, 1), shape=gmail_reply, handle=False)
    site.once(utc(2026, 12, 1, 9, 0))
    assert "counts" in letters_to(site, AISHA, "Received")[0]["Subject"]
    late = letters_to(site, BEN, "Received")[0]
    assert "after the deadline: not counted" in late["Subject"]


def test_an_exemption_is_decided_by_replies_from_the_head_of_service_and_the_director(imap_site):
    site = imap_site
    issue(site, "2026-11", ALLOCATIONS, ISSUED)
    at = utc(2026, 11, 4, 9, 0)
    site.receive(new_email(f"Aisha Patel <{AISHA}>", MAILBOX, "Exemption request", at,
                           "I have been signed off sick for six weeks after surgery."), at=at)
    site.once(at)
    for person, subject, words, when in ((MARCUS, "Support or Decline", "Support", utc(2026, 11, 4, 11, 0)),
                                         (DIRECTOR, "Approve or Reject", "Approved", utc(2026, 11, 4, 15, 0))):
        letter = letters_to(site, person.split("<")[1].rstrip(">"), subject)[-1]
        site.receive(outlook_reply(person, MAILBOX, letter, when, words), at=when)
        site.once(when)
    [decided] = letters_to(site, AISHA, "approved")
    assert "[EXM-2026-11-001]" in decided["Subject"]
    assert len(site.files("processed")) == 3 and site.files("inbox") == []


def test_a_malformed_message_goes_to_failed_and_the_next_is_still_handled(imap_site):
    site = imap_site
    site.receive("malformed.eml", at=utc(2026, 11, 2, 9, 30))
    site.receive(new_email(f"Aisha Patel <{AISHA}>", MAILBOX, "question", utc(2026, 11, 2, 9, 31), "How do I submit?"),
                 at=utc(2026, 11, 2, 9, 31))
    assert site.once(utc(2026, 11, 2, 9, 35))["handled"] == 2
    assert len(site.files("failed")) == 1 and len(site.files("processed")) == 1 and len(site.sent()) == 1
    # Filed as it came, but for what IMAP itself cannot carry: lines end in CRLF, and a NUL byte (the sample
    # has some) is stored by Dovecot as 0x80.
    as_stored = sample("malformed.eml").replace(b"\r\n", b"\n").replace(b"\x00", b"\x80")
    assert site.files("failed")[0].replace(b"\r\n", b"\n") == as_stored


def test_a_server_restart_in_the_middle_of_a_pass_loses_nothing_and_handles_nothing_twice(imap_site):
    site = imap_site
    issue(site, "2026-11", ALLOCATIONS, ISSUED)
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 11, 3, 10, 0), shape=gmail_reply, handle=False)
    site.reply(BEN, "Your audits", "Grade: Inadequate", at=utc(2026, 11, 3, 10, 1), shape=gmail_reply, handle=False)
    with freeze_time(utc(2026, 11, 3, 10, 5)):
        ctx = site.open()
        mailbox = ctx.reader
        filed, calls = mailbox.processed, []

        def restart_before_second(message):
            calls.append(message)
            if len(calls) == 2:
                site.dovecot.restart()  # every connection cut, as in `systemctl restart dovecot`
            filed(message)

        mailbox.processed = restart_before_second
        try:
            assert one_pass(ctx)["handled"] == 2
        finally:
            ctx.close()
    assert len(letters_to(site, AISHA, "Received")) == 1 and len(letters_to(site, BEN, "Received")) == 1
    assert site.files("inbox") == [] and len(site.files("processed")) == 2
    assert site.once(utc(2026, 11, 3, 10, 6)) == {"handled": 0, "sent": 0}


def test_a_server_down_for_longer_than_the_retries_stops_the_pass_and_the_next_files_without_handling_again(imap_site):
    site = imap_site
    issue(site, "2026-11", ALLOCATIONS, ISSUED)
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 11, 3, 10, 0), shape=gmail_reply, handle=False)
    with freeze_time(utc(2026, 11, 3, 10, 5)):
        ctx = site.open()
        mailbox = ctx.reader
        mailbox.reader.retry = Backoff(tries=2, first=0.05)
        filed = mailbox.processed

        def down_before_filing(message):
            site.dovecot.stop()
            filed(message)

        mailbox.processed = down_before_filing
        try:
            one_pass(ctx)
            raise AssertionError("the pass should stop while the server is away")
        except Exception as exc:  # noqa: BLE001 - the point is which error, checked below
            assert type(exc).__name__ == "TemporaryFailure" and "IMAP server" in str(exc)
        finally:
            ctx.close()
            site.dovecot.start()
    # Handled and its receipt stored (not yet sent), but still in the inbox: nothing lost.
    assert len(site.files("inbox")) == 1 and letters_to(site, AISHA, "Received") == []
    assert site.once(utc(2026, 11, 3, 10, 10)) == {"handled": 1, "sent": 1}  # filed, not handled again
    assert site.files("inbox") == [] and len(letters_to(site, AISHA, "Received")) == 1
    assert site.once(utc(2026, 11, 3, 10, 11)) == {"handled": 0, "sent": 0}


def test_idle_wakes_the_waiting_reader_when_mail_arrives_and_the_pass_handles_it(imap_site):
    site = imap_site
    ctx = site.open()
    mailbox = ctx.reader
    try:
        mailbox.wait_for_mail(0.1, lambda: False)  # nothing waiting yet: returns at its timeout
        arrival = utc(2026, 11, 2, 9, 30)
        threading.Timer(0.3, site.receive, [new_email(f"<{AISHA}>", MAILBOX, "question", arrival, "Hello?")],
                        {"at": arrival}).start()
        started = time.monotonic()
        mailbox.wait_for_mail(60, lambda: False)
        # Woken by the server's EXISTS, not by the 60 s timeout (the speed itself is in bench/).
        assert time.monotonic() - started < 30
        with freeze_time(utc(2026, 11, 2, 9, 31)):
            assert one_pass(ctx)["handled"] == 1
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        started = time.monotonic()
        mailbox.wait_for_mail(60, stop.is_set)
        assert time.monotonic() - started < 30  # told to stop: it checks every second
    finally:
        ctx.close()
