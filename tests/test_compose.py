"""Composing letters: what a colleague opening the email in Outlook, or in a text-only client, would see."""

from __future__ import annotations

import email
from datetime import date, datetime, timezone
from email.policy import default
from zoneinfo import ZoneInfo

import jinja2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import MAILBOX
from core.letter import OutgoingAttachment
from mailer.compose import Composer, reply_subject
from mailer.dates import deadline_words, london, long_date, long_weekday_date

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=ZoneInfo("Europe/London"))
PROBLEMS = [
    "no audit reference in square brackets was found",
    "no line starting Grade: was found",
]


def unclear_context(**overrides) -> dict:
    context = dict(
        person_name="Sam Okafor",
        subject="audit done",
        problems=PROBLEMS,
        received_at=datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc),
        mailbox_address=MAILBOX,
        example_reference="AUD-2026-11-004",
    )
    return {**context, **overrides}


def send_unclear(composer: Composer, **kwargs):
    """Compose the 'could not understand your email' answer and read it back as a client would."""
    msg = composer.letter(
        "intake/unclear", to=["Sam Okafor <sam.okafor@wexcombe.example>"],
        subject=reply_subject("audit done"), context=kwargs.pop("context", unclear_context()),
        now=NOW, **kwargs,
    )
    return email.message_from_bytes(msg.as_bytes(), policy=default)


def parts(received) -> tuple[str, str]:
    return received.get_body(("plain",)).get_content(), received.get_body(("html",)).get_content()


# --- dates in the letter's style ---------------------------------------------------------------

@pytest.mark.parametrize("day, words", [
    (1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"),
    (21, "21st"), (22, "22nd"), (23, "23rd"), (31, "31st"),
])
def test_long_date_uses_english_ordinals(day, words):
    assert long_date(date(2026, 12, day)) == f"{words} December 2026"


def test_long_date_matches_the_seed_letter():
    assert long_date(date(2021, 5, 11)) == "11th May 2021"
    assert long_weekday_date(date(2026, 12, 31)) == "Thursday 31st December 2026"


def test_an_aware_datetime_is_dated_in_london():
    # 23:30 UTC on 30th June is already 1st July in London (BST).
    assert long_date(datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc)) == "1st July 2026"


@pytest.mark.parametrize("instant, words", [
    (datetime(2026, 3, 31, 22, 59, 59, tzinfo=timezone.utc), "23:59 on Tuesday 31st March 2026"),
    (datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc), "23:59 on Thursday 31st December 2026"),
    (datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), "01:30 on Sunday 25th October 2026"),
    (datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), "01:30 on Sunday 25th October 2026"),
])
def test_deadline_words_follow_bst_and_gmt(instant, words):
    assert deadline_words(instant) == words


def test_the_same_instant_reads_the_same_however_it_was_given_and_a_naive_one_is_still_refused():
    """Dates are written once per instant and kept (a run writes one deadline in every letter)."""
    utc = datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc)
    in_london = utc.astimezone(ZoneInfo("Europe/London"))  # 01:30 BST, the first of the two 01:30s
    assert deadline_words(utc) == deadline_words(in_london) == "01:30 on Sunday 25th October 2026"
    assert deadline_words(in_london.replace(fold=1)) == "01:30 on Sunday 25th October 2026"  # 01:30 GMT
    assert long_date(date(2026, 10, 25)) == long_date(utc) == "25th October 2026"
    for naive in (datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 0, 30)):
        with pytest.raises(ValueError):
            deadline_words(naive)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        london(datetime(2026, 11, 30, 23, 59))
    with pytest.raises(ValueError):
        long_date(datetime(2026, 11, 30, 23, 59))


# --- the letter a colleague receives ------------------------------------------------------------

def test_both_parts_carry_the_letterhead_and_the_same_data(composer):
    text, html = parts(send_unclear(composer))
    # Prose may be wrapped differently in each part, so compare with whitespace collapsed.
    for part in (" ".join(text.split()), " ".join(html.split())):
        for value in ("Wexcombe County Council", "Imogen Thackeray", "County Hall", "WX1 4AB",
                      "01632 960 418", f"Email: {MAILBOX}", "Our Ref: IT/qa",
                      "Date: 2nd November 2026", "Dear Sam Okafor", "Yours sincerely",
                      "23:30 on Sunday 1st November 2026", MAILBOX,
                      "keep the reference in square brackets in the subject"):
            assert value in part
        assert "Children" in part and "Safeguarding and Care" in part  # apostrophe is escaped in HTML
    assert "Director of Children's Safeguarding" in text


def test_unclear_letter_lists_each_problem_and_explains_each_kind_of_email(composer):
    text, html = parts(send_unclear(composer))
    for problem in PROBLEMS:
        assert f"- {problem}" in text
        assert f">{problem}</li>" in html
    for part in (text, html):
        for advice in ("Grade: Good", "Requires improvement", "Inadequate", "Remedial action: yes",
                       "Exemption request", "Slippage", "Head of Service",
                       "has been told about your email and will help"):
            assert advice in part


def test_html_is_built_for_outlook(composer):
    _, html = parts(send_unclear(composer))
    lowered = html.lower()
    assert lowered.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in lowered
    for forbidden in ("<script", "<style", "<link", "<img", "class="):
        assert forbidden not in lowered
    assert "<table" in lowered and 'width="640"' in lowered and "Arial" in html


def test_text_prose_is_wrapped_but_data_is_not(composer):
    long_subject = "x" * 100
    text, _ = parts(send_unclear(composer, context=unclear_context(subject=long_subject)))
    assert f"Re: {long_subject}" in text
    prose = [line for line in text.splitlines() if long_subject not in line]
    assert max(len(line) for line in prose) <= 80


