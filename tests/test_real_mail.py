"""The mail people really send: foreign and odd quote headers, lying charsets, Apple Mail's layout,
out-of-office replies from a null sender, bounces, and replies whose text sits in the HTML part.

Each sample under tests/data/ is written the way that client or server produces it.
"""
import pytest

from conftest import sample, utc
from inbox.classify import Kind, is_auto_reply, is_bounce
from inbox.intent import Intent, read_decision, with_remarks
from inbox.parse import parse_message
from inbox.reply import newest_text, remarks
from workflows.grades import Grade, Remedial, read_submission

RECEIVED = utc(2026, 12, 10, 12, 0)
ALLOCATED = ["AUD-2026-12-001", "AUD-2026-12-002"]


def mail(name: str):
    return parse_message(sample(name), RECEIVED)


def submitted(name: str, refs=ALLOCATED):
    """What the submission reader takes from a sample, as the submission handler reads it."""
    parsed = mail(name)
    written = "\n".join(t for t in (newest_text(parsed.text), remarks(parsed.text)) if t)
    return read_submission(written, refs, [a.filename for a in parsed.attachments])


def decided(name: str):
    parsed = mail(name)
    return with_remarks(read_decision(newest_text(parsed.text)), remarks(parsed.text))


def test_zoho_thanks_see_attached_records_no_grade_and_raises_no_alert():
    # The allocation letter's examples sit under Zoho's "---- On … wrote ----", unquoted.
    read = submitted("zoho_thanks_see_attached.eml")
    assert (read.grades, read.remedial) == ({}, {})


def test_dutch_outlook_reply_records_only_the_grade_typed_above_the_quote():
    read = submitted("outlook_dutch_submission.eml")
    assert (read.grades, read.remedial) == ({"AUD-2026-12-002": Grade.INADEQUATE}, {})


@pytest.mark.parametrize("name", ["outlook_german_support.eml", "outlook_french_thanks.eml",
                                  "thunderbird_german_thanks.eml"])
def test_thanks_above_a_foreign_quote_header_decides_nothing(name):
    # "Support" and "Approve" appear only in the quoted letter; the newest text holds no decision.
    assert decided(name).intent is Intent.UNCLEAR


def test_thunderbird_german_reply_to_the_allocation_letter_records_nothing():
    read = submitted("thunderbird_german_thanks.eml", ["AUD-2026-12-004"])
    assert (read.grades, read.remedial) == ({}, {})


def test_a_windows_1252_refusal_labelled_iso_8859_1_is_a_refusal():
    parsed = mail("windows_1252_refusal_labelled_latin1.eml")
    assert "I can\u2019t approve this \u2013 she has had two this year." in parsed.text
    assert decided("windows_1252_refusal_labelled_latin1.eml").intent is Intent.NO


@pytest.mark.parametrize("text", ["I can\x92t approve this", "I can\ufffdt approve this", "I can?t approve this",
                                  "I can t approve this", "Don\x92t approve", "I won\u2019t approve it"])
def test_a_refusal_whose_apostrophe_was_mangled_is_never_an_approval(text):
    assert read_decision(text).intent is not Intent.YES


@pytest.mark.parametrize("text", ["Not a problem, approved", "I approve, though not happily"])
def test_a_not_beside_an_approval_that_cannot_be_placed_is_unclear(text):
    assert read_decision(text).intent is Intent.UNCLEAR


def test_apple_mails_text_image_text_pdf_text_layout_is_read_in_order():
    read = submitted("apple_mail_mixed_layout.eml")
    assert read.grades == {"AUD-2026-12-001": Grade.GOOD, "AUD-2026-12-002": Grade.REQUIRES_IMPROVEMENT}
    assert read.remedial == {
        "AUD-2026-12-002": Remedial(True, "the child's plan has not been reviewed since August")}
    assert [a.filename for a in mail("apple_mail_mixed_layout.eml").attachments] == [
        "photo.jpg", "AUD-2026-12-002 audit tool.pdf"]


def test_an_empty_text_part_gives_way_to_the_html_that_holds_the_reply():
    assert mail("empty_plain_beside_html.eml").text.startswith("Not supported - he can do it after the hearing.")
    assert decided("empty_plain_beside_html.eml").intent is Intent.NO


def test_a_header_folded_without_its_leading_space_still_reads():
    parsed = mail("broken_folded_subject.eml")
    assert parsed.from_addr == "sam.okafor@wexcombe.example"
    assert parsed.subject == "Re: [AUD-2026-12-001] [AUD-2026-12-002] Your audits for December 2026"
    assert submitted("broken_folded_subject.eml").grades == {"AUD-2026-12-001": Grade.GOOD}


def test_an_exchange_out_of_office_from_a_null_sender_is_an_auto_reply_not_a_bounce(site):
    ctx = site.open()
    try:
        result = ctx.classifier.classify(mail("exchange_auto_reply_null_sender.eml"))
    finally:
        ctx.close()
    assert result.kind is Kind.AUTO_REPLY
    assert not is_bounce(mail("exchange_auto_reply_null_sender.eml"))


def test_mail_an_inbox_rule_redirected_is_not_an_auto_reply():
    assert not is_auto_reply(mail("inbox_rule_redirected_submission.eml"))


def test_a_bare_mailer_daemon_bounce_is_a_bounce_not_a_malformed_message():
    assert is_bounce(mail("mailer_daemon_bare.eml"))


def test_remarks_typed_between_quoted_lines_are_kept():
    text = "\n".join(["> Please reply Support or Decline", "", "Decline", "", "> Kind regards"])
    assert newest_text(text) == "" and remarks(text) == "Decline"
    # An answer only among the quoted lines is not taken on trust: the approver is asked again.
    assert with_remarks(read_decision(newest_text(text)), remarks(text)).intent is Intent.UNCLEAR
    # One that agrees with the answer at the top changes nothing; one that contradicts it is unclear.
    assert with_remarks(read_decision("Supported"), "Support, she is in court").intent is Intent.YES
    assert with_remarks(read_decision("Supported"), "Decline").intent is Intent.UNCLEAR


def test_an_interleaved_grade_is_kept():
    text = "\n".join(["Done, thanks.", "", "On 1 Dec 2026, at 09:00, QA Audits <qa@x.example> wrote:",
                      "> Please write the grade on a line of its own:", "", "Requires improvement", "",
                      "> Yours sincerely"])
    written = "\n".join(t for t in (newest_text(text), remarks(text)) if t)
    assert read_submission(written, ["AUD-2026-12-001"]).grades == {"AUD-2026-12-001": Grade.REQUIRES_IMPROVEMENT}
