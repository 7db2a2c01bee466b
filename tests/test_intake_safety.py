"""Stories of bad luck and bad intent: mail set aside and brought back, floods, echoes, oversized mail."""
import os

import pytest

from app import commands
from app.demo_mail import new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, new_mail, text_of, utc
from core.errors import StoreError, UsageError
from db.ledger import Ledger
from db.items import ItemRepo
from db.store import Store

MORNING = utc(2026, 11, 2, 9, 30)
AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"
MARCUS = "Marcus Ellery <marcus.ellery@wexcombe.example>"
QA = "priya.ramsden@wexcombe.example"


def question(n: int = 1) -> bytes:
    return new_mail(sender=AISHA, subject="question", body="How do I send my audit?",
                    message_id=f"<q{n}@mail.wexcombe.example>")


def attempts(site, key: str, at) -> int:
    with Store(site.folder / "data") as store:
        return Ledger(store).attempts(key, at)


def kill_three_times(site, monkeypatch):
    """The handler for unclear mail dies mid-message three times, as a SIGKILL would leave it."""
    import app.handlers
    from app.daemon import one_pass

    class Killed(BaseException):
        pass

    def killed(mail, classification, ctx):
        raise Killed()

    monkeypatch.setattr("app.handlers.unclear", killed)
    for _ in range(3):
        ctx = site.open(MORNING)
        app.handlers.register_defaults(ctx.router)
        try:
            one_pass(ctx)
        except Killed:
            pass
        finally:
            ctx.close()
    monkeypatch.undo()


def retry(site, names=(), everything=False, now=MORNING, **kwargs):
    ctx = site.open(now)
    try:
        return commands.retry(ctx, list(names), everything, **kwargs)
    finally:
        ctx.close()


# --- three unlucky crashes, and the way out ------------------------------------------------------

def test_mail_set_aside_after_three_crashes_is_listed_and_brought_back_by_retry(site, monkeypatch):
    site.receive(question(), at=MORNING, name="1730540000.M1P1.mx")
    kill_three_times(site, monkeypatch)
    site.once(MORNING)
    [failed] = site.files("failed")
    assert site.sent() == []

    status = site.status(MORNING)
    assert "Set aside in failed/ (1)" in status and f"auditmail --config {site.config_path.resolve()} retry NAME" in status
    assert "1730540000.M1P1.mx" in status and "interrupted 3 times" in status

    assert retry(site, ["1730540000.M1P1.mx"]) == ["1730540000.M1P1.mx"]
    [back] = site.files("inbox")
    assert back.name == "1730540000.M1P1.mx" and back.parent.name == "new"
    assert os.stat(back).st_mtime == MORNING.timestamp()  # the receipt time is unchanged
    assert attempts(site, "q1@mail.wexcombe.example", MORNING) == 0

    site.once(utc(2026, 11, 2, 10, 0))
    assert not site.files("inbox") and not site.files("failed") and len(site.files("processed")) == 1
    [answer] = site.sent()
    assert answer["To"] == "aisha.patel@wexcombe.example"
    assert "Set aside in failed/" not in site.status(MORNING)


def test_retry_all_brings_everything_back_and_a_wrong_name_changes_nothing(site):
    site.receive("malformed.eml", at=MORNING, name="1-malformed")
    site.receive(b"\r\n\r\nno headers at all", at=MORNING, name="2-empty")
    site.once(MORNING)
    assert len(site.files("failed")) == 2
    with pytest.raises(UsageError, match="not in failed/: 3-other"):
        retry(site, ["1-malformed", "3-other"])
    assert len(site.files("failed")) == 2
    with pytest.raises(UsageError, match="--all"):
        retry(site)
    assert retry(site, everything=True, dry_run=True) == ["1-malformed", "2-empty"]
    assert len(site.files("failed")) == 2
    assert sorted(retry(site, everything=True)) == ["1-malformed", "2-empty"]
    assert [p.name for p in site.files("inbox")] == ["1-malformed", "2-empty"]


def test_retry_with_a_transport_that_cannot_list_failed_mail_says_so_in_one_line(site):
    import dataclasses

    ctx = site.open(MORNING)
    ctx.config = dataclasses.replace(ctx.config, transport="imap")  # a server's folder, not ours to list
    try:
        with pytest.raises(UsageError) as raised:
            commands.retry(ctx, [], True)
    finally:
        ctx.close()
    assert "only with the embedded maildir transport" in raised.value.message
    assert "\n" not in raised.value.message


