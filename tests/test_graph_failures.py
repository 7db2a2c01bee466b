"""When Microsoft 365 says no or not now: throttling obeyed, refusals diagnosed in words an IT team can act on."""
import os
import threading

import pytest

from app.transports import open_mailbox
from conftest import new_mail, utc
from core.errors import PermanentFailure, TemporaryFailure
from db.outbox import OutboxRepo
from db.store import Store

MORNING = utc(2026, 11, 2, 9, 30)
AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"


def question(n: int = 1) -> bytes:
    return new_mail(sender=AISHA, subject="question", body="How do I send my audit?",
                    message_id=f"<q{n}@mail.wexcombe.example>")


def elapsed(action) -> float:
    """Real seconds `action()` took (os.times is not frozen by freezegun)."""
    start = os.times().elapsed
    action()
    return os.times().elapsed - start


def outbox(site) -> list[dict]:
    with Store(site.folder / "data") as store:
        return OutboxRepo(store).pending()


def test_429_with_retry_after_is_waited_out_and_the_pass_goes_on(graph_site):
    fake = graph_site.fake
    graph_site.receive(question(), at=MORNING)
    fake.fail_next(1, 429, retry_after=1)
    took = elapsed(lambda: graph_site.once(MORNING))
    assert took >= 1.0
    answers = [s.answered for s in fake.graph_requests()]
    assert answers[:2] == [429, 200]  # the same delta query, tried again after the wait
    assert len(graph_site.sent()) == 1 and len(graph_site.files("processed")) == 1


def test_503_without_retry_after_backs_off_and_succeeds(graph_site):
    graph_site.receive(question(), at=MORNING)
    graph_site.fake.fail_next(1, 503)
    assert graph_site.once(MORNING) == {"handled": 1, "sent": 1}


def test_throttling_longer_than_the_budget_gives_up_at_once_carrying_retry_after(graph_site):
    graph_site.receive(question(), at=MORNING)
    graph_site.fake.fail_next(5, 429, retry_after=3600)
    start = os.times().elapsed
    with pytest.raises(TemporaryFailure) as failure:
        graph_site.once(MORNING)
    assert os.times().elapsed - start < 5
    assert failure.value.retry_after == 3600 and "throttling" in failure.value.message
    assert graph_site.files("inbox") and graph_site.sent() == []  # nothing lost: the next pass tries again
    graph_site.fake.faults.clear()
    assert graph_site.once(MORNING) == {"handled": 1, "sent": 1}


def test_a_throttled_letter_stays_in_the_outbox_and_goes_next_pass(graph_site):
    graph_site.receive(question(), at=MORNING)
    graph_site.fake.fail_next(5, 429, retry_after=3600, only="/sendMail")
    assert graph_site.once(MORNING) == {"handled": 1, "sent": 0}
    [letter] = outbox(graph_site)
    assert "throttling" in letter["last_error"]
    graph_site.fake.faults.clear()
    # The server asked for an hour; sending pauses (at most a quarter of an hour at a time), then the letter goes.
    assert graph_site.once(utc(2026, 11, 2, 10, 31)) == {"handled": 0, "sent": 1}


def test_403_on_sending_names_mail_send_and_rbac_and_sets_the_letter_aside(graph_site):
    graph_site.fake.permissions.discard("Mail.Send")
    graph_site.receive(question(), at=MORNING)
    assert graph_site.once(MORNING) == {"handled": 1, "sent": 0}
    assert outbox(graph_site) == []
    with Store(graph_site.folder / "data") as store:
        [letter] = OutboxRepo(store).set_aside_letters()  # kept, for `auditmail resend` once IT has granted it
    assert "the app lacks the Mail.Send application permission, or RBAC for Applications does not include the " \
           "mailbox qa-audits@wexcombe.example" in letter["last_error"]
    mailbox = open_mailbox(graph_site.config)
    with pytest.raises(PermanentFailure):
        mailbox.send(question(), "<x@wexcombe.example>", ["aisha.patel@wexcombe.example"])
    mailbox.close()


def test_403_on_reading_names_mail_readwrite(graph_site):
    graph_site.fake.permissions.discard("Mail.ReadWrite")
    graph_site.receive(question(), at=MORNING)
    with pytest.raises(PermanentFailure, match="lacks the Mail.ReadWrite application permission"):
        graph_site.once(MORNING)
    assert len(graph_site.files("inbox")) == 1


