"""The key stories, end to end through `transport = "ews"`: exchangelib talking SOAP to the fake EWS server.

Mail arrives in the fake's inbox with the server's receipt time (DateTimeReceived); what the service
sends is what the fake received through CreateItem. Several stories are the maildir ones, imported
and replayed here with `site` being the EWS deployment.
"""
import pytest

from app.demo_mail import gmail_reply
from conftest import MAILBOX, issue, letters_to, new_mail, sample, text_of, utc
from test_cycle import ALLOCATIONS, BEN
from test_cycle import test_the_deadline_is_the_last_second_of_the_month_in_london  # noqa: F401
from test_exemptions import test_supported_then_approved_leaves_the_figures_and_stops_reminders  # noqa: F401
from test_exemptions import test_declined_by_the_head_of_service_never_reaches_the_director  # noqa: F401
from test_intake import test_unclear_mail_is_answered_with_the_right_headers_filed_and_not_handled_again  # noqa: F401
from test_intake import test_machines_and_outsiders_are_never_answered  # noqa: F401


@pytest.fixture
def site(ews_site):
    """Every story in this file runs against the fake Exchange server."""
    return ews_site


def test_a_submission_by_reply_gets_its_receipt_and_is_filed_in_processed(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Good", at=utc(2026, 12, 3, 10, 0), handle=False)
    assert site.once(utc(2026, 12, 3, 10, 5)) == {"handled": 1, "sent": 1}
    [receipt] = letters_to(site, BEN, "Received")
    assert receipt["Subject"] == "[AUD-2026-12-002] Received: your audit counts for December 2026"
    assert "Good" in text_of(receipt) and receipt["In-Reply-To"]
    assert not site.files("inbox") and len(site.files("processed")) == 1
    # Processed was made beside the inbox (under the mailbox's top folder) when first needed, and only once.
    site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Outstanding", at=utc(2026, 12, 4, 10, 0), handle=False)
    site.once(utc(2026, 12, 4, 10, 5))
    [processed] = [f for f in site.fake.folders.values() if f.name == "Processed"]
    assert processed.parent == "F-msgfolderroot" and len(site.files("processed")) == 2


def test_written_before_midnight_but_received_after_it_is_not_counted(site):
    # The Date: header says 31 December; Exchange received it at 00:00:30 on 1 January. Receipt decides.
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    [letter] = letters_to(site, BEN, "Your audits")
    raw = gmail_reply(f"Ben Hartley <{BEN}>", MAILBOX, letter, utc(2026, 12, 31, 23, 50), "Grade: Good")
    site.receive(raw, at=utc(2027, 1, 1, 0, 0, 30))
    site.once(utc(2027, 1, 1, 0, 1))
    assert "not counted" in letters_to(site, BEN, "Received")[0]["Subject"]


def test_a_malformed_message_goes_to_failed_and_the_next_is_still_handled(site):
    site.receive("malformed.eml", at=utc(2026, 11, 2, 9, 30))
    site.receive(new_mail(sender="Aisha Patel <aisha.patel@wexcombe.example>", subject="question",
                          body="How do I send my audit?"), at=utc(2026, 11, 2, 9, 31))
    assert site.once(utc(2026, 11, 2, 9, 35))["handled"] == 2
    assert len(site.files("failed")) == 1 and len(site.files("processed")) == 1
    assert site.files("failed")[0].mime == sample("malformed.eml")  # kept untouched for a person to look at
    assert len(site.sent()) == 1


def test_sent_mail_carries_its_headers_in_the_mime_and_as_properties_exchange_obeys(site):
    site.receive(new_mail(sender="Aisha Patel <aisha.patel@wexcombe.example>", subject="question",
                          body="How do I send my audit?", message_id="<q1@mail.wexcombe.example>"),
                 at=utc(2026, 11, 2, 9, 30))
    site.once(utc(2026, 11, 2, 9, 30))
    [sent] = site.fake.sent
    [answer] = site.sent()
    assert answer["Auto-Submitted"] == "auto-generated" and answer["X-Auto-Response-Suppress"] == "All"
    assert answer["In-Reply-To"] == "<q1@mail.wexcombe.example>"
    assert answer["Message-ID"].endswith("@wexcombe.example>")
    assert sent.properties["Auto-Submitted"] == ("InternetHeaders", "String", "auto-generated")
    assert sent.properties["0x3fdf"] == (None, "Integer", "-1")  # PidTagAutoResponseSuppress = 0xFFFFFFFF, "All"
    # A copy is kept in the shared mailbox's Sent Items, where people who open the mailbox look for it.
    assert sent.disposition == "SendAndSaveCopy" and sent.saved_to == "F-sentitems"
    assert len(site.files("sent")) == 1


def test_a_busy_server_and_a_503_are_waited_out_within_the_pass(site):
    site.receive(new_mail(sender="Aisha Patel <aisha.patel@wexcombe.example>", subject="question",
                          body="How do I send my audit?"), at=utc(2026, 11, 2, 9, 30))
    site.fake.fail_next("busy", 2)
    site.fake.fail_next("503", 2)
    assert site.once(utc(2026, 11, 2, 9, 30)) == {"handled": 1, "sent": 1}
    assert len(site.files("processed")) == 1 and not site.fake.faults
