"""Sending never stalls: a letter the server will not take waits its turn while the others go.

The mail server here is the maildir transport's sender with the faults a real server shows, per
recipient: busy (4xx), throttled (Retry-After), refused for good (5xx), one recipient refused, and
unreachable (a real connection to a closed loopback port).
"""
import socket
from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time

from conftest import issue, new_mail, utc
from core.clock import Clock
from core.errors import ConfigError, PermanentFailure, TemporaryFailure
from db.ledger import Ledger
from db.outbox import OutboxRepo
from db.store import Store
from inbox.maildir import MaildirMailbox
from app.postman import Postman
from core.letter import Letter

NOW = utc(2026, 11, 2, 9, 30)
AISHA, BEN, CHLOE = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example", "chloe.dunmore@wexcombe.example"


def closed_port() -> int:
    """A loopback port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class MailServer:
    """The maildir sender, with a fault for some recipients; records every try."""

    def __init__(self, monkeypatch):
        self.faults: dict[str, str] = {}
        self.tries: list[list[str]] = []
        real = MaildirMailbox.send

        def send(mailbox, raw, message_id, recipients):
            self.tries.append(list(recipients))
            refused = []
            for address in recipients:
                fault = self.faults.get(address)
                if fault == "busy":
                    raise TemporaryFailure(f"451 4.3.0 {address}: mailbox busy, try again later")
                if fault == "throttled":
                    raise TemporaryFailure("throttled: the server asked us to wait 600 s", retry_after=600)
                if fault == "refused":
                    raise PermanentFailure(f"550 5.7.1 {address}: relaying denied")
                if fault == "wrong password":
                    raise PermanentFailure("535 5.7.8 authentication failed: wrong password for qa-audits@wexcombe.example")
                if fault == "unknown user":
                    refused.append(address)
                if fault == "down":
                    try:
                        socket.create_connection(("127.0.0.1", closed_port()), timeout=2).close()
                    except OSError:
                        raise TemporaryFailure("cannot reach smtp 127.0.0.1: connection refused") from None
            real(mailbox, raw, message_id, recipients)
            return refused

        monkeypatch.setattr(MaildirMailbox, "send", send)


@pytest.fixture
def server(monkeypatch) -> MailServer:
    return MailServer(monkeypatch)


def unclear_from(site, *senders, at=NOW):
    """One unclear email from each sender: each gets one answer, sent as its email is handled."""
    for n, sender in enumerate(senders):
        site.receive(new_mail(sender=sender, subject="hello", body="?", message_id=f"<q{n}@mail.wexcombe.example>"),
                     at=at)


def outbox(site) -> OutboxRepo:
    return OutboxRepo(Store(site.folder / "data", writer=False))


def test_a_letter_the_server_will_not_take_yet_waits_while_the_next_one_goes(site, server):
    server.faults[AISHA] = "busy"
    unclear_from(site, AISHA, BEN)
    assert site.once(NOW) == {"handled": 2, "sent": 1}
    assert [m["To"] for m in site.sent()] == [BEN]
    [waiting] = outbox(site).pending()
    assert waiting["to"] == [AISHA] and waiting["attempts"] == 1
    assert waiting["next_attempt_at"] == (NOW + timedelta(minutes=1)).isoformat()
    assert "451 4.3.0" in waiting["last_error"]

    tries = len(server.tries)
    site.once(NOW + timedelta(seconds=30))
    assert len(server.tries) == tries, "not due yet, so not tried"
    site.once(NOW + timedelta(minutes=1))
    assert outbox(site).pending()[0]["attempts"] == 2
    assert outbox(site).pending()[0]["next_attempt_at"] == (NOW + timedelta(minutes=3)).isoformat()  # then 2 min

    del server.faults[AISHA]
    assert site.once(NOW + timedelta(minutes=3)) == {"handled": 0, "sent": 1}
    assert outbox(site).pending() == [] and len(site.sent()) == 2


def test_the_wait_doubles_up_to_an_hour_and_then_the_letter_is_set_aside_for_the_qa_team(site, server):
    server.faults[AISHA] = "busy"
    unclear_from(site, AISHA)
    now, waits = NOW, []
    site.once(now)
    for _ in range(7):
        due = outbox(site).pending()[0]["next_attempt_at"]
        waits.append(round((datetime.fromisoformat(due) - now).total_seconds() / 60))
        now = datetime.fromisoformat(due)
        site.once(now)
    assert waits == [1, 2, 4, 8, 16, 32, 60]
    assert outbox(site).pending() == []  # the 8th failure (the default max_send_attempts) set it aside
    [aside] = outbox(site).set_aside_letters()
    assert aside["to"] == [AISHA] and "not taken after 8 tries" in aside["last_error"]

    status = site.status(now)
    assert "Letters set aside, not sent (1)" in status and aside["message_id"] in status
    assert "was set aside, not sent" in status and f"resend {aside['message_id']}" in status
    site.once(now + timedelta(days=1))
    assert len(server.tries) == 8, "a letter set aside is never retried on its own"


def test_a_letter_refused_for_good_is_set_aside_at_once_and_resend_sends_it(site, server, capsys):
    import main

    server.faults[AISHA] = "refused"
    unclear_from(site, AISHA, BEN)
    assert site.once(NOW)["sent"] == 1
    [aside] = outbox(site).set_aside_letters()
    assert "refused by the server: 550 5.7.1" in aside["last_error"]
    assert "set aside" in site.status(NOW)

    code = main.main(["--config", str(site.config_path), "resend", "<nobody@wexcombe.example>"])
    assert code == 2 and "no letter with Message-ID <nobody@wexcombe.example> is set aside" in capsys.readouterr().err

    code = main.main(["--config", str(site.config_path), "resend", aside["message_id"].strip("<>")])
    out = capsys.readouterr().out
    assert code == 0 and "1 letter(s) put back in the outbox; 0 sent now" in out and "set aside again" in out

    del server.faults[AISHA]
    code = main.main(["--config", str(site.config_path), "resend", "--all"])
    assert code == 0 and "1 letter(s) put back in the outbox; 1 sent now" in capsys.readouterr().out
    assert sorted(m["To"] for m in site.sent()) == [AISHA, BEN]
    assert outbox(site).set_aside_letters() == [] and outbox(site).pending() == []


THREE_AUDITS = ("auditor_email,case_ref,audit_type\n"
                f"{AISHA},CR-40117,monthly\n{BEN},CR-40118,monthly\n{CHLOE},CR-40119,monthly\n")


def test_a_throttled_server_is_left_alone_as_long_as_it_asked(site, server):
    for address in (AISHA, BEN, CHLOE):
        server.faults[address] = "throttled"
    issue(site, "2026-12", THREE_AUDITS, utc(2026, 12, 1, 9))
    assert len(server.tries) == 1, "the server asked us to wait: the others wait too"
    [throttled] = [r for r in outbox(site).pending() if r["attempts"]]
    assert throttled["next_attempt_at"] == (utc(2026, 12, 1, 9) + timedelta(seconds=600)).isoformat()
    assert "Sending is paused until 01 Dec 09:10: the server asked us to wait" in site.status(utc(2026, 12, 1, 9, 1))

    server.faults.clear()
    assert site.once(utc(2026, 12, 1, 9, 9))["sent"] == 0 and len(server.tries) == 1
    assert site.once(utc(2026, 12, 1, 9, 10))["sent"] == 3


def test_an_unreachable_server_pauses_sending_and_does_not_count_against_the_letters(site, server):
    for address in (AISHA, BEN, CHLOE):
        server.faults[address] = "down"
    issue(site, "2026-12", THREE_AUDITS, utc(2026, 12, 1, 9))
    assert len(server.tries) == 1, "the server is down: one knock, not one per letter"
    for minute in range(1, 13):
        site.once(utc(2026, 12, 1, 9, minute))
    assert len(server.tries) == 4, "tried at 09:00, 09:01, 09:03 and 09:07: the pause doubles"
    assert [r["attempts"] for r in outbox(site).pending()] == [0, 0, 0]
    assert outbox(site).set_aside_letters() == []
    status = site.status(utc(2026, 12, 1, 9, 12))
    assert "Sending is paused until 01 Dec 09:15: the mail server cannot be reached" in status
    assert "the server was not reached" in status and "connection refused" in status

    server.faults.clear()
    assert site.once(utc(2026, 12, 1, 9, 14))["sent"] == 0
    assert site.once(utc(2026, 12, 1, 9, 15))["sent"] == 3
    assert "paused" not in site.status(utc(2026, 12, 1, 9, 16))


def test_two_busy_letters_in_a_row_pause_sending_for_a_minute(site, server):
    for address in (AISHA, BEN, CHLOE):
        server.faults[address] = "busy"
    issue(site, "2026-12", THREE_AUDITS, utc(2026, 12, 1, 9))
    assert len(server.tries) == 2 and site.sent() == []
    assert sorted(r["attempts"] for r in outbox(site).pending()) == [0, 1, 1]

    server.faults.clear()
    assert site.once(utc(2026, 12, 1, 9, 0, 30))["sent"] == 0
    assert site.once(utc(2026, 12, 1, 9, 1))["sent"] == 3


def test_a_wrong_password_refusing_every_letter_sets_none_aside_and_resend_tries_at_once(site, server, capsys):
    import main

    for address in (AISHA, BEN, CHLOE):
        server.faults[address] = "wrong password"
    issue(site, "2026-12", THREE_AUDITS, utc(2026, 12, 1, 9))
    assert len(server.tries) == 2, "refused twice in the same words: the account, not the letters"
    assert outbox(site).set_aside_letters() == [] and len(outbox(site).pending()) == 3
    assert "Sending is paused until 01 Dec 09:01: the server refuses every letter: 535 5.7.8" in \
        site.status(utc(2026, 12, 1, 9, 0, 30))

    server.faults.clear()  # IT fixes the password and says so
    code = main.main(["--config", str(site.config_path), "--now", "2026-12-01T09:00:40", "resend", "--all"])
    assert code == 0 and "0 letter(s) put back in the outbox; 3 sent now" in capsys.readouterr().out


# --- refused recipients, straight through the postman ------------------------------------------------

@pytest.fixture
def postman(site, server):
    """The real postman over the site's store and maildir; yields (postman, store)."""
    store = Store(site.folder / "data")
    config = site.config
    from mailer.compose import Composer

    composer = Composer(config.letterhead, config.mailbox_address)
    with freeze_time(NOW):
        yield Postman(store, composer, MaildirMailbox(site.mailbox), Clock(), 10), store
    store.close()


