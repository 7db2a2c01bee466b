"""Each real client shape is recognised for what it is; machines and outsiders are never answered."""

import pytest

from conftest import MAILBOX, new_mail, sample, utc
from inbox.classify import Kind
from inbox.parse import parse_message

RECEIVED = utc(2026, 11, 2, 10, 0)


@pytest.fixture
def classify(site):
    ctx = site.open()
    yield lambda raw: ctx.classifier.classify(parse_message(raw, RECEIVED))
    ctx.close()


@pytest.mark.parametrize("eml, kind, refs", [
    ("outlook_desktop_submission.eml", Kind.SUBMISSION, ("AUD-2026-11-004",)),
    ("outlook_web_submission.eml", Kind.SUBMISSION, ("AUD-2026-11-005",)),
    ("gmail_submission.eml", Kind.SUBMISSION, ("AUD-2026-11-008",)),
    ("apple_mail_submission.eml", Kind.SUBMISSION, ("AUD-2026-11-006",)),
    ("outlook_mobile_reply.eml", Kind.SUBMISSION, ("AUD-2026-11-010",)),
    ("html_only.eml", Kind.SUBMISSION, ("AUD-2026-11-007",)),
    ("windows_1252.eml", Kind.SUBMISSION, ("AUD-2026-11-009",)),
    ("with_attachment.eml", Kind.SUBMISSION, ("AUD-2026-11-011",)),
    ("exchange_out_of_office.eml", Kind.AUTO_REPLY, ()),
    ("dsn_bounce.eml", Kind.BOUNCE, ()),
    ("outsider.eml", Kind.OUTSIDER, ()),
    ("no_message_id.eml", Kind.UNCLEAR, ()),
])
def test_each_sample_is_classified(classify, eml, kind, refs):
    result = classify(sample(eml))
    assert result.kind is kind
    assert result.references[:len(refs)] == refs


@pytest.mark.parametrize("headers, subject", [
    ({"Auto-Submitted": "auto-replied"}, "Re: audits"),
    ({"Auto-Submitted": "auto-generated"}, "Re: audits"),
    ({"X-Auto-Response-Suppress": "All"}, "Re: audits"),
    ({"Precedence": "auto_reply"}, "Re: audits"),
    ({"Precedence": "bulk"}, "Re: audits"),
    ({}, "Automatic reply: [AUD-2026-11-004] Your audits"),
    ({}, "Out of Office: back on Monday"),
])
def test_auto_replies_are_recognised_by_every_usual_sign(classify, headers, subject):
    raw = new_mail(sender="Ben Hartley <ben.hartley@wexcombe.example>", subject=subject,
                   body="I am out of the office until Monday.", headers=headers)
    assert classify(raw).kind is Kind.AUTO_REPLY


@pytest.mark.parametrize("sender, subject, headers", [
    ("postmaster@wexcombe.example", "Delivery has failed", {}),
    ("Mail Delivery System <mailer-daemon@mx.wexcombe.example>", "Failure", {}),
    ("someone@wexcombe.example", "Undeliverable: [AUD-2026-11-004] Your audits", {}),
    ("someone@wexcombe.example", "Undeliverable: Returned", {"Return-Path": "<>"}),
])
def test_bounces_are_recognised(classify, sender, subject, headers):
    assert classify(new_mail(sender=sender, subject=subject, body="failed", headers=headers)).kind is Kind.BOUNCE


def test_mail_from_our_own_address_is_never_taken_for_a_person(classify):
    raw = new_mail(sender=f"QA Audits <{MAILBOX}>", subject="[AUD-2026-11-004] Grade: Good", body="Grade: Good")
    assert classify(raw).kind is Kind.OWN


def test_an_exemption_request_and_a_slippage_notice_are_recognised(classify):
    aisha = "Aisha Patel <aisha.patel@wexcombe.example>"
    assert classify(new_mail(sender=aisha, subject="Exemption request for December",
                             body="I will be on long-term sick leave.")).kind is Kind.EXEMPTION
    assert classify(new_mail(sender=aisha, subject="[AUD-2026-11-005] slippage",
                             body="I may not make the deadline; I expect to finish by 4 December.")).kind is Kind.SLIPPAGE
    assert classify(new_mail(sender=aisha, subject="[AUD-2026-11-005]",
                             body="Sorry - I won't make the deadline this month.")).kind is Kind.SLIPPAGE


def test_a_decision_in_an_exemption_thread_is_a_reply_not_a_new_request(classify):
    raw = new_mail(sender="Marcus Ellery <marcus.ellery@wexcombe.example>",
                   subject="RE: [EXM-2026-11-003] Exemption request from Aisha Patel", body="Support")
    result = classify(raw)
    assert result.kind is Kind.REPLY and result.references == ("EXM-2026-11-003",)


def test_an_old_reference_in_quoted_history_does_not_make_mail_a_submission(classify):
    body = "Can I ask how moderation works?\r\n\r\nOn Mon, 2 Nov 2026 at 09:00, QA Audits wrote:\r\n> [AUD-2026-10-001]"
    raw = new_mail(sender="Aisha Patel <aisha.patel@wexcombe.example>", subject="a question", body=body)
    result = classify(raw)
    assert result.kind is Kind.UNCLEAR
    assert any("no audit reference" in reason for reason in result.reasons)


def test_a_reply_is_matched_to_our_mail_by_its_headers_before_its_subject(site):
    ctx = site.open()
    try:
        our_id = "<20261102090000.0123456789ab.qa@wexcombe.example>"
        with ctx.store.transaction():
            ctx.ledger.record_sent(our_id, {"refs": ["AUD-2026-11-004"], "kind": "allocation"})
        raw = new_mail(sender="Ben Hartley <ben.hartley@wexcombe.example>", subject="Re: your audits",
                       body="Grade: Good", headers={"In-Reply-To": our_id, "References": our_id})
        result = ctx.classifier.classify(parse_message(raw, RECEIVED))
        assert result.kind is Kind.SUBMISSION and result.references == ("AUD-2026-11-004",)
        assert result.thread["kind"] == "allocation"
    finally:
        ctx.close()
