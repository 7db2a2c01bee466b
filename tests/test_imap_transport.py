"""The imap transport's promises, against a real Dovecot and a real SMTP server on loopback.

What IT will meet on the day: TLS and STARTTLS with a certificate to check, a wrong password, a
server that is not there, a folder that is missing, a server without MOVE, OAuth (XOAUTH2), and an
SMTP server that says 4xx, 5xx or refuses one recipient of several. Each ends in a plain diagnosis.
"""
import pytest

from conftest import utc
from core.backoff import Backoff
from core.errors import PermanentFailure, TemporaryFailure
from inbox.imap import ImapReader, internaldate
from inbox.imap_connection import ImapSettings, Login, folder_name
from mailer.smtp import SmtpSender, SmtpSettings
from servers.dovecot import Dovecot, free_port
from servers.smtp import SmtpServer

QUICK = Backoff(tries=2, first=0.05)
LETTER = b"From: QA Audits <qa-audits@wexcombe.example>\nTo: aisha.patel@wexcombe.example\nSubject: Test\n\nHello\n"


class State(dict):
    """TransportState in memory."""

    def get(self, key):
        return super().get(key)

    def put(self, key, value):
        self[key] = value


def reader(dovecot, user, *, security="plain", port=None, password=None, token=None, context=None, **folders):
    port = port or (dovecot.imaps_port if security == "tls" else dovecot.imap_port)
    settings = ImapSettings("127.0.0.1", port, security, user, **folders)
    login = Login(token=token) if token else Login(password=password or dovecot.password, secret_from="AUDITMAIL_IMAP_PASSWORD")
    return ImapReader(settings, login, State(), retry=QUICK, context=context)


@pytest.fixture
def refusing_dovecot():
    """A Dovecot of its own for a failed login: after one, Dovecot delays every login from the same address for
    seconds (its auth penalty), which must not slow the other tests."""
    server = Dovecot().start()
    yield server
    server.remove()


@pytest.fixture
def trust_test_certificate(dovecot, monkeypatch):
    """Trust Dovecot's self-signed certificate the way a council trusts a private authority: SSL_CERT_FILE."""
    monkeypatch.setenv("SSL_CERT_FILE", str(dovecot.cert_file))


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_check_the_certificate_and_read_the_inbox(dovecot, trust_test_certificate, security):
    dovecot.append("tls-" + security, LETTER, at=utc(2026, 11, 30, 23, 58))
    mailbox = reader(dovecot, "tls-" + security, security=security)
    try:
        [message] = list(mailbox.waiting())
        assert message.received_at == utc(2026, 11, 30, 23, 58) and message.raw.endswith(b"Hello\r\n")
    finally:
        mailbox.close()


def test_an_untrusted_certificate_is_named_as_the_problem(dovecot):
    mailbox = reader(dovecot, "untrusted", security="tls")
    with pytest.raises(PermanentFailure, match="TLS certificate we cannot trust"):
        list(mailbox.waiting())


def test_a_wrong_password_is_diagnosed_plainly_and_not_retried(refusing_dovecot):
    mailbox = reader(refusing_dovecot, "wrong-password", password="not-the-password")
    with pytest.raises(PermanentFailure) as caught:
        mailbox.folders()
    assert caught.value.message.startswith("the IMAP server refused the username or password for wrong-password")
    assert "AUDITMAIL_IMAP_PASSWORD" in caught.value.message


def test_a_server_that_is_not_there_is_a_temporary_failure_naming_host_and_port():
    settings = ImapSettings("127.0.0.1", free_port(), "plain", "nobody")
    mailbox = ImapReader(settings, Login(password="x"), State(), retry=QUICK)
    with pytest.raises(TemporaryFailure, match=r"127\.0\.0\.1:\d+ refused the connection"):
        mailbox.folders()


def test_a_missing_inbox_folder_is_named_and_processed_and_failed_are_created(dovecot):
    mailbox = reader(dovecot, "folders", inbox_folder="Audits", processed_folder="Traité", failed_folder="Failed")
    with pytest.raises(PermanentFailure, match="'Audits' does not exist"):
        mailbox.folders()
    client = dovecot.client("folders")
    client.create("Audits")
    client.logout()
    assert mailbox.folders() == {"Audits": 0, "Traité": 0, "Failed": 0}
    mailbox.close()


def test_without_move_handled_mail_is_copied_and_expunged(tmp_path):
    server = Dovecot(advertise_move=False).start()
    try:
        server.append("no-move", LETTER, at=utc(2026, 11, 2, 9, 0))
        mailbox = reader(server, "no-move")
        [message] = list(mailbox.waiting())
        assert "MOVE" not in mailbox._run(lambda c: c.capabilities)
        mailbox.processed(message)
        assert mailbox.folders() == {"INBOX": 0, "Processed": 1, "Failed": 0}
        mailbox.close()
    finally:
        server.remove()


