"""Parsing the sample emails the way real clients send them, and turning HTML bodies into text."""

import hashlib
import pathlib
from datetime import datetime, timezone
from email import message_from_bytes, policy

import pytest

from core.errors import MalformedMessage
from inbox.html_text import html_to_text
from inbox.parse import ParsedMail, parse_message

DATA = pathlib.Path(__file__).parent / "data"
RECEIVED = datetime(2026, 11, 30, 14, 5, 0, tzinfo=timezone.utc)
SAMPLES = sorted(p.name for p in DATA.glob("*.eml") if p.name != "malformed.eml")


def parse(name: str) -> ParsedMail:
    return parse_message((DATA / name).read_bytes(), RECEIVED)


def in_order(text: str, *pieces: str) -> bool:
    """True when every piece occurs in text, each after the one before."""
    position = 0
    for piece in pieces:
        position = text.find(piece, position)
        if position < 0:
            return False
        position += len(piece)
    return True


@pytest.mark.parametrize("name", SAMPLES)
def test_every_sample_parses_and_keeps_the_mailbox_receipt_time(name):
    mail = parse(name)
    assert mail.received_at is RECEIVED
    assert ("@" in mail.from_addr or mail.from_addr == "mailer-daemon") and mail.from_addr == mail.from_addr.lower()
    assert mail.date_header is None or mail.date_header.tzinfo is not None


def test_outlook_desktop_reply_has_the_grade_above_the_quoted_letter():
    mail = parse("outlook_desktop_submission.eml")
    assert (mail.from_addr, mail.from_name) == ("ben.hartley@wexcombe.example", "Ben Hartley")
    assert mail.subject == "RE: [AUD-2026-11-004] Your audits for November 2026"
    assert mail.in_reply_to == ("20261102090000.a00000012345.qa@wexcombe.example",)
    assert mail.references == ("20261102090000.a00000012345.qa@wexcombe.example",)
    assert mail.message_id.endswith("@AM0PR03MB5012.eurprd03.prod.wexcombe.example")
    assert mail.key == mail.message_id
    assert mail.date_header == datetime(2026, 11, 18, 14, 32, 7, tzinfo=timezone.utc)
    assert mail.header("THREAD-TOPIC") == "[AUD-2026-11-004] Your audits for November 2026"
    assert mail.text.startswith("Grade: Requires improvement\n")
    quoted_block = ("Tel: 01632 960418", "From: QA Audits <qa-audits@wexcombe.example>",
                    "Sent: 02 November 2026 09:00", "To: Ben Hartley <ben.hartley@wexcombe.example>",
                    "Subject: [AUD-2026-11-004] Your audits for November 2026", "Grade: Good")
    assert in_order(mail.text, "Grade: Requires improvement", *quoted_block)
    assert in_order(html_to_text(mail.html), "Grade: Requires improvement", *quoted_block)


def test_outlook_web_reply_keeps_grade_remedial_action_and_separator():
    mail = parse("outlook_web_submission.eml")
    assert mail.from_addr == "aisha.patel@wexcombe.example"
    assert mail.text.startswith(
        "Grade: Good\nRemedial action: yes - the child's plan has not been reviewed since July\n")
    from_html = html_to_text(mail.html)
    assert 'id="divRplyFwdMsg"' in mail.html
    assert in_order(from_html, "Grade: Good", "Remedial action: yes - the child's plan",
                    "________________________________\nFrom: QA Audits <qa-audits@wexcombe.example>\n"
                    "Sent: 02 November 2026 09:00")


def test_gmail_reply_is_one_word_above_the_quote():
    mail = parse("gmail_submission.eml")
    assert mail.from_addr == "owen.tranter@wexcombe.example"
    assert mail.text.splitlines()[0] == "outstanding"
    assert "On Mon, 2 Nov 2026 at 09:00, QA Audits <qa-audits@wexcombe.example> wrote:" in mail.text
    assert in_order(html_to_text(mail.html), "outstanding", "wrote:", "> Dear Owen,", "> Grade: Good")


