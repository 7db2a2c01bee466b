"""The ews transport's own promises: plain diagnoses IT can act on, bounded retries, OAuth, fast pickup.

Against the fake EWS server on loopback (tests/servers/fake_ews.py), through exchangelib.
"""
import threading
import time

import pytest

from app.transports import _ews, open_mailbox
from conftest import new_mail, utc
from core.errors import ConfigError, PermanentFailure, TemporaryFailure

QUESTION = new_mail(sender="Aisha Patel <aisha.patel@wexcombe.example>", subject="question", body="How?")


def configure(site, extra: str, *, replace: dict | None = None) -> None:
    text = site.config_path.read_text(encoding="utf-8")
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    site.config_path.write_text(text + extra, encoding="utf-8")


def failure_reading(site, **kwargs) -> Exception:
    mailbox = _ews(site.config, **kwargs)
    try:
        with pytest.raises((PermanentFailure, TemporaryFailure)) as caught:
            list(mailbox.waiting())
        return caught.value
    finally:
        mailbox.close()


def test_a_wrong_password_is_named_at_once_not_retried_as_throttling(ews_site, monkeypatch):
    monkeypatch.setenv("AUDITMAIL_TEST_EWS_PASSWORD", "wrong")
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure)
    assert "refused the sign-in of svc-qa-audits (HTTP 401): wrong username or password" in error.message
    assert ews_site.fake.operations == []  # refused at the door, and asked only once


def test_missing_full_access_names_the_permission_to_grant(ews_site):
    ews_site.fake.grants.full_access = False
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure)
    assert "access denied to svc-qa-audits" in error.message and "FullAccess on the shared mailbox" in error.message


def test_missing_impersonation_right_names_the_role(ews_site):
    configure(ews_site, 'access_type = "impersonation"\n')
    ews_site.fake.grants.impersonation = False
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure) and "ApplicationImpersonation role" in error.message


def test_missing_send_as_sets_the_letter_aside_with_the_permission_named(ews_site):
    ews_site.fake.grants.send_as = False
    mailbox = open_mailbox(ews_site.config)
    try:
        with pytest.raises(PermanentFailure) as caught:
            mailbox.send(QUESTION, "<m1@wexcombe.example>", ["aisha.patel@wexcombe.example"])
    finally:
        mailbox.close()
    assert "may not send as qa-audits@wexcombe.example" in caught.value.message and "SendAs" in caught.value.message


def test_a_forbidden_answer_is_permanent_and_says_access_denied(ews_site):
    ews_site.fake.fail_next("403", 5)
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure) and "access denied" in error.message


def test_exchange_online_refusing_ews_says_to_use_graph():
    from exchangelib.errors import UnauthorizedError

    from core.ews import Diagnosis, EwsSettings

    online = Diagnosis(EwsSettings(address="qa@council.example", auth="oauth", client_id="app",
                                   endpoint="https://outlook.office365.com/EWS/Exchange.asmx"))
    error = online.translate(UnauthorizedError("HTTP 401"), "listing the inbox")
    assert isinstance(error, PermanentFailure)
    assert "Exchange Online blocks EWS for this tenant; use transport = graph" in error.message


def test_a_server_busy_beyond_the_bound_is_a_temporary_failure_with_its_back_off(ews_site):
    ews_site.fake.fail_next("busy", 20)  # 50 ms each; the bound allows 0.2 s in all
    error = failure_reading(ews_site, max_wait=0.2)
    assert isinstance(error, TemporaryFailure) and "busy" in error.message
    assert error.retry_after == pytest.approx(0.05)
    assert 0 < len(ews_site.fake.faults) < 20  # it tried a few times, then gave up until the next pass


def test_an_unreachable_server_is_temporary(ews_site):
    ews_site.fake.stop()
    error = failure_reading(ews_site, max_wait=0.5)
    assert isinstance(error, TemporaryFailure) and "cannot reach the server" in error.message


def test_http_is_refused_except_to_loopback(ews_site):
    configure(ews_site, "", replace={"http://127.0.0.1": "http://mail.wexcombe.example"})
    with pytest.raises(ConfigError) as caught:
        open_mailbox(ews_site.config)
    assert caught.value.key == "ews.service_endpoint"


