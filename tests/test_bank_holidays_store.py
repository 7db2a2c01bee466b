"""The bank holidays cache as the service lives with it: filled beside the store, unseen by doctor and backups.

The service counts working days for December's reminders and so writes `data/bank-holidays.cache`;
`doctor` stays clean, a backup does not copy it, a restore loses it and the next pass writes it
again; `report` in its own process then never imports the `holidays` package; a dry run writes it
only in its scratch copy; and the daemon, which builds a calendar in every job of every pass,
reads the file once.
"""
import subprocess
import sys
from datetime import date
from pathlib import Path

import main
from conftest import issue, utc
from db.bank_holidays import FILE, bank_holidays_beside, parse
from db.check import data_files
from db.verify import store_problem
from workflows.calendar import england_bank_holidays

ROOT = Path(__file__).parent.parent
ALLOCATIONS = (ROOT / "app" / "sample" / "allocations.csv").read_text(encoding="utf-8")


def december_under_way(site) -> Path:
    """December 2026 issued and its first pass run (reminders counted in working days); the cache's path."""
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    site.once(utc(2026, 12, 1, 9, 0))
    return site.folder / "data" / FILE


def test_the_service_fills_the_cache_and_doctor_and_backups_take_no_notice(site, capsys):
    cached = december_under_way(site)
    version, years = parse(cached.read_text(encoding="utf-8"))
    assert 2026 in years and years[2026] == dict(england_bank_holidays(2026))
    assert FILE not in {f"{name}.json" for name in data_files(site.folder / "data")}
    code = main.main(["--config", str(site.config_path), "doctor"])
    lines = capsys.readouterr().out.splitlines()
    assert code == 0 and not [line for line in lines if not line.startswith("ok ")], lines
    [backup] = sorted(site.config.backup_path.iterdir())  # the day's backup, taken by the pass
    assert store_problem(backup) is None and not (backup / FILE).exists()


def test_a_restore_loses_the_cache_and_the_next_process_writes_it_again(site, capsys):
    cached = december_under_way(site)
    assert main.main(["--config", str(site.config_path), "restore", "--from", "newest"]) == 0
    capsys.readouterr()
    assert not cached.exists()
    bank_holidays_beside.cache_clear()  # a restore is refused while the daemon runs: the next pass is a new process
    site.once(utc(2026, 12, 2, 9, 0))
    assert parse(cached.read_text(encoding="utf-8"))[1][2026] == dict(england_bank_holidays(2026))


# `report` run as main.py runs it, telling on its way out whether the package was imported.
REPORT_PROCESS = """
import atexit, runpy, sys
atexit.register(lambda: print("holidays imported:", "holidays" in sys.modules, file=sys.stderr))
sys.argv[0] = "main.py"
runpy.run_path("main.py", run_name="__main__")
"""


def report_imports_holidays(site) -> bool:
    done = subprocess.run([sys.executable, "-c", REPORT_PROCESS, "--config", str(site.config_path),
                           "--now", "2026-12-10T14:00", "report", "--month", "2026-12"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Wexcombe" in done.stdout or "2026" in done.stdout  # the report itself was printed
    return done.stderr.strip().splitlines()[-1] == "holidays imported: True"


def test_report_in_its_own_process_does_not_import_holidays_once_the_cache_holds_its_years(site):
    cached = december_under_way(site)
    cached.unlink()
    assert report_imports_holidays(site)  # cold: the package computes, and the file is written
    assert cached.exists()
    assert not report_imports_holidays(site)  # warm: the same report, without the package


def test_a_dry_run_writes_the_cache_only_in_its_scratch_copy(site, capsys):
    cached = december_under_way(site)
    cached.unlink()
    bank_holidays_beside.cache_clear()  # as `--dry-run once` from the command line: a new process
    assert main.main(["--config", str(site.config_path), "--now", "2026-12-02T09:00", "--dry-run", "once"]) == 0
    capsys.readouterr()
    assert not cached.exists()


def test_the_daemon_reads_the_file_once_not_every_pass(site, caplog):
    cached = december_under_way(site)
    cached.write_bytes(b"garbled after the first pass read it")
    # Later passes in the same process (the daemon's) answer from what the first pass read: no damage
    # noticed, nothing rewritten. A new process would notice, ignore it and write it again.
    site.once(utc(2026, 12, 2, 9, 0))
    ctx = site.open(utc(2026, 12, 2, 9, 0), read_only=True)
    try:
        assert ctx.calendar.holiday_name(date(2026, 12, 28)) == "Boxing Day (observed)"
    finally:
        ctx.close()
    assert cached.read_bytes() == b"garbled after the first pass read it"
    assert "damaged" not in caplog.text
