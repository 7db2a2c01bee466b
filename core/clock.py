"""The one clock: every part of the service asks it the time, so `--now` and freezegun fix it everywhere."""
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock:
    """Tells the time in UTC; a fixed instant (from `--now`) makes every run repeatable."""

    def __init__(self, fixed: datetime | None = None):
        if fixed is not None and fixed.tzinfo is None:
            # A bare `--now 2026-11-30T23:58` means London wall-clock time, as a person would read it.
            fixed = fixed.replace(tzinfo=LONDON)
        self._fixed = fixed.astimezone(timezone.utc) if fixed else None

    def now(self) -> datetime:
        """The current instant, tz-aware, in UTC."""
        return self._fixed or datetime.now(timezone.utc)

    def london_now(self) -> datetime:
        """The current instant as London wall-clock time."""
        return self.now().astimezone(LONDON)

    def london_today(self) -> date:
        """Today's date in London, which is what 'the day' means for limits and reminders."""
        return self.london_now().date()


def parse_instant(text: str) -> datetime:
    """Parse `--now` style ISO-8601; a value without an offset is read as London time."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=LONDON)
    return value.astimezone(timezone.utc)


def month_of(instant: datetime) -> str:
    """The audit month (YYYY-MM, London time) an instant falls in."""
    return instant.astimezone(LONDON).strftime("%Y-%m")
