"""A damaged, missing or mistyped store is never taken for an empty one, and nothing is lost.

Each story: the store is hurt the way a careless operator, a full disk or a bad restore hurts it,
mail waits in the inbox, a command runs. The answer is one line naming the file and the newest good
backup, exit 2, and the mail is still in the inbox, unanswered, for when the store is put right.
"""
import errno
import json
import os
import stat
from pathlib import Path

import pytest
from freezegun import freeze_time

from conftest import issue, new_mail, utc
from test_commands import run_main, with_config_change as configure
from db.lock import FolderLock

MONTH_CSV = "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n"
HELLO = new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?")


@pytest.fixture
def working(site):
    """A site that has issued November, handled a pass (so a backup exists), and has mail waiting."""
    issue(site, "2026-11", MONTH_CSV, utc(2026, 11, 2, 8))
    site.once(utc(2026, 11, 2, 8, 30))
    site.receive(HELLO, at=utc(2026, 11, 3, 9))
    return site


def assert_untouched(site) -> None:
    assert len(site.files("inbox")) == 1 and site.files("processed") == [] and site.files("failed") == []


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


DAMAGE = {
    "roster deleted": ("roster.json", None, "roster.json is listed in the store's manifest but missing"),
    "roster {}": ("roster.json", b"{}", "roster.json has nobody in it"),
    "roster null": ("roster.json", b"null", "roster.json holds null where tables of records were expected"),
    "roster empty file": ("roster.json", b"", "roster.json is empty"),
    "roster garbled": ("roster.json", bytes(range(256)) * 4, "roster.json is not UTF-8 text"),
    "roster bad UTF-8": ("roster.json", b'{"people": {"1": {"name": "Ais\xe9ha"}}}', "roster.json is not UTF-8 text"),
    "roster not JSON": ("roster.json", b'{"people": {"1": {"email": ', "roster.json is not valid JSON"),
    "roster person without email": ("roster.json", b'{"people": {"1": {"name": "Aisha Patel"}}}',
                                    "roster.json table 'people' record 1 has no valid 'email'"),
    "month tables of lists": ("months/2026-11.json", b'{"allocations": [1, 2]}',
                              "2026-11.json table 'allocations' holds a list where records were expected"),
    "month record not a record": ("months/2026-11.json", b'{"allocations": {"1": "AUD-2026-11-001"}}',
                                  "2026-11.json table 'allocations' record '1' is not a record"),
    "month deleted": ("months/2026-11.json", None, "months/2026-11.json is listed in the store's manifest but missing"),
    "ledger wrong shape": ("ledgers/2026-11.json", b'{"handled": {"1": {"when": 3}}}',
                           "2026-11.json table 'handled' record 1 has no valid 'key'"),
    "manifest garbled": ("manifest.json", b"\x00\x01garbage", "manifest.json is not valid JSON"),
    "manifest wrong shape": ("manifest.json", b'{"schema": 1}', "manifest.json is not a store manifest"),
    "roster []": ("roster.json", b"[]", "roster.json holds a list where tables of records were expected"),
    "roster a bare number": ("roster.json", b"42", "roster.json holds a int where tables of records were expected"),
    "roster NUL-filled": ("roster.json", b"\x00" * 512, "roster.json is not valid JSON"),
    "month torn write": ("months/2026-11.json", b'{"allocations": {"1": {"reference": "AUD-2026-1',
                         "2026-11.json is not valid JSON"),
    "month an email that is a number": ("months/2026-11.json",
                                        b'{"allocations": {"1": {"reference": "AUD-2026-11-001", "auditor": 7}}}',
                                        "2026-11.json table 'allocations' record 1 has no valid 'auditor'"),
    "ledger deleted": ("ledgers/2026-11.json", None, "ledgers/2026-11.json is listed in the store's manifest but missing"),
    "outbox garbled": ("outbox.json", b"\xff\xfe\x00", "outbox.json is not UTF-8 text"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
@pytest.mark.parametrize("command", [["once"], ["status"], ["run"],
                                     ["issue", "--month", "2026-11", "--allocations", "allocations.csv"]],
                         ids=["once", "status", "run", "issue"])
def test_a_damaged_store_stops_the_command_before_the_inbox_is_touched(working, capsys, case, command):
    name, content, says = DAMAGE[case]
    path = working.folder / "data" / name
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    command = [str(working.folder / part) if part.endswith(".csv") else part for part in command]
    code, out, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", *command, capsys=capsys)
    line = one_line(err)
    assert code == 2, err
    assert says in line
    assert "newest good backup is " + str(working.folder / "backups" / "data-2026-11-02") in line
    assert "restore --from data-2026-11-02" in line
    assert_untouched(working)
    assert working.sent() == [] or all("hello" not in (m["Subject"] or "") for m in working.sent())


def test_a_director_missing_from_the_roster_stops_the_pass(working, capsys):
    configure(working, 'email = "imogen.thackeray@wexcombe.example"', 'email = "imogen.thackery@wexcombe.example"')
    code, _, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "once", capsys=capsys)
    assert code == 2 and "config: director.email: imogen.thackery@wexcombe.example is not on the roster" in one_line(err)
    assert_untouched(working)


@pytest.mark.parametrize("command", [["once"], ["run"], ["status"], ["--dry-run", "once"]])
def test_a_mistyped_store_path_creates_nothing_and_consumes_nothing(site, capsys, command):
    site.receive(HELLO, at=utc(2026, 11, 3, 9))
    configure(site, 'path = "data"', 'path = "dta"')
    code, _, err = run_main("--config", site.config_path, "--now", "2026-11-03T10:00", *command, capsys=capsys)
    assert code == 2
    assert f"there is no store at {site.folder / 'dta'}: check [store] path" in one_line(err)
    assert not (site.folder / "dta").exists()
    assert_untouched(site)


def test_an_empty_store_folder_is_not_a_store(site, capsys):
    (site.folder / "empty").mkdir()
    site.receive(HELLO, at=utc(2026, 11, 3, 9))
    configure(site, 'path = "data"', 'path = "empty"')
    code, _, err = run_main("--config", site.config_path, "--now", "2026-11-03T10:00", "once", capsys=capsys)
    assert code == 2 and "holds no store (no manifest.json" in one_line(err)
    assert_untouched(site)


def test_a_store_written_before_manifests_is_adopted_as_it_is(working):
    manifest = working.folder / "data" / "manifest.json"
    listed = json.loads(manifest.read_text())["files"]
    assert listed == ["index", "ledgers/2026-11", "months/2026-11", "outbox", "roster"]  # index: db/index.py
    manifest.unlink()
    working.once(utc(2026, 11, 3, 10))
    assert json.loads(manifest.read_text()) == {"schema": 1, "files": listed}
    assert len(working.files("processed")) == 1 and len(working.sent()) >= 2


def test_the_daemon_exits_2_on_a_damaged_store_instead_of_polling_it(working, capsys):
    (working.folder / "data" / "roster.json").write_bytes(b"null")
    code, _, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "run", capsys=capsys)
    assert code == 2 and "roster.json holds null" in err.splitlines()[-1]
    assert_untouched(working)
    assert not FolderLock(working.folder / "data", "daemon.lock").path.read_text()  # released


