"""England's bank holidays kept beside the store: the same answers as the `holidays` package, without importing it.

A process that counts working days reads `data/bank-holidays.cache`; only a year it does not hold
(or a file written for another version of the package, or a damaged one) makes it import the
package, compute the year and write the file again.
"""
import json
import logging
import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from db.bank_holidays import FILE, BankHolidayCache, installed_version, parse, render
from workflows.calendar import WorkingCalendar, england_bank_holidays

ROOT = Path(__file__).parent.parent
YEARS = (2021, 2022, 2026, 2027)  # substitute days at both Christmases, 2022's two extra days


def cache(folder: Path, version: str | None = None, **kwargs) -> BankHolidayCache:
    """A cache as a new process makes it: nothing in memory, the installed version as its key."""
    return BankHolidayCache(folder, version or installed_version(), **kwargs)


def counting(calls: list):
    """The package's own answer, noting each year it is asked for."""
    def compute(year):
        calls.append(year)
        return england_bank_holidays(year)
    return compute


def python(code: str, *args: str) -> str:
    """What a fresh Python process running `code` (with the service on its path) prints."""
    done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


# --- the same answers as the package ------------------------------------------------------------

def test_the_cache_answers_as_the_package_for_each_year_substitute_days_included(tmp_path):
    cache(tmp_path)(2021)  # one year first, the rest added to the same file one by one
    for year in YEARS:
        cache(tmp_path)(year)
    on_disk = cache(tmp_path)  # a new process: every year from the file, none from the package
    calls = []
    on_disk._compute = counting(calls)
    for year in YEARS:
        assert dict(on_disk(year)) == dict(england_bank_holidays(year)), year
    assert calls == []
    calendar = WorkingCalendar(bank_holidays=on_disk)
    assert calendar.holiday_name(date(2021, 12, 27)) == "Christmas Day (observed)"
    assert calendar.holiday_name(date(2021, 12, 28)) == "Boxing Day (observed)"
    assert calendar.holiday_name(date(2022, 6, 3)) == "Platinum Jubilee of Elizabeth II"
    assert calendar.holiday_name(date(2022, 9, 19)) == "State Funeral of Queen Elizabeth II"
    assert calendar.holiday_name(date(2027, 12, 28)) == "Boxing Day (observed)"
    assert not calendar.is_working_day(date(2022, 1, 3))  # New Year's Day (observed), a Monday
    assert calendar.is_working_day(date(2022, 12, 28))  # Boxing Day was a Monday: no second substitute
    assert calendar.working_days_between(date(2021, 12, 24), date(2021, 12, 31)) == 3


def test_a_year_not_in_the_cache_is_computed_and_added_never_guessed(tmp_path):
    cache(tmp_path)(2026)
    calls = []
    later = cache(tmp_path, compute=counting(calls))
    assert dict(later(2026)) == dict(england_bank_holidays(2026)) and calls == []
    assert dict(later(2031)) == dict(england_bank_holidays(2031)) and calls == [2031]
    assert sorted(parse((tmp_path / FILE).read_text())[1]) == [2026, 2031]


def test_the_file_is_readable_by_the_service_only_and_leaves_no_temporary_file(tmp_path):
    os.umask(0o022)  # even where the process would make files others can read
    try:
        cache(tmp_path)(2026)
    finally:
        os.umask(0o077)
    assert stat.S_IMODE((tmp_path / FILE).stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE]


# --- a fresh process with a warm cache does not import the package -------------------------------

WARM_PROCESS = """
import sys
from datetime import date
from db.bank_holidays import bank_holidays_beside
from workflows.calendar import WorkingCalendar
calendar = WorkingCalendar(bank_holidays=bank_holidays_beside(sys.argv[1]))
print(calendar.is_working_day(date(2021, 12, 28)), calendar.working_days_between(date(2022, 5, 31), date(2022, 6, 7)),
      "holidays" in sys.modules, "importlib.metadata" in sys.modules)
"""


def test_a_second_process_does_not_import_holidays_when_the_cache_holds_the_year(tmp_path):
    cold = python(WARM_PROCESS, str(tmp_path))  # the package computes and the file is filled
    assert cold.startswith("False 3 True ")  # (the package itself imports importlib.metadata)
    assert (tmp_path / FILE).exists()
    assert python(WARM_PROCESS, str(tmp_path)) == "False 3 False False"  # warm: same answers, no import


def test_the_installed_version_is_found_without_importing_the_package():
    code = "import sys; from db.bank_holidays import installed_version; print(installed_version(), " \
           "'holidays' in sys.modules, 'importlib.metadata' in sys.modules)"
    import holidays

    assert python(code) == f"{holidays.__version__} False False"