def passed_on(to, refs=("EXM-2026-11-003",)) -> Letter:
    return Letter(template="intake/passed_on", to=to, subject="Your email [EXM-2026-11-003]", kind="passed_on",
                  refs=refs, context={"person_name": "Aisha", "what": "exemption", "received_at": NOW,
                                      "references": list(refs)})


def test_a_refused_recipient_does_not_stop_the_others_and_is_listed_for_the_qa_team(site, server, postman):
    server.faults[BEN] = "unknown user"
    postman, store = postman
    with store.transaction():
        message_id = postman.post(passed_on([AISHA, BEN]))
    assert postman.deliver_pending() == 1
    assert OutboxRepo(store).pending() == []
    ledger = Ledger(store)
    assert ledger.sent_mail(message_id)["refused"] == [BEN]
    [note] = ledger.triage("2026-11")
    assert BEN in note["note"] and "(passed_on)" in note["note"] and "EXM-2026-11-003" in note["note"]
    assert len(site.sent()) == 1


def test_a_letter_whose_every_recipient_is_refused_is_set_aside(site, server, postman):
    server.faults[AISHA] = server.faults[BEN] = "unknown user"
    postman, store = postman
    with store.transaction():
        message_id = postman.post(passed_on([AISHA, BEN]))
    assert postman.deliver_pending() == 0
    [aside] = OutboxRepo(store).set_aside_letters()
    assert aside["message_id"] == message_id and "every recipient was refused" in aside["last_error"]
    assert f"Message-ID: {message_id}".encode() in OutboxRepo(store).raw(aside), "kept whole, ready to resend"


def test_max_send_attempts_is_checked_and_used(site, server):
    text = site.config_path.read_text(encoding="utf-8")
    assert "max_send_attempts = 8" in text, "the sample config shows the key"
    site.config_path.write_text(text.replace("max_send_attempts = 8", "max_send_attempts = 0"), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        site.config
    assert caught.value.key == "daemon.max_send_attempts"
    site.config_path.write_text(text.replace("max_send_attempts = 8", "max_send_attempts = 3"), encoding="utf-8")
    assert site.config.max_send_attempts == 3
    server.faults[AISHA] = "busy"
    unclear_from(site, AISHA)
    for minutes in (0, 1, 3):
        site.once(NOW + timedelta(minutes=minutes))
    assert len(server.tries) == 3 and "not taken after 3 tries" in outbox(site).set_aside_letters()[0]["last_error"]