def test_values_are_escaped_in_html_and_verbatim_in_text(composer):
    received = send_unclear(composer, context=unclear_context(person_name="Sam <b>Okafor</b>"))
    text, html = parts(received)
    assert "Dear Sam <b>Okafor</b>" in text
    assert "Sam &lt;b&gt;Okafor&lt;/b&gt;" in html and "<b>Okafor" not in html


def test_a_missing_value_is_an_error_not_a_blank(composer):
    context = unclear_context()
    del context["problems"]
    with pytest.raises(jinja2.UndefinedError):
        composer.letter("intake/unclear", to=["a@wexcombe.example"], subject="s",
                        context=context, now=NOW)


def test_required_headers(composer):
    received = send_unclear(composer)
    assert received["From"] == f"QA Audits <{MAILBOX}>"
    assert received["Subject"] == "Re: audit done"
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["X-Auto-Response-Suppress"] == "All"
    assert received["Content-Language"] == "en-GB"
    assert received["MIME-Version"] == "1.0"
    assert received["Message-ID"].endswith("@wexcombe.example>")
    assert received["Date"].datetime == NOW
    assert received["Precedence"] is None and received["In-Reply-To"] is None
    assert received.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in received.iter_parts()] == ["text/plain", "text/html"]


def test_each_letter_has_its_own_message_id(composer):
    assert send_unclear(composer)["Message-ID"] != send_unclear(composer)["Message-ID"]


def test_a_reply_is_threaded(composer):
    received = send_unclear(composer, cc=["hos@wexcombe.example"], in_reply_to="abc@outlook.example",
                            references=["<root@outlook.example>", "<abc@outlook.example>"])
    assert received["In-Reply-To"] == "<abc@outlook.example>"
    assert received["References"] == "<root@outlook.example> <abc@outlook.example>"
    assert received["Cc"] == "hos@wexcombe.example"


def test_exchange_length_message_ids_stay_plain_so_outlook_threads_the_reply(composer):
    exchange_id = "<AM0PR03MB5012D4F6B1C2E7A93B8F1E2DC4A9B@AM0PR03MB5012.eurprd03.prod.wexcombe.example>"
    raw = composer.letter("intake/unclear", to=["a@wexcombe.example"], subject="s", context=unclear_context(),
                          now=NOW, in_reply_to=exchange_id, references=[exchange_id]).as_bytes()
    # Outlook and Exchange match the raw header text; an RFC 2047 encoded id matches nothing.
    headers = raw.replace(b"\r\n", b"\n").split(b"\n\n")[0].decode("ascii")
    assert f"In-Reply-To: {exchange_id}\n" in headers
    assert f"References: {exchange_id}\n" in headers


def test_an_ics_attachment_makes_the_message_mixed(composer):
    invite = OutgoingAttachment("moderation.ics", "text/calendar; method=PUBLISH",
                                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n")
    received = send_unclear(composer, attachments=[invite])
    assert received.get_content_type() == "multipart/mixed"
    body, attached = list(received.iter_parts())
    assert body.get_content_type() == "multipart/alternative"
    assert attached.get_filename() == "moderation.ics"
    assert attached.get_content_type() == "text/calendar"
    assert attached.get_param("method") == "PUBLISH"
    assert b"BEGIN:VCALENDAR" in attached.get_payload(decode=True)
    assert "Dear Sam Okafor" in parts(received)[0]


def test_a_subject_with_a_line_break_is_refused(composer):
    with pytest.raises(ValueError):
        composer.letter("intake/unclear", to=["a@wexcombe.example"], subject="one\nBcc: x@y",
                        context=unclear_context(), now=NOW)


@pytest.mark.parametrize("subject, expected", [
    ("Audit [AUD-2026-11-004]", "Re: Audit [AUD-2026-11-004]"),
    ("RE: Audit", "Re: Audit"),
    ("re: RE: Re: Audit", "Re: Audit"),
    ("AW: Audit", "Re: Audit"),
    ("sv: Audit", "Re: Audit"),
    ("Regrading", "Re: Regrading"),
])
def test_reply_subject(subject, expected):
    assert reply_subject(subject) == expected


# --- a sender's words in the context: cleaned as before, the clean ones untouched without a scan ---

@settings(max_examples=500, deadline=None)
@given(text=st.one_of(st.text(), st.text(st.sampled_from("ab é\n\t\r\x00\x1b\x7f\x85\x9f\u202e\u2066\u200f日")),
                      st.builds(lambda n: "x" * n, st.integers(3990, 4010))))
def test_a_context_value_is_cleaned_exactly_as_printable_cleans_it(text):
    from core.text import printable
    from mailer.compose import CONTEXT_VALUE_LIMIT, _quotable
    assert _quotable(text) == printable(text, CONTEXT_VALUE_LIMIT)
    assert _quotable({"a": [text, (text,)]}) == {"a": [printable(text, CONTEXT_VALUE_LIMIT),
                                                        (printable(text, CONTEXT_VALUE_LIMIT),)]}


@settings(max_examples=300, deadline=None)
@given(address=st.one_of(st.from_regex(r"[A-Za-z0-9._+@<>\" (),;:-]{1,40}", fullmatch=True),
                         st.from_regex(r"[A-Za-z0-9._+-]{1,20}@[A-Za-z0-9.-]{1,20}", fullmatch=True)))
def test_an_address_taken_as_it_is_is_one_the_email_package_reads_the_same(address):
    """A letter is to the Director by the addresses the email package reads; a bare one is taken without it."""
    from email.utils import getaddresses
    from mailer.compose import PLAIN_ADDRESS
    if PLAIN_ADDRESS.match(address):
        assert getaddresses([address]) == [("", address)]
