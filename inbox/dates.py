"""Dates as people in England write them in a reply: "7 January", "07/01/2027", "Jan 7th", "5/1".

Numbers are day-first. A date without a year is the occurrence nearest today.
"""
import re
from contextlib import suppress
from datetime import date

MONTHS = {name: number for number, name in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
# Dates and weekdays in a clause are not comment on their own ("Yes, by Friday 8 January").
DATE_TEXT = re.compile(rf"\d+(?:st|nd|rd|th)?|[/.]|\b{MONTH}\b|\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\b", re.I)
# Read in this order; a later pattern never rereads text an earlier one took. Numbers are day-first (UK).
DATE_PATTERNS = [
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "ymd"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?(?:\s+of)?\s+{MONTH}(?:,?\s+(\d{{4}}))?\b", re.I), "dmy"),
    (re.compile(rf"\b{MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I), "mdy"),
    (re.compile(r"\b(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{4}|\d{2}))?\b"), "dmy"),
]


def find_dates(text: str, today: date) -> list[date]:
    """Every date written in text, in order; a date without a year is the occurrence nearest today."""
    taken: list[tuple[int, int]] = []
    found: list[tuple[int, date]] = []
    for pattern, order in DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue  # "8 January 2027" was already read; do not read "8" or "January 2027" again
            taken.append(match.span())
            fields = dict(zip(order, match.groups()))
            month = int(fields["m"]) if fields["m"].isdigit() else MONTHS[fields["m"][:3].lower()]
            year = int(fields["y"]) + (2000 if len(fields["y"]) == 2 else 0) if fields["y"] else None
            value = _calendar_date(int(fields["d"]), month, year, today)
            if value:
                found.append((match.start(), value))
    return [value for _, value in sorted(found)]


def _calendar_date(day: int, month: int, year: int | None, today: date) -> date | None:
    """A real calendar date; without a year, the occurrence nearest today.

    Nearest, not next: "by 31/12" written on 2 January means the day just gone (and so decides
    nothing, as a passed date), not a date a year away.
    """
    candidates = []
    for candidate in ([year] if year else range(today.year - 1, today.year + 5)):
        with suppress(ValueError):  # 31/11 or 29 February in a common year is no date
            candidates.append(date(candidate, month, day))
    return min(candidates, key=lambda d: (abs((d - today).days), d < today)) if candidates else None
