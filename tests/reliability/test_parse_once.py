"""Reading each header of a message once (inbox/parse_policy.py) changes nothing parse_message returns.

Every sample in tests/data and every message the MIME fuzzer builds (well formed, broken, hostile) is
parsed twice: with the per-message header cache, and with the plain policy that reparsed a header at
every read. The two ParsedMails must be equal, or both parses must fail with the same reason.
"""
from contextlib import contextmanager

import pytest
from hypothesis import given

import inbox.parse
from conftest import DATA, utc
from core.errors import MalformedMessage
from core.mail_policy import MAIL_POLICY
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