@pytest.mark.parametrize("dist_infos, expected", [
    (["sample_pkg-1.2.3.dist-info"], "1.2.3"),
    ([], None),  # installed some other way: no cache, the package answers as before
    (["sample_pkg-1.2.3.dist-info", "sample_pkg-1.3.0.dist-info"], None),  # a broken upgrade: in doubt
])
def test_the_version_comes_from_the_one_dist_info_beside_the_package(tmp_path, monkeypatch, dist_infos, expected):
    (tmp_path / "sample_pkg").mkdir()
    (tmp_path / "sample_pkg" / "__init__.py").write_text("")
    for name in dist_infos:
        (tmp_path / name).mkdir()
    monkeypatch.syspath_prepend(str(tmp_path))
    assert installed_version("sample_pkg") == expected
    assert installed_version("no_such_package_here") is None


# --- an upgraded package, a damaged file, a folder it cannot write -------------------------------

def test_an_upgraded_package_recomputes_and_rewrites_under_its_own_version(tmp_path):
    cache(tmp_path, "0.108")(2026)
    calls = []
    upgraded = cache(tmp_path, "0.109", compute=counting(calls))
    assert dict(upgraded(2026)) == dict(england_bank_holidays(2026)) and calls == [2026]
    assert parse((tmp_path / FILE).read_text())[0] == "0.109"
    calls.clear()
    assert dict(cache(tmp_path, "0.109", compute=counting(calls))(2026)) == dict(england_bank_holidays(2026))
    assert calls == []


def _flipped_date(path: Path) -> str:
    # Christmas moved a day: still JSON of the right shape, so only the check can tell.
    return path.read_text().replace("2026-12-25", "2026-12-24")


DAMAGE = {
    "garbled bytes": lambda path: b"\xff\xfe\x00 not a cache",
    "cut short": lambda path: path.read_bytes()[: len(path.read_bytes()) // 2],
    "empty": lambda path: b"",
    "someone else's JSON": lambda path: json.dumps({"years": {"2026": {}}}).encode(),
    "a date changed": lambda path: _flipped_date(path).encode(),
    "a year of the wrong dates": lambda path: render("0.109", {2026: {date(2025, 12, 25): "Christmas Day"}}).encode(),
    "nested past the parser's depth": lambda path: b"[" * 200_000,
}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_a_damaged_cache_file_is_ignored_logged_once_and_rewritten(tmp_path, caplog, damage):
    cache(tmp_path, "0.109")(2026)
    path = tmp_path / FILE
    path.write_bytes(DAMAGE[damage](path))
    calls = []
    reader = cache(tmp_path, "0.109", compute=counting(calls))
    with caplog.at_level(logging.WARNING, logger="auditmail.store"):
        calendar = WorkingCalendar(bank_holidays=reader)
        assert calendar.holiday_name(date(2026, 12, 25)) == "Christmas Day"
        assert calendar.is_working_day(date(2026, 12, 24))
        assert dict(reader(2027)) == dict(england_bank_holidays(2027))
    assert calls == [2026, 2027]
    assert len([r for r in caplog.records if str(path) in r.getMessage()]) == 1, caplog.text
    assert parse(path.read_text()) == ("0.109", {2026: dict(england_bank_holidays(2026)),
                                                 2027: dict(england_bank_holidays(2027))})


def test_a_folder_that_cannot_be_written_costs_the_import_never_an_answer(tmp_path, caplog):
    not_a_folder = tmp_path / "data"
    not_a_folder.write_text("a file where the store folder should be")
    with caplog.at_level(logging.WARNING, logger="auditmail.store"):
        reader = cache(not_a_folder, "0.109")
        assert dict(reader(2026)) == dict(england_bank_holidays(2026))
        assert dict(reader(2027)) == dict(england_bank_holidays(2027))
    told = [r.getMessage() for r in caplog.records]
    assert len([m for m in told if "cannot be written" in m]) == 1, told  # once, not once a year
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


# --- two processes filling it at once -------------------------------------------------------------

FILLER = """
import sys
from db.bank_holidays import BankHolidayCache, installed_version
first = int(sys.argv[2])
for round in range(20):
    for year in range(first, first + 10):
        cache = BankHolidayCache(sys.argv[1], installed_version())
        cache(year)
        cache._write()  # written again even when the other process had it there already: a write each time
"""


def test_two_processes_filling_it_at_once_leave_a_whole_correct_file(tmp_path):
    fillers = [subprocess.Popen([sys.executable, "-c", FILLER, str(tmp_path), str(first)], cwd=ROOT,
                                stderr=subprocess.PIPE, text=True) for first in (2000, 2005)]
    for filler in fillers:
        assert filler.wait(timeout=120) == 0
        # Nothing told: neither saw the other's file half-written, and neither's rename failed.
        assert filler.stderr.read() == ""
        filler.stderr.close()
    version, years = parse((tmp_path / FILE).read_text())  # whole: the last writer's file, not a mix
    assert version == installed_version() and years
    for year, days in years.items():
        assert days == dict(england_bank_holidays(year)), year
    assert sorted(p.name for p in tmp_path.iterdir()) == [FILE]