def test_a_wrong_client_secret_is_diagnosed(graph_site, monkeypatch):
    monkeypatch.setenv("AUDITMAIL_CLIENT_SECRET", "the-secret-id-not-its-value")
    graph_site.receive(question(), at=MORNING)
    with pytest.raises(PermanentFailure, match="sign-in refused: the client secret is wrong"):
        graph_site.once(MORNING)
    assert not any(s.path.startswith("/v1.0/") for s in graph_site.fake.seen)  # no Graph call without a token


def test_a_mailbox_not_in_the_tenant_is_diagnosed(graph_site):
    graph_site.fake.mailbox = "someone-else@wexcombe.example"
    with pytest.raises(PermanentFailure, match="no mailbox qa-audits@wexcombe.example in this tenant"):
        graph_site.once(MORNING)


def test_one_connection_and_one_request_at_a_time_even_when_reader_and_sender_overlap(graph_site):
    fake = graph_site.fake
    for n in range(4):
        graph_site.receive(question(n), at=MORNING)
    fake.hold_seconds = 0.05
    mailbox = open_mailbox(graph_site.config)
    try:
        sender = threading.Thread(target=lambda: [mailbox.send(question(9), "<s@wexcombe.example>",
                                                               ["aisha.patel@wexcombe.example"]) for _ in range(3)])
        sender.start()
        read = [m.handle for m in mailbox.waiting()]
        sender.join()
    finally:
        mailbox.close()
    assert len(read) == 4 and len(fake.sent) == 3
    assert fake.most_in_flight == 1  # Outlook allows 4 at once per mailbox; we never use more than 1
    assert len({s.connection for s in fake.graph_requests()}) == 1


def test_a_recipient_the_headers_do_not_name_is_sent_as_bcc(graph_site):
    mailbox = open_mailbox(graph_site.config)
    raw = question()
    mailbox.send(raw, "<q1@mail.wexcombe.example>", ["qa-audits@wexcombe.example", "priya.ramsden@wexcombe.example"])
    mailbox.send(raw, "<q1@mail.wexcombe.example>", ["qa-audits@wexcombe.example"])
    mailbox.close()
    with_bcc, unchanged = graph_site.fake.sent
    assert with_bcc == b"Bcc: priya.ramsden@wexcombe.example\r\n" + raw and unchanged == raw


def test_waiting_for_mail_returns_soon_after_mail_arrives(graph_site, monkeypatch):
    monkeypatch.setattr("inbox.graph.CHECK_SECONDS", 0.5)
    mailbox = open_mailbox(graph_site.config)
    try:
        list(mailbox.waiting())
        timer = threading.Timer(0.3, lambda: graph_site.receive(question(), at=MORNING))
        timer.start()
        took = elapsed(lambda: mailbox.wait_for_mail(30, lambda: False))
        assert took < 5
        assert [m.received_at for m in mailbox.waiting()] == [MORNING]
        assert elapsed(lambda: mailbox.wait_for_mail(30, lambda: True)) < 0.5  # told to stop: at once
    finally:
        mailbox.close()


def test_doctor_sees_the_folders_and_what_waits(graph_site):
    graph_site.receive(question(1), at=MORNING)
    graph_site.receive(question(2), at=MORNING)
    mailbox = open_mailbox(graph_site.config)
    try:
        assert mailbox.folders() == {"inbox": 2, "Processed": 0, "Failed": 0}
    finally:
        mailbox.close()


def test_a_wrong_tenant_or_client_id_is_diagnosed(graph_site):
    config = graph_site.config_path.read_text(encoding="utf-8")
    graph_site.config_path.write_text(config.replace(graph_site.fake.client_id, "not-our-app"), encoding="utf-8")
    with pytest.raises(PermanentFailure, match="no app with this client_id exists in this tenant"):
        graph_site.once(MORNING)
    graph_site.config_path.write_text(config.replace(graph_site.fake.tenant, "no-such-tenant"), encoding="utf-8")
    with pytest.raises(PermanentFailure, match="no-such-tenant was not accepted.*tenant name or GUID"):
        graph_site.once(MORNING)


def test_graph_out_of_reach_pauses_sending_rather_than_counting_against_the_letter():
    import socket

    from app.send_trouble import _unreachable
    from core.backoff import FAIL_FAST
    from core.graph import GraphClient
    from mailer.graph import GraphSender

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = GraphClient(f"http://127.0.0.1:{port}/v1.0", "qa-audits@wexcombe.example", lambda: "token",
                         policy=FAIL_FAST)
    with pytest.raises(TemporaryFailure) as caught:
        GraphSender(client).send(question(), "<a@wexcombe.example>", ["aisha.patel@wexcombe.example"])
    assert "cannot reach" in caught.value.message and _unreachable(caught.value)
