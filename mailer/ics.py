"""A calendar entry for a deadline, attached to allocation letters so the date is in everyone's diary.

Written by hand to RFC 5545 (no third-party library): one VCALENDAR with METHOD:PUBLISH — an
entry to add, not a meeting to accept — holding one all-day VEVENT on the deadline's London date,
marked free (TRANSP:TRANSPARENT) so it blocks nobody's diary, with a reminder at 09:00 the day before.
Attach the bytes with content type "text/calendar; method=PUBLISH".
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mailer.dates import london

PRODID = "-//QA audit mailbox//EN"
# RFC 5545 §3.1: lines SHOULD NOT be longer than 75 octets, excluding the line break.
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 §3.3.11): backslash, semicolon and comma escaped, line breaks as \\n."""
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def fold(line: str) -> list[str]:
    """One content line as physical lines of at most 75 octets, never splitting a UTF-8 character.

    Each continuation line starts with a single space (§3.1), which counts towards its 75 octets.
    """
    if line.isascii():
        # One octet a character: cut by slicing (most lines fit as they are; the loop below cost ~1 ms a letter).
        if len(line) <= MAX_OCTETS:
            return [line]
        rest = MAX_OCTETS - 1
        return [line[:MAX_OCTETS]] + [" " + line[at:at + rest] for at in range(MAX_OCTETS, len(line), rest)]
    return _fold_by_octets(line)


def _fold_by_octets(line: str) -> list[str]:
    """fold() a character at a time, counting each one's UTF-8 octets."""
    pieces: list[str] = []
    current, size, limit = "", 0, MAX_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += char
        size += width
    pieces.append(current)
    return [pieces[0]] + [" " + piece for piece in pieces[1:]]


def _utc_stamp(dt: datetime) -> str:
    london(dt)  # refuses a naive datetime rather than guessing its zone
    return dt.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _single_line(name: str, value: str) -> str:
    if not value or "\r" in value or "\n" in value:
        raise ValueError(f"{name} must be a non-empty single line, got {value!r}")
    return value


def deadline_event(
    *, uid: str, summary: str, description: str, deadline: datetime, now: datetime, organiser: str
) -> bytes:
    """An RFC 5545 calendar (UTF-8, CRLF line endings, folded lines) with one all-day event on the
    London calendar date of `deadline` (an aware datetime); DTSTAMP is `now` in UTC.

    `uid` must be stable for the same deadline (e.g. "deadline-2026-12@domain") so that a second
    copy updates the first entry rather than adding another. `organiser` is an email address.
    """
    _single_line("uid", uid)
    address = _single_line("organiser", organiser).removeprefix("mailto:")
    day = london(deadline).date()
    stamp = _utc_stamp(now)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        "BEGIN:VEVENT",
        f"UID:{escape_text(uid)}",
        f"DTSTAMP:{stamp}",
        f"DTSTART;VALUE=DATE:{day:%Y%m%d}",
        f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
        f"SUMMARY:{escape_text(summary)}",
        f"DESCRIPTION:{escape_text(description)}",
        f"ORGANIZER:mailto:{address}",
        "TRANSP:TRANSPARENT",
        "BEGIN:VALARM",
        "ACTION:DISPLAY",
        f"DESCRIPTION:{escape_text(summary)}",
        # Relative to the start of an all-day event (midnight): 15 hours before is 09:00 the day before.
        "TRIGGER:-PT15H",
        "END:VALARM",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    physical = [piece for line in lines for piece in fold(line)]
    return ("\r\n".join(physical) + "\r\n").encode("utf-8")
