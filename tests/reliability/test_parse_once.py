"""Reading headers faster changes nothing parse_message returns.

Each header of a message is parsed once (inbox/parse_policy.py): every sample in tests/data and every
message the MIME fuzzer builds (well formed, broken, hostile) is parsed twice, with the per-message
header cache and with the plain policy that reparsed a header at every read; the two ParsedMails must
be equal, or both parses must fail with the same reason. A value the header parsers would give back
unchanged is taken as it is (inbox/header_values.py): for any header and value, the same text.
"""
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import inbox.parse
from conftest import DATA, utc
from core.errors import MalformedMessage
from core.mail_policy import MAIL_POLICY
from inbox.header_values import FOLD, decode_value, parse_and_decode, undo_surrogates
from inbox.parse_policy import for_one_message
from test_fuzz_mime import FUZZ, any_message

RECEIVED = utc(2026, 12, 10, 9, 0)


@contextmanager
def reading_every_header_afresh():
    """parse_message as it was: the shared policy, no cache."""
    inbox.parse.for_one_message = lambda: MAIL_POLICY
    try:
        yield
    finally:
        inbox.parse.for_one_message = for_one_message


def outcome(raw: bytes):
    """What parse_message makes of `raw`: the ParsedMail, or the reason it was refused."""
    try:
        return inbox.parse.parse_message(raw, RECEIVED)
    except MalformedMessage as exc:
        return ("refused", exc.message)


def both_ways(raw: bytes) -> tuple:
    cached = outcome(raw)
    with reading_every_header_afresh():
        afresh = outcome(raw)
    return cached, afresh


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.eml")))
def test_every_sample_parses_the_same_reading_each_header_once(name):
    cached, afresh = both_ways((DATA / name).read_bytes())
    assert cached == afresh


@FUZZ
@given(any_message)
def test_any_message_parses_the_same_reading_each_header_once(raw):
    cached, afresh = both_ways(raw)
    assert cached == afresh


def test_each_message_has_a_cache_of_its_own_that_goes_with_it():
    first, second = for_one_message(), for_one_message()
    assert first.read_headers == {} and first.read_headers is not second.read_headers
    raw = (DATA / "gmail_submission.eml").read_bytes()
    from email.parser import BytesParser
    message = BytesParser(policy=first).parsebytes(raw)
    assert message.get_content_type() == message.get_content_type()
    assert len(first.read_headers) >= 1 and second.read_headers == {}


# Names the service reads, structured and not, and values around the edges of "plain": encoded-word
# look-alikes, quotes, comments, brackets, tabs, folds, 8-bit bytes, and ids of every shape.
NAMES = st.sampled_from(["Subject", "References", "In-Reply-To", "Message-ID", "Auto-Submitted", "Precedence",
                         "X-Auto-Response-Suppress", "List-Id", "Thread-Topic", "Date", "From", "To", "Cc",
                         "Reply-To", "Content-Type", "MIME-Version", "X-Unknown"])
PIECES = st.sampled_from(["Re:", "[AUD-2026-12-001]", "<a.b@mail.wexcombe.example>", "<a@b>", "<a@b", "a@b>",
                          "<@>", "<a@@b>", "<.a..b.@c.>", "=?utf-8?q?Zo=C3=AB?=", "=?", "?=", "=", '"', '"quoted"',
                          "(comment)", "(", ")", "\\", " ", "  ", "\t", "\r\n ", "\n\t", ",", ";", ":", "Zoë",
                          "\udce9", "\x00", "Grade: Good", "auto-replied", "bulk", "1.0", "text/plain"])
VALUES = st.one_of(st.lists(PIECES, max_size=8).map("".join), st.text(max_size=40),
                   st.from_regex(r"<[!-;=?-~]{1,30}@[!-;=?-~]{1,30}>", fullmatch=True))


@settings(max_examples=2000, deadline=None)
@given(NAMES, VALUES)
def test_a_value_taken_as_it_is_reads_as_the_header_parsers_read_it(name, raw):
    assert decode_value(name, raw) == parse_and_decode(name, FOLD.sub("", undo_surrogates(raw)))
