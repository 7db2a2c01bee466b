"""The calendar entry attached to allocation letters, read back by hand as a calendar client would."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailer.ics import _fold_by_octets, deadline_event, fold

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 3, 2, 9, 15, 30, tzinfo=LONDON)


def event(**overrides) -> bytes:
    args = dict(
        uid="deadline-2026-03@wexcombe.example",
        summary="QA audits due, March 2026",
        description="Audits AUD-2026-03-001; AUD-2026-03-002.\nReply to the allocation email.",
        deadline=datetime(2026, 3, 31, 22, 59, 59, 999999, tzinfo=timezone.utc),
        now=NOW,
        organiser="qa-audits@wexcombe.example",
    )
    return deadline_event(**{**args, **overrides})


def unfold(raw: bytes) -> list[str]:
    """Content lines: CRLF + one space or tab continues the previous line (RFC 5545 §3.1)."""
    text = raw.decode("utf-8")
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for ch in chars:
        if ch == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(ch)
    return "".join(out)


def props(raw: bytes) -> dict[str, list[str]]:
    """Property name (with parameters) -> every value, in order."""
    found: dict[str, list[str]] = {}
    for line in unfold(raw):
        name, _, value = line.partition(":")
        found.setdefault(name, []).append(value)
    return found


def test_structure_and_fixed_properties():
    lines = unfold(event())
    assert lines[:5] == ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//QA audit mailbox//EN",
                         "CALSCALE:GREGORIAN", "METHOD:PUBLISH"]
    assert lines[-1] == "END:VCALENDAR"
    begins = [line for line in lines if line.startswith("BEGIN:")]
    assert begins == ["BEGIN:VCALENDAR", "BEGIN:VEVENT", "BEGIN:VALARM"]
    p = props(event())
    assert p["UID"] == ["deadline-2026-03@wexcombe.example"]
    assert p["TRANSP"] == ["TRANSPARENT"]
    assert p["ACTION"] == ["DISPLAY"] and p["TRIGGER"] == ["-PT15H"]
    assert p["ORGANIZER"] == ["mailto:qa-audits@wexcombe.example"]


def test_all_day_on_the_london_date_of_the_deadline():
    # 22:59:59.999999 UTC on 31st March 2026 is the last instant of the day in London (BST).
    p = props(event())
    assert p["DTSTART;VALUE=DATE"] == ["20260331"]
    assert p["DTEND;VALUE=DATE"] == ["20260401"]


@pytest.mark.parametrize("deadline, day", [
    (datetime(2026, 12, 31, 23, 59, 59, tzinfo=LONDON), "20261231"),
    (datetime(2026, 10, 31, 23, 59, 59, tzinfo=timezone.utc), "20261031"),  # GMT again
    (datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), "20260701"),  # already July in London
])
def test_the_date_is_always_londons(deadline, day):
    assert props(event(deadline=deadline))["DTSTART;VALUE=DATE"] == [day]


def test_dtstamp_is_now_in_utc():
    assert props(event())["DTSTAMP"] == ["20260302T091530Z"]
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
    assert props(event(now=summer))["DTSTAMP"] == ["20260701T080000Z"]


def test_crlf_line_endings_only():
    raw = event()
    assert raw.endswith(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"") and b"\r" not in raw.replace(b"\r\n", b"")


def test_text_is_escaped_and_reads_back():
    description = "Back\\slash, comma; semicolon\nnew line\r\nand Windows line"
    p = props(event(summary="Due: March, 2026; all", description=description))
    assert p["SUMMARY"] == ["Due: March\\, 2026\\; all"]
    raw_description = p["DESCRIPTION"][0]
    assert raw_description == "Back\\\\slash\\, comma\\; semicolon\\nnew line\\nand Windows line"
    assert unescape(raw_description) == description.replace("\r\n", "\n")
    assert unescape(p["DESCRIPTION"][1]) == "Due: March, 2026; all"  # the alarm's text


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    description = "Ré-audit l'équipe — " * 30 + "€" * 40
    raw = event(description=description)
    physical = raw.split(b"\r\n")[:-1]
    assert max(len(line) for line in physical) <= 75
    assert sum(line.startswith(b" ") for line in physical) > 5  # folding is actually used
    for line in physical:
        line.decode("utf-8")  # every physical line is whole UTF-8
    assert unescape(props(raw)["DESCRIPTION"][0]) == description


def test_fold_keeps_short_lines_and_marks_continuations():
    assert fold("SUMMARY:short") == ["SUMMARY:short"]
    folded = fold("X:" + "a" * 200)
    assert len(folded[0].encode()) == 75
    assert all(piece.startswith(" ") and len(piece.encode()) <= 75 for piece in folded[1:])
    assert "".join([folded[0]] + [piece[1:] for piece in folded[1:]]) == "X:" + "a" * 200


def test_naive_datetimes_and_broken_lines_are_refused():
    with pytest.raises(ValueError):
        event(deadline=datetime(2026, 3, 31, 23, 59, 59))
    with pytest.raises(ValueError):
        event(now=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ValueError):
        event(uid="one\r\nATTENDEE:mailto:x@y")
    with pytest.raises(ValueError):
        event(organiser="qa@x\nMETHOD:REQUEST")


def test_an_organiser_already_written_as_mailto_is_not_doubled():
    assert props(event(organiser="mailto:qa-audits@wexcombe.example"))["ORGANIZER"] == [
        "mailto:qa-audits@wexcombe.example"]


@given(st.text(st.characters(max_codepoint=127), max_size=400))
def test_an_ascii_line_is_cut_as_the_octet_by_octet_fold_cuts_it(line):
    assert fold(line) == _fold_by_octets(line)
