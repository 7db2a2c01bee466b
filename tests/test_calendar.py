"""The audit month's calendar: deadlines across the clock changes, working days and the reminder ladder."""
from datetime import date, datetime, timedelta, timezone

import pytest

from workflows.calendar import (WorkingCalendar, counts_by, moderation_closes, month_deadline, month_name,
                                reminder_dates)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@pytest.fixture
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --- the deadline -------------------------------------------------------------------------------

def test_march_deadline_is_in_bst_after_the_clocks_go_forward():
    # BST starts Sunday 29 March 2026, so 23:59:59 on 31 March London is 22:59:59 UTC.
    deadline = month_deadline("2026-03")
    assert deadline == utc(2026, 3, 31, 22, 59, 59, 999999)
    assert counts_by(utc(2026, 3, 31, 22, 59, 59), deadline)
    assert not counts_by(utc(2026, 3, 31, 23, 0, 0), deadline)  # 00:00 BST on 1 April


def test_october_deadline_is_in_gmt_after_the_clocks_go_back():
    # BST ends Sunday 25 October 2026, so the month ends in GMT and London equals UTC.
    deadline = month_deadline("2026-10")
    assert deadline == utc(2026, 10, 31, 23, 59, 59, 999999)
    assert counts_by(utc(2026, 10, 31, 23, 59, 59), deadline)
    assert not counts_by(utc(2026, 11, 1, 0, 0, 0), deadline)


def test_november_deadline_with_no_clock_change():
    deadline = month_deadline("2026-11")
    assert deadline == utc(2026, 11, 30, 23, 59, 59, 999999)
    assert deadline.tzinfo is not None and deadline.utcoffset() == timedelta(0)
    assert counts_by(utc(2026, 11, 30, 23, 59, 59, 999999), deadline)
    assert not counts_by(utc(2026, 12, 1, 0, 0, 0), deadline)


def test_a_receipt_in_another_offset_is_compared_as_the_same_instant():
    bst = timezone(timedelta(hours=1))
    deadline = month_deadline("2026-06")
    assert counts_by(datetime(2026, 6, 30, 23, 59, 59, tzinfo=bst), deadline)
    assert not counts_by(datetime(2026, 7, 1, 0, 0, 0, tzinfo=bst), deadline)


@pytest.mark.parametrize("bad", ["2026-13", "26-11", "2026-00", "2026-1", "November", "", "2026/11"])
def test_a_bad_month_is_refused_with_the_value_named(bad):
    with pytest.raises(ValueError, match="YYYY-MM"):
        month_deadline(bad)


def test_a_naive_receipt_time_is_refused():
    with pytest.raises(ValueError, match="no time zone"):
        counts_by(datetime(2026, 11, 30, 12, 0), month_deadline("2026-11"))


def test_month_name():
    assert month_name("2026-12") == "December 2026"
    assert month_name("2027-01") == "January 2027"


# --- working days -------------------------------------------------------------------------------

def test_christmas_2026_including_the_boxing_day_substitute(cal):
    assert not cal.is_working_day(date(2026, 12, 25))  # Friday, Christmas Day
    assert not cal.is_working_day(date(2026, 12, 28))  # Monday, Boxing Day (Sat 26th) observed
    assert cal.is_working_day(date(2026, 12, 24))
    assert cal.is_working_day(date(2026, 12, 29))
    assert "Boxing Day" in cal.holiday_name(date(2026, 12, 28))
    assert cal.holiday_name(date(2026, 12, 29)) is None


def test_december_2026_reminder_ladder(cal):
    # Counting back from Thursday 31 December (a working day):
    #   1 Wed 30, 2 Tue 29, (Mon 28 Boxing Day observed, Sun 27, Sat 26, Fri 25 Christmas),
    #   3 Thu 24, 4 Wed 23, 5 Tue 22  -> 5wd is 22 December
    #   6 Mon 21, 7 Fri 18, 8 Thu 17, 9 Wed 16, 10 Tue 15  -> 10wd is 15 December
    assert reminder_dates("2026-12", cal) == [
        ("10wd", date(2026, 12, 15)), ("5wd", date(2026, 12, 22)), ("last-day", date(2026, 12, 31))]


def test_october_2026_ends_on_a_saturday(cal):
    # Saturday 31 October -> last working day Friday 30; count back from Friday 30:
    #   1 Thu 29, 2 Wed 28, 3 Tue 27, 4 Mon 26, 5 Fri 23  -> 5wd
    #   6 Thu 22, 7 Wed 21, 8 Tue 20, 9 Mon 19, 10 Fri 16  -> 10wd
    assert reminder_dates("2026-10", cal) == [
        ("10wd", date(2026, 10, 16)), ("5wd", date(2026, 10, 23)), ("last-day", date(2026, 10, 30))]