# -- backups -------------------------------------------------------------------------------------

def backups(site) -> list[str]:
    return sorted(p.name for p in (site.folder / "backups").iterdir())


def test_one_checked_backup_a_day_and_only_the_newest_are_kept(site):
    configure(site, "backups_kept = 14", "backups_kept = 3")
    for day in range(2, 8):
        for hour in (0, 9, 23):  # London days: 23:00 UTC on 2 November is still the 2nd in London (GMT)
            site.once(utc(2026, 11, day, hour, 30))
    assert backups(site) == ["data-2026-11-05", "data-2026-11-06", "data-2026-11-07"]
    from db.verify import store_problem

    assert all(store_problem(site.folder / "backups" / name) is None for name in backups(site))


def test_a_backup_is_taken_on_london_days(site):
    site.once(utc(2026, 7, 1, 23, 30))  # 00:30 on 2 July in London (BST)
    assert backups(site) == ["data-2026-07-02"]


def test_restore_lists_backups_then_puts_the_named_one_back_and_keeps_the_damaged_store(working, capsys):
    (working.folder / "data" / "roster.json").write_bytes(b"{}")
    code, out, _ = run_main("--config", working.config_path, "restore", capsys=capsys)
    assert code == 0 and "data-2026-11-02  good" in out and "--from newest" in out
    code, out, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "restore",
                              "--from", "data-2026-11-02", capsys=capsys)
    assert code == 0, err
    aside = working.folder / "data.before-restore-20261103T100000"
    assert f"restored {working.folder / 'data'} from" in out and str(aside) in out
    assert (aside / "roster.json").read_bytes() == b"{}"  # the damaged store is kept, for whoever investigates
    working.once(utc(2026, 11, 3, 10))
    assert len(working.files("processed")) == 1 and working.files("inbox") == []