def test_apple_mail_quoted_printable_soft_breaks_are_joined():
    mail = parse("apple_mail_submission.eml")
    assert mail.header("x-mailer") == "Apple Mail (2.3774.600.62)"
    assert mail.text.startswith("Grade: Inadequate\n")
    assert "the safety plan lapsed last month" in mail.text
    assert in_order(html_to_text(mail.html), "Grade: Inadequate",
                    "> On 2 Nov 2026, at 09:00, QA Audits <qa-audits@wexcombe.example> wrote:")


def test_outlook_mobile_reply_keeps_its_signature_and_quoted_header():
    mail = parse("outlook_mobile_reply.eml")
    assert mail.text.splitlines()[0] == "Good"
    assert in_order(mail.text, "Get Outlook for iOS<https://aka.ms/o0ukef>", "________________________________",
                    "Sent: Monday, November 2, 2026 9:00:00 AM")


def test_out_of_office_keeps_the_headers_that_mark_it_automatic():
    mail = parse("exchange_out_of_office.eml")
    assert mail.subject.startswith("Automatic reply: [AUD-2026-11-004]")
    assert mail.headers["auto-submitted"] == ("auto-replied",)
    assert mail.header("X-Auto-Response-Suppress") == "All"
    assert mail.header("x-ms-exchange-inbox-rules-loop") == "ben.hartley@wexcombe.example"
    assert mail.in_reply_to == ("20261102090000.a00000012345.qa@wexcombe.example",)


def test_delivery_failure_report_is_recognisable():
    mail = parse("dsn_bounce.eml")
    assert mail.content_type == "multipart/report"
    assert mail.from_addr == "mailer-daemon@mx.wexcombe.example"
    assert "550 5.1.1" in mail.text and mail.attachments == ()


def test_html_only_message_becomes_clean_text():
    mail = parse("html_only.eml")
    assert mail.content_type == "text/html" and mail.html is not None
    assert "Grade: Good" in mail.text.splitlines()
    assert "Tel: 01632 960731" in mail.text
    for leftover in ("<", ">", "&nbsp;", "\xa0", "font-family"):
        assert leftover not in mail.text


def test_windows_1252_subject_and_body_are_decoded():
    mail = parse("windows_1252.eml")
    assert mail.from_name == "Owen Tranter"
    assert mail.subject == "[AUD-2026-11-009] Audit complete – “Requires improvement” – résumé of findings"
    assert mail.text.startswith("Grade: Requires improvement to be good\n")
    for decoded in ("Résumé", "social worker’s", "“plan”", "£250", "Team Manager – Safeguarding"):
        assert decoded in mail.text


def test_attachment_is_described_by_its_decoded_bytes():
    raw = (DATA / "with_attachment.eml").read_bytes()
    name = "AUD-2026-11-011 audit tool.docx"
    expected = next(p for p in message_from_bytes(raw, policy=policy.default).walk()
                    if p.get_filename() == name).get_payload(decode=True)
    mail = parse_message(raw, RECEIVED)
    docx = next(a for a in mail.attachments if a.filename == name)
    assert docx.content_type == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert (docx.size, docx.sha256) == (len(expected), hashlib.sha256(expected).hexdigest())
    assert expected.startswith(b"PK")
    assert [a.filename for a in mail.attachments] == ["image001.png", name]
    assert mail.cc == ("marcus.ellery@wexcombe.example",)
    assert "Grade: Good" in mail.text.splitlines()


def test_message_from_outside_the_council_parses_normally():
    mail = parse("outsider.eml")
    assert (mail.from_addr, mail.from_name) == ("j.bloggs@mailprovider.example", "Joe Bloggs")
    assert mail.to == ("qa-audits@wexcombe.example",)


