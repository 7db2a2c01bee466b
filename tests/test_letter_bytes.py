"""Letters written as bytes read exactly as the letters the email package built.

No letter is built through EmailMessage any more (mailer/letter_bytes.py, mailer/letter_parts.py).
For any names, subjects, recipients, threads, bodies and attachments, a mail client opening the new
bytes must see what it saw in the old path's: the same headers, decoded; the same parts; the same
text and HTML; the same files, with the same names, types and contents.
"""
from __future__ import annotations

import binascii
import email
from datetime import datetime, timezone
from email import policy
from email.utils import formataddr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import DATA, MAILBOX
from letters import NOW
from mailer.letter_bytes import composed_letter
from mailer.letter_parts import quoted_printable
from core.letter import OutgoingAttachment
from mailer.letter_message import letter_message

EXCHANGE_ID = "<AM0PR03MB5012D4F6B1C2E7A93B8F1E2DC4A9B@AM0PR03MB5012.eurprd03.prod.wexcombe.example>"
BEFORE = DATA / "letters" / "unclear_as_composed_before.eml"

# Text as people and templates write it: accents, curly quotes, brackets, "=", encoded-word look-alikes,
# runs of spaces, tabs, stray control characters, and now and then a character from outside Latin-1.
WORDS = st.sampled_from(["Aisha", "Patel", "Zoë", "Brontë", "O'Neill", "Ellery,", "(QA)", "<b>", '"quoted"',
                         "[AUD-2026-11-004]", "Re:", "=?utf-8?q?Zo=C3=AB?=", "==", "—", "’", "café", "€5",
                         "日本", "\U0001f600", "a" * 80, "x", ";", "\\", "  ", "\t", "\x00", "\x1b[31m"])
PHRASES = st.lists(WORDS, min_size=1, max_size=12).map(" ".join)
ADDRESSES = st.builds("{}@{}".format, st.from_regex(r"[a-z][a-z0-9._+-]{0,30}", fullmatch=True),
                      st.sampled_from(["wexcombe.example", "mail.wexcombe.example", "outlook.example"]))
RECIPIENTS = st.one_of(
    ADDRESSES,
    st.builds(lambda name, address: formataddr((name, address)), PHRASES, ADDRESSES),
    st.builds("{} <{}>".format, st.sampled_from(["Aisha Patel", "Marcus Ellery", "Zoë Brontë"]), ADDRESSES),
)
MESSAGE_IDS = st.one_of(
    st.sampled_from([EXCHANGE_ID, "<root@outlook.example>", "abc@mail.wexcombe.example", "<not an id>", "x" * 300]),
    st.builds("<{}@{}>".format, st.from_regex(r"[A-Za-z0-9.$_-]{1,120}", fullmatch=True), ADDRESSES),
)
LINES = st.one_of(PHRASES, st.sampled_from(["", ".", "From here", "--=20", "-- ", "trailing space ", "tab\t",
                                             "--===============123==", "=", "=3D", "\u2028", "\x85"]),
                  st.text(max_size=300), st.builds(lambda n: "long line " * n, st.integers(10, 150)))
BODIES = st.builds(lambda lines, end: end.join(lines), st.lists(LINES, max_size=30),
                   st.sampled_from(["\n", "\r\n", "\r"]))
# Files as the service sends them (the allocation's .ics, the report's charts and spreadsheet) and as
# people name them: spaces, accents, quotes, semicolons, very long names; contents that look like MIME.
FILENAMES = st.one_of(
    st.sampled_from(["audit-deadline.ics", "trend.png", "qa-report-2026-11.xlsx", "figures.csv", "Zoë’s notes.pdf",
                     'the "final" list; v2.csv', "日本.txt", "a b\\c.bin", "x" * 120 + ".csv", "ümlaut" * 30 + ".ics"]),
    st.from_regex(r"[A-Za-z0-9._-]([A-Za-z0-9 ._-]{0,58}[A-Za-z0-9._-])?", fullmatch=True))
CONTENT_TYPES = st.sampled_from(["text/calendar; method=PUBLISH", "text/csv", "image/png", "application/pdf",
                                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                                 "application/octet-stream", "text/plain; charset=utf-8"])
CONTENTS = st.one_of(st.binary(max_size=3000), st.builds(lambda n: bytes(range(256)) * n, st.integers(1, 300)),
                     st.sampled_from([b"", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
                     b"--===============0000000000000000001==\n", b"=" * 200, b"\x89PNG\r\n\x1a\n" + bytes(500)]))