def test_restore_refuses_while_the_daemon_runs_and_changes_nothing(working, capsys):
    running = FolderLock(working.folder / "data", "daemon.lock")
    running.acquire()
    try:
        code, _, err = run_main("--config", working.config_path, "restore", "--from", "newest", capsys=capsys)
    finally:
        running.release()
    assert code == 3 and "cannot restore while the store is in use: another audit mailbox daemon" in one_line(err)
    assert not list(working.folder.glob("data.*"))


def test_restore_refuses_a_damaged_or_unknown_backup(working, capsys):
    (working.folder / "backups" / "data-2026-11-02" / "roster.json").write_text("[]")
    code, out, _ = run_main("--config", working.config_path, "restore", capsys=capsys)
    assert "data-2026-11-02  DAMAGED" in out
    code, _, err = run_main("--config", working.config_path, "restore", "--from", "data-2026-11-02", capsys=capsys)
    assert code == 2 and "is damaged" in one_line(err)
    code, _, err = run_main("--config", working.config_path, "restore", "--from", "newest", capsys=capsys)
    assert code == 2 and "no good backup" in one_line(err)
    code, _, err = run_main("--config", working.config_path, "restore", "--from", "data-1999-01-01", capsys=capsys)
    assert code == 2 and "there is no backup 'data-1999-01-01'" in one_line(err)


# -- data at rest ----------------------------------------------------------------------------------

def modes(folder: Path) -> set[tuple[str, int]]:
    return {("dir" if p.is_dir() else "file", stat.S_IMODE(p.stat().st_mode)) for p in [folder, *folder.rglob("*")]}


def test_data_mail_and_backups_are_readable_by_the_service_user_only(working):
    working.once(utc(2026, 11, 3, 10))
    for folder in ("data", "backups", "mailbox/sent", "mailbox/processed"):
        assert modes(working.folder / folder) <= {("dir", 0o700), ("file", 0o600)}, folder
    assert stat.S_IMODE(working.folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((working.folder / "roster.csv").stat().st_mode) == 0o600


def test_a_file_rewritten_in_an_old_deployment_becomes_private(working):
    month = working.folder / "data" / "months" / "2026-11.json"
    os.chmod(month, 0o644)
    working.once(utc(2026, 11, 3, 10))  # the submission-less answer still rewrites the ledger, not the month
    issue(working, "2026-11", MONTH_CSV + "ben.hartley@wexcombe.example,CR-40133,monthly\n", utc(2026, 11, 3, 11))
    assert stat.S_IMODE(month.stat().st_mode) == 0o600


# -- operator errors: one line each -------------------------------------------------------------------

@pytest.mark.parametrize("key, path", [("store.path", "data"), ("mailbox.path", "mailbox")])
def test_a_path_that_names_a_file_is_one_line(site, capsys, key, path):
    (site.folder / "a-file").write_text("x")
    section = {"store.path": 'path = "data"', "mailbox.path": 'path = "mailbox"'}[key]
    configure(site, section, 'path = "a-file"')
    code, _, err = run_main("--config", site.config_path, "once", capsys=capsys)
    assert code == 2 and f"config: {key}: {site.folder / 'a-file'} is a file, not a folder" in one_line(err)


@pytest.mark.parametrize("key, folder", [("store.path", "data"), ("mailbox.path", "mailbox")])
def test_a_folder_this_user_cannot_write_is_one_line(site, capsys, monkeypatch, key, folder):
    # Tests run as root, for whom every folder is writable: the check itself is what is tested.
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == site.folder / folder else real(p, mode))
    site.receive(HELLO, at=utc(2026, 11, 3, 9))
    code, _, err = run_main("--config", site.config_path, "once", capsys=capsys)
    assert code == 2 and f"config: {key}: the folder {site.folder / folder} cannot be written" in one_line(err)
    assert_untouched(site)


def test_a_full_disk_is_one_line_and_loses_nothing(working, capsys, monkeypatch):
    real = os.fsync

    def full(fd):
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(os, "fsync", full)
    code, _, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "once", capsys=capsys)
    monkeypatch.undo()
    assert code == 1 and f"the disk holding {working.folder / 'data'} is full" in one_line(err)
    assert "nothing was lost" in err
    assert_untouched(working)
    assert not list((working.folder / "data").rglob("*.tmp"))  # no half-written copies filling it further
    working.once(utc(2026, 11, 3, 10))  # space freed: the message is handled once
    assert len(working.files("processed")) == 1 and working.files("inbox") == []