def test_message_without_id_gets_a_stable_key_from_its_bytes():
    raw = (DATA / "no_message_id.eml").read_bytes()
    mail = parse_message(raw, RECEIVED)
    assert mail.message_id is None and mail.date_header is None
    assert mail.key == "sha256:" + hashlib.sha256(raw).hexdigest()
    assert parse_message(raw, RECEIVED).key == mail.key
    assert parse_message(raw + b"\n", RECEIVED).key != mail.key
    assert mail.subject == "question about my audit"


@pytest.mark.parametrize("raw", [
    (DATA / "malformed.eml").read_bytes(),
    b"",
    b"\r\n\r\n",
    b"just some words, no headers at all\n\nGrade: Good\n",
    b"To: qa-audits@wexcombe.example\nFrom: not an address\n\nGrade: Good\n",
])
def test_unreadable_messages_are_rejected_with_a_reason(raw):
    with pytest.raises(MalformedMessage) as caught:
        parse_message(raw, RECEIVED)
    assert caught.value.message
    assert "Grade" not in caught.value.message


def test_odd_but_real_headers_and_charsets_are_read():
    raw = ("From: =?utf-8?q?Ramsden=2C_Priya?= <Priya.Ramsden@Wexcombe.example>\n"
           "To: Undisclosed recipients:;\n"
           "Cc: Fiona Blackwood <fiona.blackwood@wexcombe.example>,\n"
           "  \"Ellery, Marcus\" <MARCUS.ELLERY@wexcombe.example>\n"
           "Subject: a folded\n   subject\n"
           "Content-Type: text/plain; charset=x-unknown\n\n").encode() + "caf\u00e9 \u2013 ok\r\n".encode("cp1252")
    mail = parse_message(raw, RECEIVED)
    assert (mail.from_name, mail.from_addr) == ("Ramsden, Priya", "priya.ramsden@wexcombe.example")
    assert mail.to == ()
    assert mail.cc == ("fiona.blackwood@wexcombe.example", "marcus.ellery@wexcombe.example")
    assert mail.subject == "a folded subject"
    assert mail.text == "café – ok\n"


def test_utf8_body_that_claims_to_be_ascii_is_still_read():
    raw = b"From: a@wexcombe.example\nContent-Type: text/plain; charset=us-ascii\n\n" + "Grade: Good – £".encode()
    assert parse_message(raw, RECEIVED).text == "Grade: Good – £"


def test_html_blockquotes_are_prefixed_per_level():
    html = "<p>Grade: Good</p><blockquote>first<blockquote>second</blockquote>back</blockquote>"
    assert html_to_text(html) == "Grade: Good\n> first\n> > second\n> back"


def test_html_outlook_conditional_comments_styles_and_head_are_dropped():
    html = ("<html><head><title>t</title><style><!-- p {color:red} --></style></head><body>"
            "<!--[if gte mso 9]><xml><o:shapedefaults v:ext='edit'/></xml><![endif]-->"
            "<p class=MsoNormal>Grade: Good<o:p></o:p></p><script>alert(1)</script></body></html>")
    assert html_to_text(html) == "Grade: Good"


def test_html_entities_lists_rules_and_tables():
    html = ("<div>Fish&nbsp;&amp;&nbsp;chips &lt;ok&gt;</div><ul><li>one</li><li><p>two</p></li></ul>"
            "<hr><table><tr><td>Tel:</td><td>01632 960731</td></tr></table>")
    assert html_to_text(html) == ("Fish & chips <ok>\n- one\n- two\n"
                                  "________________________________\nTel: 01632 960731")


def test_html_blank_paragraphs_collapse_to_one_blank_line():
    html = "<p>Grade: Good</p>" + "<p>&nbsp;</p>" * 4 + "<p>Kind regards&nbsp;&nbsp;</p>"
    assert html_to_text(html) == "Grade: Good\n\nKind regards"