OAUTH = '''access_type = "impersonation"
[oauth]
tenant_id = "wexcombe-tenant"
client_id = "auditmail-app"
client_secret_env = "AUDITMAIL_TEST_CLIENT_SECRET"
[graph]
authority = "{authority}"
'''


def oauth_site(site, monkeypatch, secret="app-secret"):
    configure(site, OAUTH.format(authority=site.fake.base), replace={'auth = "basic"': 'auth = "oauth"'})
    monkeypatch.setenv("AUDITMAIL_TEST_CLIENT_SECRET", secret)
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib insists on https; the fake is loopback http
    return site


def test_oauth_client_credentials_read_and_send_as_the_shared_mailbox(ews_site, monkeypatch):
    site = oauth_site(ews_site, monkeypatch)
    site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))
    assert site.once(utc(2026, 11, 2, 9, 30)) == {"handled": 1, "sent": 1}
    assert site.fake.tokens and len(site.sent()) == 1


def test_a_wrong_client_secret_is_diagnosed_from_the_sign_in_service(ews_site, monkeypatch):
    oauth_site(ews_site, monkeypatch, secret="wrong")
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure) and "the client secret is wrong" in error.message


def test_oauth_with_delegate_access_is_a_configuration_error(ews_site, monkeypatch):
    oauth_site(ews_site, monkeypatch)
    configure(ews_site, "", replace={'access_type = "impersonation"': 'access_type = "delegate"'})
    with pytest.raises(ConfigError) as caught:
        open_mailbox(ews_site.config)
    assert caught.value.key == "ews.access_type"


def waited_until_mail(site, mailbox) -> float:
    """Start waiting (up to 30 s), deliver a message half a second in; how long the wait lasted."""
    threading.Timer(0.5, lambda: site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))).start()
    started = time.monotonic()
    mailbox.wait_for_mail(30, lambda: False)
    return time.monotonic() - started


def test_new_mail_ends_the_wait_through_streaming_notifications(ews_site):
    mailbox = open_mailbox(ews_site.config)
    try:
        assert waited_until_mail(ews_site, mailbox) < 10  # woken by the notification, not by the 30 s time-out
    finally:
        mailbox.close()
    assert "Subscribe" in ews_site.fake.operations and "GetStreamingEvents" in ews_site.fake.operations


def test_without_streaming_the_inbox_is_polled(ews_site, monkeypatch):
    from inbox import ews

    monkeypatch.setattr(ews, "POLL_EVERY", 0.2)
    ews_site.fake.streaming = False
    mailbox = open_mailbox(ews_site.config)
    try:
        assert waited_until_mail(ews_site, mailbox) < 10
    finally:
        mailbox.close()
    assert "GetStreamingEvents" not in ews_site.fake.operations


def test_the_wait_ends_when_the_daemon_is_stopping(ews_site):
    mailbox = open_mailbox(ews_site.config)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    try:
        started = time.monotonic()
        mailbox.wait_for_mail(30, stop.is_set)
        assert time.monotonic() - started < 10
    finally:
        mailbox.close()


def test_doctor_sees_each_folder_and_what_waits(ews_site):
    ews_site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))
    mailbox = open_mailbox(ews_site.config)
    try:
        assert mailbox.folders() == {"Inbox": 1, "Processed": 0, "Failed": 0}
    finally:
        mailbox.close()


def test_a_message_moved_away_by_a_person_meanwhile_is_simply_skipped(ews_site):
    first = ews_site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))
    second = ews_site.receive(QUESTION, at=utc(2026, 11, 2, 9, 31))
    mailbox = open_mailbox(ews_site.config)
    try:
        waiting = mailbox.waiting()
        incoming = next(waiting)
        assert incoming.handle == first.id and incoming.received_at == utc(2026, 11, 2, 9, 30)
        del ews_site.fake.items[second.id]  # someone filed it in Outlook while we were busy
        assert list(waiting) == []
        del ews_site.fake.items[first.id]
        mailbox.processed(incoming)  # nothing left to move: no error
    finally:
        mailbox.close()


def test_a_mailbox_the_server_does_not_have_is_named(ews_site):
    ews_site.fake.mailbox = "qa-team@wexcombe.example"  # the server knows the shared mailbox by another address
    error = failure_reading(ews_site)
    assert isinstance(error, PermanentFailure)
    assert "the server has no mailbox qa-audits@wexcombe.example (check mailbox.address)" in error.message