def test_init_on_a_folder_with_a_configuration_is_one_line_exit_2(site, capsys):
    code, _, err = run_main("init", site.folder, capsys=capsys)
    assert code == 2 and "already exists; init never overwrites a configuration" in one_line(err)


def test_init_never_replaces_an_existing_store(site, capsys):
    site.config_path.unlink()
    code, _, err = run_main("init", site.folder, capsys=capsys)
    assert code == 2 and "already holds a store" in one_line(err)


# -- retention ------------------------------------------------------------------------------------

def test_purge_removes_old_months_and_mail_and_says_what_went(site, capsys):
    configure(site, "retention_months = 84", "retention_months = 2")
    issue(site, "2026-08", MONTH_CSV, utc(2026, 8, 3, 8))
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="old", body="?"), at=utc(2026, 8, 4, 9))
    site.once(utc(2026, 8, 4, 10))
    old_mail = len(site.files("processed")) + len(site.files("sent"))  # the letters, the answer, the message
    issue(site, "2026-10", MONTH_CSV, utc(2026, 10, 1, 8))
    data = site.folder / "data"

    code, out, _ = run_main("--config", site.config_path, "--now", "2026-12-10T10:00", "--dry-run", "purge", capsys=capsys)
    assert code == 0 and out.startswith("dry run, nothing removed; would remove everything before 2026-10")
    assert "data/months/2026-08.json" in out and (data / "months" / "2026-08.json").exists()

    code, out, _ = run_main("--config", site.config_path, "--now", "2026-12-10T10:00", "purge", capsys=capsys)
    assert code == 0
    assert out.startswith(f"removed everything before 2026-10: 2 store file(s) and {old_mail} message(s)")
    assert "  data/ledgers/2026-08.json\n  data/months/2026-08.json\n" in out
    assert not (data / "months" / "2026-08.json").exists() and (data / "months" / "2026-10.json").exists()
    assert site.files("processed") == [] and len(site.files("sent")) == 1  # October's letter stays
    assert json.loads((data / "manifest.json").read_text())["purged_before"] == "2026-10"
    site.once(utc(2026, 12, 10, 10, 30))  # the store still opens: the manifest knows the files are gone


@pytest.mark.parametrize("before, says", [
    ("2026-12", "the current and last month are never purged; --before can be at most 2026-11"),
    ("2026-11", "inside the retention period of 84 months"),
    ("26-1", "--before must be a month like 2019-01"),
])
def test_purge_refuses_recent_months(site, capsys, before, says):
    code, _, err = run_main("--config", site.config_path, "--now", "2026-12-10T10:00", "purge", "--before", before,
                            capsys=capsys)
    assert code == 2 and says in one_line(err)


def test_a_purge_interrupted_after_the_manifest_is_finished_at_the_next_opening(site):
    from db.store import Store

    issue(site, "2026-08", MONTH_CSV, utc(2026, 8, 3, 8))
    data = site.folder / "data"
    with Store(data) as store:
        store.manifest.files -= {"months/2026-08", "ledgers/2026-08"}
        store.manifest.purged_before = "2026-09"
        from db.opening import write_manifest

        write_manifest(data, store.manifest)  # ... and the process died before deleting the files
    with freeze_time(utc(2026, 12, 1)):
        Store(data).close()
    assert not (data / "months" / "2026-08.json").exists()


def test_a_store_folder_deleted_whole_is_refused_then_restored(working, capsys):
    import shutil

    shutil.rmtree(working.folder / "data")
    code, _, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "once", capsys=capsys)
    assert code == 2 and "there is no store at" in one_line(err)
    assert_untouched(working)
    code, out, err = run_main("--config", working.config_path, "restore", "--from", "newest", capsys=capsys)
    assert code == 0 and "kept in" not in out, err  # nothing to set aside
    working.once(utc(2026, 11, 3, 10))
    assert len(working.files("processed")) == 1


@pytest.mark.parametrize("journal, says", [
    (b"\x00garbage", "cannot be read"),
    (b'["not", "a", "journal"]', "cannot be read"),
    (json.dumps({"/tmp/auditmail-elsewhere.json": "{}"}).encode(), "names a file outside the store"),
])
def test_a_damaged_or_foreign_journal_stops_the_command_and_writes_nothing(working, capsys, journal, says):
    (working.folder / "data" / "journal.json").write_bytes(journal)
    code, out, err = run_main("--config", working.config_path, "--now", "2026-11-03T10:00", "once", capsys=capsys)
    assert code == 2 and says in one_line(err)
    assert not Path("/tmp/auditmail-elsewhere.json").exists()
    assert_untouched(working)
