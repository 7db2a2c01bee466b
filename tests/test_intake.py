"""Mail through the embedded maildir transport: answered once, filed, never lost, never handled twice."""
import pytest

from conftest import MAILBOX, new_mail, text_of, utc
from app.handlers import UNCLEAR_SUBJECT
from db.ledger import Ledger
from db.outbox import OutboxRepo
from db.store import Store

MORNING = utc(2026, 11, 2, 9, 30)
AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"


def question(n: int = 1) -> bytes:
    return new_mail(sender=AISHA, subject="question", body="How do I send my audit?",
                    message_id=f"<q{n}@mail.wexcombe.example>")


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_unclear_mail_is_answered_with_the_right_headers_filed_and_not_handled_again(site):
    site.receive(question(), at=MORNING)
    assert site.once(MORNING) == {"handled": 1, "sent": 1}

    [answer] = site.sent()
    assert answer["To"] == "aisha.patel@wexcombe.example"
    assert answer["From"].addresses[0].addr_spec == MAILBOX
    assert answer["Subject"] == UNCLEAR_SUBJECT
    assert answer["Auto-Submitted"] == "auto-generated"
    assert answer["X-Auto-Response-Suppress"] == "All"
    assert answer["Message-ID"].endswith("@wexcombe.example>")
    assert answer["In-Reply-To"] == "<q1@mail.wexcombe.example>"
    assert "<q1@mail.wexcombe.example>" in answer["References"]
    assert {p.get_content_type() for p in answer.iter_parts()} == {"text/plain", "text/html"}
    assert "Dear Aisha" in text_of(answer) and "no audit reference" in text_of(answer)
    assert not site.files("inbox") and len(site.files("processed")) == 1

    assert site.once(MORNING) == {"handled": 0, "sent": 0}
    assert len(site.sent()) == 1


@pytest.mark.transports("maildir", "imap")  # the same story through a real IMAP/SMTP server
def test_machines_and_outsiders_are_never_answered(site):
    for eml in ("exchange_out_of_office.eml", "dsn_bounce.eml", "outsider.eml"):
        site.receive(eml, at=MORNING)
    site.receive(new_mail(sender=MAILBOX, subject="loop", body="x", message_id="<own@wexcombe.example>"), at=MORNING)
    assert site.once(MORNING) == {"handled": 4, "sent": 0}
    assert site.sent() == [] and len(site.files("processed")) == 4
    with Store(site.folder / "data") as store:
        notes = [t["note"] for t in Ledger(store).triage("2026-11")]
    assert any("j.bloggs@mailprovider.example" in n and "not on the roster" in n for n in notes)
    assert any(n.startswith("bounce") for n in notes)


def test_a_malformed_message_goes_to_failed_and_the_next_one_is_still_handled(site, caplog):
    site.receive("malformed.eml", at=MORNING, name="1-malformed")
    site.receive(question(), at=utc(2026, 11, 2, 9, 31), name="2-question")
    assert site.once(utc(2026, 11, 2, 9, 35))["handled"] == 2
    assert [p.name for p in site.files("failed")] == ["1-malformed:2,"]
    assert len(site.files("processed")) == 1 and len(site.sent()) == 1
    [failed] = [r for r in caplog.records if "failed" in r.message and "1-malformed" in r.message]
    assert not failed.exc_info  # diagnosed: the reason is the whole story, in one line
    with Store(site.folder / "data") as store:
        assert any(t.get("failed") == "new/1-malformed" for t in Ledger(store).triage("2026-11"))


def test_a_handler_error_sets_one_message_aside_and_changes_nothing_else(site, monkeypatch, caplog):
    import app.handlers as handlers

    def broken(mail, classification, ctx):
        raise RuntimeError("template bug")

    site.receive(question(1), at=MORNING)
    ctx = site.open(MORNING)
    ctx.router.register(handlers.Kind.UNCLEAR, broken)
    from app.daemon import one_pass
    assert one_pass(ctx)["handled"] == 1
    ctx.close()
    assert len(site.files("failed")) == 1 and site.sent() == []
    # A failure nobody foresaw: the operator gets its traceback in the log.
    [failed] = [r for r in caplog.records if r.message.startswith("failed message_id=")]
    assert failed.exc_info and failed.exc_info[0] is RuntimeError
    with Store(site.folder / "data") as store:
        assert OutboxRepo(store).pending() == []
        assert Ledger(store).handled("2026-11") == []


def test_a_message_handled_before_a_crash_is_filed_without_being_handled_again(site, monkeypatch):
    site.receive(question(), at=MORNING)
    # The crash: everything durable, but the process died before moving the file out of the inbox.
    monkeypatch.setattr("inbox.maildir.MaildirMailbox.processed", lambda self, message: None)
    site.once(MORNING)
    monkeypatch.undo()
    assert len(site.files("inbox")) == 1 and len(site.sent()) == 1
    site.once(MORNING)
    assert not site.files("inbox") and len(site.files("processed")) == 1
    assert len(site.sent()) == 1


def test_mail_stored_but_not_sent_before_a_crash_is_sent_once_afterwards(site, monkeypatch):
    from core.errors import TransportError

    def down(self, raw, message_id, recipients):
        raise TransportError("server unreachable")

    site.receive(question(), at=MORNING)
    monkeypatch.setattr("inbox.maildir.MaildirMailbox.send", down)
    assert site.once(MORNING) == {"handled": 1, "sent": 0}
    monkeypatch.undo()
    assert site.sent() == []
    assert site.once(utc(2026, 11, 2, 9, 31)) == {"handled": 0, "sent": 1}
    assert site.once(utc(2026, 11, 2, 9, 32)) == {"handled": 0, "sent": 0}
    assert len(site.sent()) == 1


def test_a_message_that_keeps_killing_the_process_is_set_aside_after_three_tries(site, monkeypatch):
    from test_intake_safety import kill_three_times

    site.receive(question(), at=MORNING)
    kill_three_times(site, monkeypatch)
    assert len(site.files("inbox")) == 1
    site.once(MORNING)
    assert len(site.files("failed")) == 1 and site.sent() == []


def test_at_most_ten_automatic_answers_per_sender_per_day(site):
    for n in range(12):
        site.receive(question(n), at=MORNING)
    assert site.once(MORNING)["handled"] == 12
    assert len(site.sent()) == 10
    site.receive(question(99), at=utc(2026, 11, 3, 9, 0))
    site.once(utc(2026, 11, 3, 9, 0))
    assert len(site.sent()) == 11  # a new London day, a new allowance


def test_a_dry_run_shows_what_would_be_sent_and_changes_nothing(site, capsys):
    site.receive(question(), at=MORNING)
    lines = []
    ctx = site.open(MORNING, dry_run_output=lines.append)
    from app.daemon import one_pass
    one_pass(ctx)
    ctx.close()
    assert len(lines) == 1 and "would send" in lines[0] and "aisha.patel@wexcombe.example" in lines[0]
    assert len(site.files("inbox")) == 1 and site.sent() == []
    assert site.once(MORNING)["sent"] == 1  # the real pass still has it to do
