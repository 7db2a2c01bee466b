"""The exemption rules on their own: where a reason fits the letter, which months, when it was asked."""
from datetime import datetime, timezone

import pytest

from inbox.intent import Intent
from workflows import exemptions
from workflows.exemptions import State


@pytest.mark.parametrize("reason, category, outside", [
    ("I have been signed off sick for six weeks", "absence", False),
    ("I am on maternity leave from the 14th", "absence", False),
    ("I am doing the multi-agency audit for the safeguarding partnership", "other_qa", False),
    ("I am giving evidence at a final court hearing", "statutory", False),
    ("I have a lot on this month", "other", True),
])
def test_a_reason_is_placed_against_the_letters_examples(reason, category, outside):
    got, _, flagged = exemptions.place_reason(reason)
    assert (got, flagged) == (category, outside)


@pytest.mark.parametrize("text, months", [
    ("off sick this month", ["2026-12"]),
    ("off sick until the end of February", ["2026-12", "2027-01", "2027-02"]),
    ("for December and January", ["2026-12", "2027-01"]),
    ("I had surgery in November and need more time", ["2026-12"]),   # a past month is not covered
    ("signed off until 15 January", ["2026-12", "2027-01"]),
    ("I may need surgery", ["2026-12"]),                               # "may" the verb, not the month
    ("off sick until May", ["2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"]),
])
def test_the_months_a_request_covers(text, months):
    assert exemptions.months_named(text, "2026-12") == months


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


def test_a_request_made_in_november_for_december_covers_december_only():
    assert exemptions.months_named("throughout December", "2026-11") == ["2026-12"]
    # Judged against December, it is not a last-week-of-November request.
    assert exemptions.timing(utc(2026, 11, 26, 10, 0), "2026-12", None) == "before-issue"


def test_when_a_request_was_made_relative_to_the_issue_and_the_last_week():
    issued = utc(2026, 12, 1, 8, 30).isoformat()
    assert exemptions.timing(utc(2026, 11, 30, 12, 0), "2026-12", None) == "before-issue"
    assert exemptions.timing(utc(2026, 12, 1, 8, 0), "2026-12", issued) == "before-issue"
    assert exemptions.timing(utc(2026, 12, 10, 9, 0), "2026-12", issued) == "after-issue"
    assert exemptions.timing(utc(2026, 12, 24, 23, 59), "2026-12", issued) == "after-issue"
    assert exemptions.timing(utc(2026, 12, 25, 0, 0), "2026-12", issued) == "last-week"


def test_the_states_move_only_on_a_clear_answer_while_waiting():
    assert exemptions.decide(State.AWAITING_HOS, Intent.YES) is State.AWAITING_DIRECTOR
    assert exemptions.decide(State.AWAITING_HOS, Intent.NO) is State.DECLINED
    assert exemptions.decide(State.AWAITING_DIRECTOR, Intent.YES) is State.APPROVED
    assert exemptions.decide(State.AWAITING_DIRECTOR, Intent.NO) is State.REJECTED
    for state in (State.APPROVED, State.REJECTED, State.DECLINED):
        with pytest.raises(ValueError):
            exemptions.decide(state, Intent.YES)
    with pytest.raises(ValueError):
        exemptions.decide(State.AWAITING_HOS, Intent.UNCLEAR)