FILES = st.builds(OutgoingAttachment, FILENAMES, CONTENT_TYPES, CONTENTS)
IMAGES = st.builds(OutgoingAttachment, FILENAMES, st.just("image/png"), CONTENTS,
                   st.sampled_from(["trend-2026-11@wexcombe.example", "<mix-2026-11@wexcombe.example>"]))
ATTACHMENTS = st.lists(st.one_of(FILES, IMAGES), max_size=4)


def headers(to, cc, subject, in_reply_to, references) -> list[tuple[str, str]]:
    """The headers the Composer writes for a letter, from generated values."""
    from conftest import LETTERHEAD
    from core.letterhead import Letterhead
    from mailer.compose import Composer
    composer = Composer(Letterhead(**LETTERHEAD), MAILBOX, mailbox_name="QA Audits — Wexcombe")
    return composer.headers(to=to, cc=cc, subject=subject, now=NOW, in_reply_to=in_reply_to, references=references)


def read(raw: bytes):
    """The message as a client reads it."""
    return email.message_from_bytes(raw, policy=policy.default)


def decoded(message, name: str, raw: str) -> str:
    """A header as a client decodes it. The stdlib cannot read back some names it folded itself (one
    with ":" and ";" and a non-ASCII letter reads as a broken group); the same failure counts as the same."""
    try:
        return str(message.policy.header_fetch_parse(name, raw))
    except Exception as exc:  # noqa: BLE001
        return f"unreadable ({type(exc).__name__})"


def seen(message) -> dict:
    """Everything a reader sees: headers (decoded, boundary aside), parts, their headers, their text."""
    top = [(name, decoded(message, name, raw)) for name, raw in message.raw_items() if name != "Content-Type"]
    parts = [(part.get_content_type(), part.get_content_charset(), part.get("Content-Transfer-Encoding"),
              part.get_content_disposition(), part.get_filename(), part.get("Content-ID"),
              [(name, value) for name, value in part.get_params() or [] if name != "boundary"],
              None if part.is_multipart() else part.get_payload(decode=True)) for part in message.walk()]
    # The old path also wrote "MIME-Version: 1.0" into the HTML part, where no reader looks at it.
    part_headers = [sorted(name for name in part.keys() if name != "MIME-Version") for part in message.walk()]
    return {"headers": top, "type": message.get_content_type(), "parts": parts, "part headers": part_headers,
            "text": message.get_body(("plain",)).get_content(), "html": message.get_body(("html",)).get_content()}


@settings(max_examples=500, deadline=None)
@given(text=BODIES)
def test_a_body_is_encoded_line_by_line_exactly_as_binascii_encodes_it_whole(text):
    whole = text.encode("utf-8").splitlines()
    assert quoted_printable(text) == binascii.b2a_qp(b"\n".join(whole) + b"\n", quotetabs=False, istext=True)
    assert quoted_printable(text) == quoted_printable(text), "the same again, from the lines kept"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(to=st.lists(RECIPIENTS, min_size=1, max_size=4), cc=st.lists(RECIPIENTS, max_size=3), subject=PHRASES,
       in_reply_to=st.none() | MESSAGE_IDS, references=st.lists(MESSAGE_IDS, max_size=12), text=BODIES, html=BODIES)
def test_the_bytes_read_as_the_email_package_wrote_them(to, cc, subject, in_reply_to, references, text, html):
    letter_headers = headers(to, cc, subject, in_reply_to, references)
    old = read(letter_message(letter_headers, text, html).as_bytes())
    letter = composed_letter(letter_headers, text, html)
    new = read(letter.as_bytes())
    assert seen(new) == seen(old)
    assert all(not part.defects for part in new.walk())
    assert letter.message_id == new["Message-ID"] == dict(letter_headers)["Message-ID"]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(to=st.lists(RECIPIENTS, min_size=1, max_size=2), subject=PHRASES, in_reply_to=st.none() | MESSAGE_IDS,
       text=BODIES, html=BODIES, attachments=ATTACHMENTS)
def test_a_letter_with_files_reads_as_the_email_package_wrote_it(to, subject, in_reply_to, text, html, attachments):
    letter_headers = headers(to, [], subject, in_reply_to, [])
    old = read(letter_message(letter_headers, text, html, attachments).as_bytes())
    raw = composed_letter(letter_headers, text, html, attachments).as_bytes()
    new = read(raw)
    assert seen(new) == seen(old)
    assert all(not part.defects for part in new.walk())
    files = [part for part in new.walk() if part.get("Content-Transfer-Encoding") == "base64"]
    assert [part.get_filename() for part in files] == [a.filename for a in attachments if a.inline_id] + [
        a.filename for a in attachments if not a.inline_id]
    for part in files:
        # Base64 in lines of at most 76 characters (RFC 2045 6.8), whatever the old path did.
        assert all(len(line) <= 76 for line in part.get_payload().splitlines())
    assert max(len(line) for line in raw.split(b"\n")) <= 998 and b"\r" not in raw