def test_may_2026_ends_on_a_sunday_after_the_spring_bank_holiday(cal):
    # Sunday 31 May, Saturday 30 -> last working day Friday 29; count back from Friday 29:
    #   1 Thu 28, 2 Wed 27, 3 Tue 26, (Mon 25 Spring Bank Holiday), 4 Fri 22, 5 Thu 21  -> 5wd
    #   6 Wed 20, 7 Tue 19, 8 Mon 18, 9 Fri 15, 10 Thu 14  -> 10wd
    assert not cal.is_working_day(date(2026, 5, 25))
    assert reminder_dates("2026-05", cal) == [
        ("10wd", date(2026, 5, 14)), ("5wd", date(2026, 5, 21)), ("last-day", date(2026, 5, 29))]


def test_a_council_closure_day_is_skipped_too():
    # Close Thursday 24 December as well: from Thu 31: 1 Wed 30, 2 Tue 29, 3 Wed 23, 4 Tue 22, 5 Mon 21.
    cal = WorkingCalendar(extra_closures=[date(2026, 12, 24)])
    assert not cal.is_working_day(date(2026, 12, 24))
    assert cal.holiday_name(date(2026, 12, 24)) == "Council closure day"
    assert cal.working_days_before(date(2026, 12, 31), 5) == date(2026, 12, 21)


def test_steps_falling_on_one_day_keep_the_later_step(cal):
    # A ladder that repeats a step must not send two reminders on one morning.
    assert reminder_dates("2026-11", cal, ladder=(0, 3, 0)) == [
        ("3wd", date(2026, 11, 25)), ("last-day", date(2026, 11, 30))]


def test_working_days_before_and_on_or_before(cal):
    assert cal.last_working_day_on_or_before(date(2026, 11, 1)) == date(2026, 10, 30)  # Sunday -> Friday
    assert cal.last_working_day_on_or_before(date(2026, 11, 2)) == date(2026, 11, 2)
    assert cal.working_days_before(date(2026, 11, 2), 0) == date(2026, 11, 2)
    assert cal.working_days_before(date(2026, 11, 2), 1) == date(2026, 10, 30)
    with pytest.raises(ValueError):
        cal.working_days_before(date(2026, 11, 2), -1)


def test_working_days_between_across_a_weekend_and_a_bank_holiday(cal):
    # Across the Spring Bank Holiday, Fri 22 -> Wed 27 May 2026:
    #   Sat 23, Sun 24, Mon 25 (holiday) do not count; Tue 26 and Wed 27 do -> 2.
    assert cal.working_days_between(date(2026, 5, 22), date(2026, 5, 27)) == 2
    # Fri 30 Oct -> Mon 2 Nov: just the Monday.
    assert cal.working_days_between(date(2026, 10, 30), date(2026, 11, 2)) == 1
    assert cal.working_days_between(date(2026, 11, 2), date(2026, 11, 2)) == 0
    assert cal.working_days_between(date(2026, 11, 3), date(2026, 11, 2)) == 0


def test_add_working_days_across_christmas(cal):
    # From Wed 23 Dec 2026: 1 Thu 24, (Fri 25, Sat 26, Sun 27, Mon 28 closed), 2 Tue 29, 3 Wed 30.
    assert cal.add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    # Into the new year: 4 Thu 31, (Fri 1 Jan New Year's Day, weekend), 5 Mon 4 January 2027.
    assert cal.add_working_days(date(2026, 12, 23), 5) == date(2027, 1, 4)
    assert cal.holiday_name(date(2027, 1, 1)) == "New Year's Day"


def test_add_working_days_from_an_instant_uses_the_london_day(cal):
    # 23:30 UTC on Thu 24 Dec is still the 24th in London (GMT); from there 1 working day is Tue 29.
    assert cal.add_working_days(utc(2026, 12, 24, 23, 30), 1) == date(2026, 12, 29)
    # 23:30 UTC on Tue 30 June is 00:30 BST on Wed 1 July; 1 working day later is Thu 2 July.
    assert cal.add_working_days(utc(2026, 6, 30, 23, 30), 1) == date(2026, 7, 2)
    # Starting on a closed day, n=0 gives the first working day after it.
    assert cal.add_working_days(date(2026, 12, 25), 0) == date(2026, 12, 29)


@pytest.mark.parametrize("month, closes", [
    ("2026-11", date(2026, 12, 7)),   # ends on a Monday: 1, 2, 3, 4, 7 December
    ("2026-10", date(2026, 11, 6)),   # ends on a Saturday: the 5th working day is still Friday 6th
    ("2026-12", date(2027, 1, 8)),    # New Year's Day is a bank holiday: 4 to 8 January
])
def test_moderation_closes_on_the_fifth_working_day_of_the_next_month(month, closes):
    assert moderation_closes(month, WorkingCalendar(), 5) == closes
