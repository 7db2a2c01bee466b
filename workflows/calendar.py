"""The audit month's calendar: its deadline instant, its working days and its reminder ladder.

The deadline is the last day of the month at 23:59:59 London time (GMT or BST, whichever is in
force), as an instant in UTC so it compares directly with the mailbox's receipt time. Working days
are Monday to Friday minus the bank holidays of England (England and Wales share the same list,
substitute days included) and any closure days the council configures.
"""
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime, time, timedelta, timezone
from types import MappingProxyType

from core.clock import LONDON

MONTH = re.compile(r"^(\d{4})-(\d{2})$")
# Spelt out rather than taken from strftime's %B, which follows the process locale.
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July",
               "August", "September", "October", "November", "December")
LAST_INSTANT = time(23, 59, 59, 999999)


def parse_month(month: str) -> tuple[int, int]:
    """The (year, month) of a "YYYY-MM" string; ValueError naming the bad value otherwise."""
    match = MONTH.match(month.strip()) if isinstance(month, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"{month!r} is not an audit month; write it as YYYY-MM, for example 2026-11")
    return int(match.group(1)), int(match.group(2))


def last_day(month: str) -> date:
    """The last calendar day of a "YYYY-MM" month."""
    year, number = parse_month(month)
    first_of_next = date(year + number // 12, number % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def month_deadline(month: str) -> datetime:
    """The last instant that counts for a month: its last day at 23:59:59.999999 London time, in UTC."""
    # Built as London wall-clock time first, so BST or GMT is whichever is in force on that day.
    local = datetime.combine(last_day(month), LAST_INSTANT, tzinfo=LONDON)
    return local.astimezone(timezone.utc)


def counts_by(received_at: datetime, deadline: datetime) -> bool:
    """Whether a receipt time is on or before the deadline; both must be timezone-aware."""
    for name, value in (("received_at", received_at), ("deadline", deadline)):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} {value.isoformat()} has no time zone; an hour's guess could move the day")
    return received_at <= deadline


def month_name(month: str) -> str:
    """The month as the letters write it: "December 2026"."""
    year, number = parse_month(month)
    return f"{MONTH_NAMES[number - 1]} {year}"


# A source of bank holidays: a year in, that year's {date: name} out. The package's own answer
# (`england_bank_holidays`) by default; app/ gives the store folder's cache of it (db/bank_holidays.py).
BankHolidaySource = Callable[[int], Mapping[date, str]]


@functools.lru_cache(maxsize=None)
def england_bank_holidays(year: int) -> Mapping[date, str]:
    """England's bank holidays in `year` as the `holidays` package gives them, substitute days included.

    Imported here: the package takes 0.1 s to import and 0.2 s more to import every country it knows
    on the first look-up, which a command that never counts working days need not pay. Each year is
    computed by a fresh object, so the answer for a day depends on nothing looked up before it.
    """
    import holidays

    # "ENG" gives England's list, substitute days such as Boxing Day (observed) included, with no network.
    found = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return MappingProxyType({day: name for day, name in sorted(found.items()) if day.year == year})


class WorkingCalendar:
    """Working days: Monday to Friday, minus England's bank holidays and the council's closure days."""

    def __init__(self, extra_closures: Iterable[date] = (), bank_holidays: BankHolidaySource = england_bank_holidays):
        self.extra_closures = frozenset(extra_closures)
        self._source = bank_holidays
        self._years: dict[int, Mapping[date, str]] = {}  # asked of the source once a year per calendar

    def bank_holidays(self, year: int) -> Mapping[date, str]:
        """England's bank holidays in `year`, {date: name}."""
        try:
            return self._years[year]
        except KeyError:
            found = self._years[year] = self._source(year)
            return found

    def holiday_name(self, d: date) -> str | None:
        """The name of the bank holiday or council closure on a day, or None."""
        d = _as_date(d)
        name = self.bank_holidays(d.year).get(d)
        if name is not None:
            return name
        return "Council closure day" if d in self.extra_closures else None

    def is_working_day(self, d: date) -> bool:
        """Whether the council's offices are working on that day."""
        d = _as_date(d)
        return d.weekday() < 5 and d not in self.bank_holidays(d.year) and d not in self.extra_closures

    def last_working_day_on_or_before(self, d: date) -> date:
        """The day itself when it is a working day, else the nearest working day before it."""
        d = _as_date(d)
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def working_days_before(self, d: date, n: int) -> date:
        """The working day n working days before d; n=0 is the last working day on or before d."""
        _check_count(n)
        d = self.last_working_day_on_or_before(d)
        for _ in range(n):
            d = self.last_working_day_on_or_before(d - timedelta(days=1))
        return d

    def add_working_days(self, start: datetime | date, n: int) -> date:
        """The working day n working days after start (n=0: the first working day on or after it)."""
        _check_count(n)
        d = _as_date(start)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        for _ in range(n):
            d += timedelta(days=1)
            while not self.is_working_day(d):
                d += timedelta(days=1)
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days fall after start, up to and including end (0 when end <= start)."""
        start, end = _as_date(start), _as_date(end)
        days = (end - start).days
        return sum(1 for i in range(1, days + 1) if self.is_working_day(start + timedelta(days=i)))


def reminder_dates(month: str, calendar: WorkingCalendar, ladder=(10, 5, 0)) -> list[tuple[str, date]]:
    """The reminder ladder for a month as (step name, date), oldest first: "10wd", "5wd", "last-day"."""
    deadline_day = last_day(month)
    steps: dict[date, tuple[int, str]] = {}
    for n in ladder:
        name = f"{n}wd" if n > 0 else "last-day"
        # A last day on a weekend or holiday is counted from the working day before it: nobody
        # wants a Saturday reminder, and the audit is due by the time the office closes anyway.
        when = calendar.working_days_before(deadline_day, n)
        # Two steps on one day would be two emails in a morning; the later (smaller n) one says more.
        if when not in steps or n < steps[when][0]:
            steps[when] = (n, name)
    return [(name, when) for when, (_, name) in sorted(steps.items())]


def _as_date(value: datetime | date) -> date:
    # A datetime is a date too; an aware one is read on London's calendar, where the day is decided.
    if isinstance(value, datetime):
        return value.astimezone(LONDON).date() if value.tzinfo else value.date()
    return value


def _check_count(n: int) -> None:
    if n < 0:
        raise ValueError(f"a count of working days cannot be negative (got {n})")


def moderation_closes(month: str, calendar: WorkingCalendar, working_days: int = 5) -> date:
    """The day moderation of `month` closes: `working_days` working days into the next month.

    The month's report is due that day; an audit still unmoderated then is reported as unmoderated.
    Counted from the day after the month ends, so a month ending on a weekend closes on the 5th
    working day of the next month too, not the 6th.
    """
    return calendar.add_working_days(last_day(month) + timedelta(days=1), working_days - 1)
