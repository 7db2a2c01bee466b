"""Dates and times written the way the Director's letters write them: "11th May 2021".

Everything the department reads is London time (GMT or BST, whichever is in force), so aware
datetimes are converted to Europe/London first. A naive datetime is refused rather than guessed:
an hour's error around the clock change could move a deadline to the wrong day.
"""

from __future__ import annotations

import functools
from datetime import date, datetime
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")

# Spelt out rather than taken from strftime's %A/%B, which follow the process locale: a server
# set to another language must still write English letters.
_MONTHS = ("January", "February", "March", "April", "May", "June", "July",
           "August", "September", "October", "November", "December")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def london(dt: datetime) -> datetime:
    """Return the same instant in Europe/London; raise ValueError for a naive datetime."""
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.tzinfo.utcoffset(dt) is None:
        raise ValueError(f"naive datetime {dt.isoformat()} has no time zone; pass an aware datetime")
    return dt.astimezone(LONDON)


def ordinal(day: int) -> str:
    """Day of the month with its English suffix: 1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st."""
    # 11, 12 and 13 take "th" even though they end in 1, 2 and 3.
    if 10 <= day % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _calendar_day(d: date | datetime) -> date:
    # datetime is a subclass of date, so it must be checked first or its zone would be ignored.
    if isinstance(d, datetime):
        return london(d).date()
    if isinstance(d, date):
        return d
    raise TypeError(f"expected a date or datetime, got {type(d).__name__}")


def _once_per_instant(words):
    """Memoise a formatter for plain dates and aware datetimes: every letter of a run gives the same
    deadline, written three or four times a letter, each a time-zone conversion. Equal aware datetimes
    are the same instant, so the same London words; anything else (naive, a subclass) is not memoised."""
    memo = functools.lru_cache(maxsize=256)(words)

    @functools.wraps(words)
    def formatted(d):
        kind = type(d)
        if kind is date or (kind is datetime and d.tzinfo is not None):
            return memo(d)
        return words(d)
    return formatted


@_once_per_instant
def long_date(d: date | datetime) -> str:
    """"11th May 2021" — the date line of a letter."""
    day = _calendar_day(d)
    return f"{ordinal(day.day)} {_MONTHS[day.month - 1]} {day.year}"


@_once_per_instant
def long_weekday_date(d: date | datetime) -> str:
    """"Thursday 31st December 2026" — for deadlines and meetings, where the weekday helps."""
    day = _calendar_day(d)
    return f"{_WEEKDAYS[day.weekday()]} {long_date(day)}"


@_once_per_instant
def deadline_words(dt: datetime) -> str:
    """"23:59 on Thursday 31st December 2026" in London local time (24-hour clock)."""
    local = london(dt)
    return f"{local:%H:%M} on {long_weekday_date(local)}"