def test_an_attempt_is_counted_only_when_handling_really_starts(site, monkeypatch):
    site.receive("malformed.eml", at=MORNING)
    site.receive(question(1), at=MORNING)
    site.once(MORNING)
    with Store(site.folder / "data") as store:
        assert Ledger(store)._table("2026-11", "attempts").all() == [{"key": "q1@mail.wexcombe.example", "count": 1}]

    # Handled, then a crash before it left the inbox: filed on the next passes, never counted again.
    site.receive(question(2), at=MORNING)
    monkeypatch.setattr("inbox.maildir.MaildirMailbox.processed", lambda self, message: None)
    site.once(MORNING)
    site.once(MORNING)
    monkeypatch.undo()
    site.once(MORNING)
    assert attempts(site, "q2@mail.wexcombe.example", MORNING) == 1
    assert len(site.files("processed")) == 2


def test_a_failing_store_does_not_count_against_the_message(site, monkeypatch):
    site.receive(question(), at=MORNING)

    def disk_full(*args, **kwargs):
        raise StoreError("cannot write the store: no space left on device")

    monkeypatch.setattr("db.ledger.Ledger.mark_handled", disk_full)
    for _ in range(4):
        with pytest.raises(StoreError):
            site.once(MORNING)
    monkeypatch.undo()
    assert attempts(site, "q1@mail.wexcombe.example", MORNING) == 0
    site.once(MORNING)
    assert len(site.files("processed")) == 1 and not site.files("failed")


# --- floods -------------------------------------------------------------------------------------

