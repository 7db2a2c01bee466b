"""Our own letters, quoted back to us, never speak for the person replying.

For every letter the service sends, quoted under any header style a real client writes (or none
at all), with or without ">", below any fresh text: the grades, remedial flags and decisions read
from the reply are exactly those read from the fresh text alone.
"""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from inbox.classify import references_in
from inbox.html_text import html_to_text
from inbox.intent import read_capacity, read_decision, with_remarks
from inbox.reply import newest_text, remarks
from conftest import MAILBOX
from letters import LETTERHEAD, NOW
from mailer.compose import Composer
from core.letterhead import Letterhead
from quoting import HEADER_STYLES, NO_HEADER, quote, reply
from test_cycle_letters import contexts as cycle_contexts
from test_request_letters import contexts as request_contexts
from workflows.grades import read_submission

TODAY = date(2026, 12, 20)
STYLES = [*HEADER_STYLES, NO_HEADER]
INTAKE = {
    "intake/unclear": dict(person_name="Sam", subject="audit done", problems=["no grade was found"],
                           received_at=NOW, mailbox_address="qa-audits@wexcombe.example",
                           example_reference="AUD-2026-12-001"),
    "intake/passed_on": dict(person_name="Sam", what="exemption", received_at=NOW, references=["AUD-2026-12-001"]),
    "intake/too_large": dict(person_name="Sam", subject="audit done", received_at=NOW, size_mb="31.4", limit_mb=25,
                             attach_mb="24", mailbox_address="qa-audits@wexcombe.example"),
    "doctor/test_message": dict(mailbox_address="qa-audits@wexcombe.example"),
}
# What people type above a quote: nothing, thanks, pointers, and now and then a real answer.
FRESH_LINES = [
    "", "Thanks", "Thanks, see attached", "See below.", "Hi Priya,", "Kind regards\nSam", "Sent from my iPhone",
    "Approved", "Not supported", "Happy to support - she is in court all week.", "Yes, by 7 January 2027",
    "No capacity this month", "Grade: Good", "AUD-2026-12-002 Grade: Inadequate", "Requires improvement",
    "Remedial action: yes - a strategy meeting is needed", "Remedial action: no", "I can't approve this",
]


def all_letters(composer) -> dict[str, tuple[str, str]]:
    """Every template's letter as its text part and as a client renders its HTML part to text."""
    named = {**{f"cycle/{n}": c for n, c in cycle_contexts().items()}, **request_contexts(), **INTAKE}
    letters = {}
    for name, context in named.items():
        text, html = composer.render(name, context, now=NOW)
        letters[name] = (text, html_to_text(html))
    return letters


def reading(body: str) -> tuple:
    """Everything the service reads from a reply body: grades, remedial flags, decision, capacity."""
    fresh, among = newest_text(body), remarks(body)
    submission = read_submission("\n".join(t for t in (fresh, among) if t), REFS)
    decision = with_remarks(read_decision(fresh), among)
    capacity = with_remarks(read_capacity(fresh, TODAY)[0], among, capacity=True)
    return submission.grades, submission.remedial, decision.intent, capacity.intent


# Every audit reference any letter names is taken to be in the reply's thread: the worst case.
REFS = ["AUD-2026-12-001", "AUD-2026-12-002", "AUD-2026-12-009"]


@pytest.fixture(scope="module")
def letters() -> dict[str, tuple[str, str]]:
    return all_letters(Composer(Letterhead(**LETTERHEAD), MAILBOX))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_quoted_letter_never_adds_a_grade_a_remedial_flag_or_a_decision(letters, data):
    name = data.draw(st.sampled_from(sorted(letters)), label="letter")
    part = data.draw(st.sampled_from([0, 1]), label="text or html part")
    style = data.draw(st.sampled_from(STYLES), label="header style")
    prefixed = data.draw(st.booleans(), label="prefixed with >")
    fresh = "\n".join(data.draw(st.lists(st.sampled_from(FRESH_LINES), max_size=3), label="fresh text"))
    letter = letters[name][part]
    assert reading(reply(fresh, letter, style, prefixed)) == reading(fresh)


@pytest.mark.parametrize("style", sorted(HEADER_STYLES))
def test_every_header_style_cuts_exactly_where_the_history_begins(letters, style):
    letter = letters["cycle/allocation"][0]
    for prefixed in (False, True):
        assert newest_text(reply("Thanks, see attached", letter, style, prefixed)) == "Thanks, see attached"


def test_every_letter_quoted_with_no_header_is_still_known_as_ours(letters):
    # The letterhead's own lines mark the copy: nothing of the letter's body is the sender's text.
    for name, (text, html_text) in letters.items():
        for letter in (text, html_text):
            fresh = newest_text(reply("Thanks", letter, NO_HEADER, False))
            assert "Dear" not in fresh and "Yours sincerely" not in fresh, name
            assert not references_in(fresh), name


def test_the_allocation_letters_examples_are_never_grades(letters):
    # "Thanks, see attached" under a Zoho header once recorded two grades from the letter's examples.
    text = letters["cycle/allocation"][0]
    assert "Grade: Good" in text and "Remedial action: yes" in text
    read = read_submission(newest_text(reply("Thanks, see attached", text, "zoho", False)), REFS)
    assert (read.grades, read.remedial) == ({}, {})


def test_the_receipts_remedial_sentence_is_never_a_remedial_flag(letters):
    text = letters["cycle/receipt"][0]
    assert "remedial action" in text.lower()
    read = read_submission(newest_text(reply("Thanks", text, "no-colon", False)), REFS)
    assert read.remedial == {}


def test_a_thank_you_above_an_exemption_request_decides_nothing(letters):
    text = letters["exemption/to_director"][0]
    assert "Approve" in text
    for style in STYLES:
        assert read_decision(newest_text(reply("Thanks", text, style, False))).intent.value == "unclear", style


def test_quote_helper_prefixes_every_line():
    assert quote("a\n\nb", "gmail", True).endswith("> a\n>\n> b")