@given(to=st.lists(RECIPIENTS, min_size=1, max_size=2), breaking=st.sampled_from(["\n", "\r", "\r\n"]),
       where=st.sampled_from(["to", "cc"]))
def test_a_recipient_with_a_line_break_is_refused_as_before(to, breaking, where):
    hostile = f"{to[0]}{breaking}Bcc: everyone@outlook.example"
    to, cc = ([hostile], []) if where == "to" else (to, [hostile])
    letter_headers = [("Message-ID", "<1@wexcombe.example>"), ("To", ", ".join(to)), ("Cc", ", ".join(cc))]
    with pytest.raises(ValueError):
        letter_message(letter_headers, "text", "<p>html</p>")
    with pytest.raises(ValueError):
        composed_letter(letter_headers, "text", "<p>html</p>")


# --- the letter as a file: what a mail server and Outlook are handed --------------------------------

def compose_the_letter_of_before(composer):
    """The letter tests/data/letters/unclear_as_composed_before.eml holds, composed today."""
    subject = "Aisha\u2019s audit \u2014 [AUD-2026-11-004] = done?"
    return composer.letter(
        "intake/unclear", to=["Aisha Patel <aisha.patel@wexcombe.example>"],
        cc=['"Ellery, Marcus" <marcus.ellery@wexcombe.example>'], subject=f"Re: {subject}",
        context=dict(person_name="Aisha Patel", subject=subject, problems=["no line starting Grade: was found"],
                     received_at=datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc), mailbox_address=MAILBOX,
                     example_reference="AUD-2026-11-004"),
        now=datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc),
        in_reply_to=EXCHANGE_ID, references=["<root.1@mail.wexcombe.example>", EXCHANGE_ID])


def test_a_letter_reads_as_the_same_letter_composed_before_the_change(composer):
    before, now = read(BEFORE.read_bytes()), read(compose_the_letter_of_before(composer).as_bytes())
    assert now["Message-ID"] != before["Message-ID"]  # each letter has its own; everything else is the same
    del now["Message-ID"], before["Message-ID"]
    assert seen(now) == seen(before)


def test_the_file_keeps_to_the_line_rules(composer):
    raw = compose_the_letter_of_before(composer).as_bytes()
    head, body = raw.split(b"\n\n", 1)
    assert b"\r" not in raw and raw.endswith(b"--\n")  # "\n" throughout, as the email package wrote it
    assert max(len(line) for line in raw.split(b"\n")) <= 998
    assert max(len(line) for line in body.split(b"\n")) <= 76  # quoted-printable's own limit (RFC 2045)
    lines = head.decode("ascii").split("\n")
    for name in ("In-Reply-To", "References", "Message-ID"):
        line, = [line for line in lines if line.startswith(f"{name}: ")]
        assert "=?" not in line and EXCHANGE_ID in line or name == "Message-ID"
    assert [line.split(":")[0] for line in lines if not line.startswith(" ")] == [
        "From", "To", "Cc", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "MIME-Version",
        "Auto-Submitted", "X-Auto-Response-Suppress", "Content-Type", "Content-Language"]
    assert any(line.startswith("Subject: Re: =?utf-8?") for line in lines)  # RFC 2047 for the curly quote


def test_the_letter_answers_as_the_email_message_did(composer):
    letter = compose_the_letter_of_before(composer)
    assert letter["Message-ID"] == letter.message_id and letter.message_id.endswith("@wexcombe.example>")
    assert letter["In-Reply-To"] == EXCHANGE_ID
    assert letter["Subject"] == "Re: Aisha\u2019s audit \u2014 [AUD-2026-11-004] = done?"
    assert letter.get_content_type() == "multipart/alternative"
    assert "Dear Aisha Patel" in letter.get_body(("plain",)).get_content()
    assert letter.get("Precedence") is None and "Auto-Submitted" in letter and bytes(letter) == letter.as_bytes()
    # Written out again by a caller, the long Exchange id stays whole, as the EmailMessage kept it.
    assert f"In-Reply-To: {EXCHANGE_ID}\n".encode() in letter.message.as_bytes()