def test_a_processed_folder_deleted_while_running_is_made_again(dovecot):
    dovecot.append("deleted-folder", LETTER, at=utc(2026, 11, 2, 9, 0))
    mailbox = reader(dovecot, "deleted-folder")
    [message] = list(mailbox.waiting())
    client = dovecot.client("deleted-folder")
    client.delete("Processed")  # a person tidying up in their mail client
    client.logout()
    mailbox.processed(message)
    assert mailbox.folders() == {"INBOX": 0, "Processed": 1, "Failed": 0}
    mailbox.close()


def test_xoauth2_logs_in_with_the_token_and_a_refused_token_names_the_permissions(dovecot, refusing_dovecot):
    # Dovecot checks an XOAUTH2 token as it would a password: the test server's password is a good token.
    assert reader(dovecot, "oauth", token=lambda: dovecot.password).folders()["INBOX"] == 0
    with pytest.raises(PermanentFailure, match="refused the OAuth token for oauth.*IMAP.AccessAsApp"):
        reader(refusing_dovecot, "oauth", token=lambda: "expired-token").folders()


def test_a_dropped_connection_is_reconnected_and_a_renumbered_inbox_is_looked_at_afresh(dovecot, caplog):
    dovecot.append("renumbered", LETTER, at=utc(2026, 11, 2, 9, 0))
    mailbox = reader(dovecot, "renumbered")
    [first] = list(mailbox.waiting())
    mailbox._connection.shutdown()  # the network drops it
    assert len(list(mailbox.waiting())) == 1
    key = next(iter(mailbox._state))
    mailbox._state.put(key, "12345")  # as if the server had renumbered the folder since we last ran
    mailbox.close()
    [again] = list(mailbox.waiting())
    assert "renumbered INBOX" in caplog.text
    stale = type(first)(first.raw, first.received_at, "12345/" + first.handle.split("/")[1])
    mailbox.processed(stale)  # a name from before the renumbering is not trusted: nothing moves
    assert mailbox.folders()["INBOX"] == 1
    mailbox.processed(again)
    assert mailbox.folders() == {"INBOX": 0, "Processed": 1, "Failed": 0}
    mailbox.close()


def test_internaldate_is_read_as_utc_whatever_the_server_zone():
    assert internaldate(" 1-Nov-2026 00:30:00 +0100") == utc(2026, 10, 31, 23, 30)
    assert internaldate("31-Oct-2026 23:58:00 +0000") == utc(2026, 10, 31, 23, 58)


def test_folder_names_are_quoted_and_in_modified_utf7():
    assert folder_name("Processed") == '"Processed"'
    assert folder_name("Traité & co") == '"Trait&AOk- &- co"'


# --- sending ---------------------------------------------------------------------------------------

@pytest.fixture
def smtp(dovecot):
    server = SmtpServer(username="qa-audits", password="sesame", lmtp_port=dovecot.lmtp_port).start()
    yield server
    server.stop()


def sender(server, *, password="sesame", token=None, security="plain", port=None, context=None):
    settings = SmtpSettings("127.0.0.1", port or server.port, security, "qa-audits", password=None if token else password,
                            token=token, secret_from="AUDITMAIL_SMTP_PASSWORD")
    return SmtpSender(settings, "qa-audits@wexcombe.example", context)


def test_one_connection_carries_every_letter_and_a_dropped_one_is_reopened(smtp):
    outgoing = sender(smtp)
    assert outgoing.send(LETTER, "<1@wexcombe.example>", ["aisha.patel@wexcombe.example"]) == []
    first_connection = outgoing._smtp
    assert outgoing.send(LETTER, "<2@wexcombe.example>", ["ben.hartley@wexcombe.example"]) == []
    assert outgoing._smtp is first_connection
    first_connection.sock.close()  # the server (or a firewall) dropped it while we were idle
    assert outgoing.send(LETTER, "<3@wexcombe.example>", ["ben.hartley@wexcombe.example"]) == []
    assert [r.rcpt_tos for r in smtp.received] == [
        ["aisha.patel@wexcombe.example"], ["ben.hartley@wexcombe.example"], ["ben.hartley@wexcombe.example"]]
    assert smtp.received[0].data == LETTER.replace(b"\n", b"\r\n")  # the bytes as composed, CRLF on the wire
    assert smtp.received[0].mail_from == "qa-audits@wexcombe.example"
    outgoing.close()