@pytest.mark.digests
def test_two_hundred_forged_decisions_write_no_letter_each_and_one_digest_lists_them(site):
    issue(site, "2026-12", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n",
          utc(2026, 12, 1, 8, 30))
    site.receive(new_email(AISHA, MAILBOX, "Exemption request", utc(2026, 12, 2, 9, 0),
                           "I have been signed off sick until the end of January."), at=utc(2026, 12, 2, 9, 0))
    site.once(utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    at = utc(2026, 12, 2, 11, 0)
    forged = b"Authentication-Results: mx.wexcombe.example; spf=fail; dkim=none; dmarc=fail action=none\r\n"
    for n in range(200):
        site.receive(forged + outlook_reply(MARCUS, MAILBOX, ask, at, "Support"), at=at, name=f"forged-{n:03d}")
    site.once(at)

    assert letters_to(site, QA, "refused") == []
    ctx = site.open(at, read_only=True)
    try:
        record = ItemRepo(ctx.store).get("EXM-2026-12-001")
        notes = [t["note"] for t in ctx.ledger.triage("2026-12") if "refused" in t["note"]]
    finally:
        ctx.close()
    assert record["state"] == "awaiting_hos"
    assert sum(e["action"] == "refused" for e in record["history"]) == 200
    assert len(notes) == 200

    # The next morning's digest lists them all, in one letter.
    site.once(utc(2026, 12, 3, 8, 5))
    [digest] = letters_to(site, QA, "digest")[-1:]
    assert "Thursday 3rd December" in digest["Subject"]
    refused = " ".join(digest.get_body(("plain",)).get_content().split()).split("Decisions refused")[1]
    assert "EXM-2026-12-001: decision from marcus.ellery@wexcombe.example refused (" in refused
    assert "(200 times, the last at 11:00 Wed 02 Dec)" in refused


# --- echoes -------------------------------------------------------------------------------------

def test_a_five_megabyte_grade_line_is_not_quoted_back_whole(site):
    issue(site, "2026-11", "auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,monthly\n",
          utc(2026, 11, 1, 8, 30))
    huge = "Grade: " + "Good enough? " * 400_000  # ~5 MB on one line
    site.receive(new_mail(sender="Ben Hartley <ben.hartley@wexcombe.example>",
                          subject="RE: [AUD-2026-11-001] Your audits for November 2026", body=huge), at=MORNING)
    site.once(MORNING)
    [letter] = letters_to(site, "ben.hartley@wexcombe.example", "could not be recorded")
    assert len(letter.as_bytes()) < 30_000
    assert "Good enough? Good enough?" in text_of(letter) and "\u2026" in text_of(letter)


def test_an_oversized_message_id_is_not_repeated_and_header_lines_stay_within_998(site):
    site.receive("hostile_long_message_id.eml", at=MORNING)
    site.once(MORNING)
    [answer] = site.sent()
    assert answer["In-Reply-To"] is None
    assert answer["References"] == "<root@mail.wexcombe.example>"
    raw = (site.files("sent")[0]).read_bytes()
    assert max(len(line) for line in raw.splitlines()) <= 998


def test_control_characters_never_reach_a_letter(site):
    issue(site, "2026-11", "auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,monthly\n",
          utc(2026, 11, 1, 8, 30))
    site.receive("hostile_control_characters.eml", at=MORNING)
    site.once(MORNING)
    [letter] = letters_to(site, "ben.hartley@wexcombe.example")[1:]  # after the allocation letter
    raw = site.files("sent")[-1].read_bytes()
    for ch in ("\x00", "\x1b", "\u202e"):
        assert ch not in letter.get_body(("plain",)).get_content()
        assert ch not in letter.get_body(("html",)).get_content()
        assert ch not in letter["Subject"]
    assert b"\x00" not in raw and "Good" in text_of(letter)


# --- oversized mail -------------------------------------------------------------------------------

def small_limit(site, megabytes: int = 1) -> None:
    config = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(config.replace("max_message_mb = 25", f"max_message_mb = {megabytes}"),
                                encoding="utf-8")


def with_attachment(sender: str, megabytes: float, message_id: str) -> bytes:
    """An email with a scanned audit tool attached, base64 as every client sends it."""
    head = new_mail(sender=sender, subject="[AUD-2026-11-001] my audit", body="", message_id=message_id)
    head = head.replace(b"Content-Type: text/plain; charset=utf-8\r\n",
                        b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n").split(b"\r\n\r\n")[0]
    line = b"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n"
    body = line * int(megabytes * 1024 * 1024 / len(line))
    return (head + b"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nGrade: Good\r\n--b1\r\n"
            b"Content-Type: application/pdf; name=\"audit.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + body + b"--b1--\r\n")


def test_a_message_over_the_size_limit_is_set_aside_unread_and_its_sender_told_once(site, monkeypatch):
    small_limit(site)
    raw = with_attachment(AISHA, 1.5, "<big1@mail.wexcombe.example>")
    site.receive(raw, at=MORNING, name="big")

    def never(*args, **kwargs):
        raise AssertionError("an oversized message must not be parsed whole")

    import app.intake
    monkeypatch.setattr(app.intake, "parse_message", never)
    site.once(MORNING)
    monkeypatch.undo()

    [kept] = site.files("failed")
    assert kept.read_bytes() == raw
    [letter] = site.sent()
    assert letter["To"] == "aisha.patel@wexcombe.example" and "too large" in letter["Subject"]
    assert letter["In-Reply-To"] == "<big1@mail.wexcombe.example>"
    assert "(1.5 MB; the limit is 1 MB)" in text_of(letter) and "grade written in the text" in text_of(letter)
    assert "too large to read (1.5 MB; the limit is 1 MB)" in site.status(MORNING)

    retry(site, ["big"])  # still too large: set aside again, but not answered twice
    site.once(utc(2026, 11, 2, 10, 0))
    assert len(site.files("failed")) == 1 and len(site.sent()) == 1


def test_oversized_mail_from_outside_the_roster_is_not_answered(site):
    small_limit(site)
    site.receive(with_attachment("Someone <someone@elsewhere.example>", 1.2, "<big2@elsewhere.example>"), at=MORNING)
    site.receive(b"X-Filler: " + b"x" * (2 * 1024 * 1024) + b"\r\n\r\nno From at all", at=MORNING)
    site.once(MORNING)
    assert site.sent() == [] and len(site.files("failed")) == 2


def test_mail_within_the_limit_is_read_as_always(site):
    issue(site, "2026-11", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n",
          utc(2026, 11, 1, 8, 30))
    small_limit(site, 2)
    site.receive(with_attachment(AISHA, 1.5, "<ok@mail.wexcombe.example>"), at=MORNING)
    site.once(MORNING)
    assert len(site.files("processed")) == 1
    assert letters_to(site, "aisha.patel@wexcombe.example", "Received")


def test_retry_from_the_command_line(site, capsys):
    import main

    site.receive("malformed.eml", at=MORNING, name="1-malformed")
    site.once(MORNING)
    code = main.main(["--config", str(site.config_path), "retry", "nothing-such"])
    err = capsys.readouterr().err
    assert code == 2 and "not in failed/: nothing-such" in err and err.count("\n") == 1
    code = main.main(["--config", str(site.config_path), "retry", "--all"])
    out = capsys.readouterr().out
    assert code == 0 and "brought back to the inbox: 1-malformed" in out
    assert [p.name for p in site.files("inbox")] == ["1-malformed"] and not site.files("failed")


def test_a_very_long_thread_keeps_its_first_and_newest_ids_within_one_header_line(composer):
    thread = [f"<{n:03d}.{'a' * 60}@mail.wexcombe.example>" for n in range(40)]
    letter = composer.letter("intake/unclear", to=["aisha.patel@wexcombe.example"], subject="s", now=MORNING,
                             context={"person_name": "Aisha", "subject": "s", "problems": [], "received_at": MORNING,
                                      "example_reference": "AUD-2026-11-001"},
                             in_reply_to=thread[-1], references=thread[:-1] + ["<not an id>", "x" * 300])
    references = letter["References"].split()
    assert references[0] == thread[0] and references[-1] == thread[-1]
    assert references[1:] == thread[-len(references) + 1:]  # the newest, in order, with no gap
    assert len("References: " + letter["References"]) <= 998
    assert letter["In-Reply-To"] == thread[-1]