def test_a_refused_recipient_among_several_is_returned_and_the_others_get_it(smtp):
    smtp.behaviour.refuse_recipients["left@wexcombe.example"] = "550 5.1.1 No such user"
    refused = sender(smtp).send(LETTER, "<4@wexcombe.example>", ["aisha.patel@wexcombe.example", "left@wexcombe.example"])
    assert refused == ["left@wexcombe.example"]
    assert smtp.received[-1].rcpt_tos == ["aisha.patel@wexcombe.example"]


@pytest.mark.parametrize("answer, error", [("451 4.3.0 Try again later", TemporaryFailure),
                                           ("554 5.6.0 Message rejected", PermanentFailure)])
def test_the_server_refusing_the_message_is_temporary_for_4xx_and_permanent_for_5xx(smtp, answer, error):
    smtp.behaviour.refuse_data = answer
    with pytest.raises(error, match=answer.split()[0]):
        sender(smtp).send(LETTER, "<5@wexcombe.example>", ["aisha.patel@wexcombe.example"])
    assert smtp.received == []


@pytest.mark.parametrize("answer, error", [("451 4.7.1 Greylisted", TemporaryFailure),
                                           ("550 5.1.1 No such user", PermanentFailure)])
def test_every_recipient_refused_is_temporary_or_permanent_by_its_code(smtp, answer, error):
    smtp.behaviour.refuse_recipients["left@wexcombe.example"] = answer
    with pytest.raises(error, match="refused every recipient"):
        sender(smtp).send(LETTER, "<6@wexcombe.example>", ["left@wexcombe.example"])


def test_a_wrong_smtp_password_is_diagnosed_plainly(smtp):
    with pytest.raises(PermanentFailure, match="the SMTP server refused the username or password for qa-audits "
                                               r"\(AUDITMAIL_SMTP_PASSWORD\)"):
        sender(smtp, password="wrong").send(LETTER, "<7@wexcombe.example>", ["aisha.patel@wexcombe.example"])


def test_smtp_xoauth2_sends_with_the_token_and_a_refused_token_names_the_permission(smtp):
    assert sender(smtp, token=lambda: smtp.token).send(LETTER, "<8@x>", ["aisha.patel@wexcombe.example"]) == []
    with pytest.raises(PermanentFailure, match="refused the OAuth token.*SMTP.SendAsApp"):
        sender(smtp, token=lambda: "expired").send(LETTER, "<9@x>", ["aisha.patel@wexcombe.example"])


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_smtp_over_tls_and_starttls_checks_the_certificate(dovecot, trust_test_certificate, security):
    server = SmtpServer(username="qa-audits", password="sesame", security=security,
                        certificate=(dovecot.cert_file, dovecot.folder / "key.pem")).start()
    try:
        assert sender(server, security=security).send(LETTER, "<10@x>", ["aisha.patel@wexcombe.example"]) == []
    finally:
        server.stop()


def test_an_smtp_server_that_is_not_there_is_a_temporary_failure():
    settings = SmtpSettings("127.0.0.1", free_port(), "plain", "qa-audits", password="x")
    with pytest.raises(TemporaryFailure, match="refused the connection"):
        SmtpSender(settings, "qa-audits@wexcombe.example").send(LETTER, "<11@x>", ["a@wexcombe.example"])


def test_a_server_slow_to_acknowledge_a_letter_gets_it_once_and_the_try_counts_against_the_letter(monkeypatch):
    """RFC 5321 allows 10 minutes after DATA (a virus scan); giving up sooner must never mean sending it again."""
    import asyncio

    import mailer.smtp as smtp_module
    from app.send_trouble import _unreachable
    from servers.smtp import Handler

    slow = {"on": False}
    real = Handler.handle_DATA

    async def handle_data(self, server, session, envelope):
        answer = await real(self, server, session, envelope)
        if slow["on"]:
            await asyncio.sleep(1.5)
        return answer

    monkeypatch.setattr(Handler, "handle_DATA", handle_data)
    monkeypatch.setattr(smtp_module, "SESSION_TIMEOUT", 1.0)  # stands in for the 10 minutes
    server = SmtpServer(username="qa-audits", password="sesame").start()
    letter = b"From: qa-audits@wexcombe.example\nTo: aisha.patel@wexcombe.example\nSubject: T\n\nHello\n"
    try:
        sender = SmtpSender(SmtpSettings("127.0.0.1", server.port, "plain", "qa-audits", password="sesame"),
                            "qa-audits@wexcombe.example")
        sender.send(letter, "<1@x>", ["aisha.patel@wexcombe.example"])  # the connection is now kept open
        slow["on"] = True
        before = len(server.received)
        with pytest.raises(TemporaryFailure) as caught:
            sender.send(letter, "<2@x>", ["aisha.patel@wexcombe.example"])
        assert len(server.received) - before <= 1
        assert not _unreachable(caught.value), "a letter the server may hold is not resent at every pass"
    finally:
        server.stop()
