"""The store keeps the old state or the new one through a crash at any instant, and has one writer."""
import json
import os
import subprocess
import sys

import pytest

from core.errors import DiskFull, StoreError, StoreLocked, StoreUnusable
from db.store import Store
from db.journal import JOURNAL_NAME

pytestmark = pytest.mark.durable  # about durability: real fsync (tests/conftest.py)


def write(store: Store, file: str, value: int) -> None:
    with store.transaction():
        table = store.table(file, "items")
        table.truncate()
        table.insert({"value": value})


def value(folder, file: str) -> int | None:
    with Store(folder) as store:
        rows = store.table(file, "items").all()
    return rows[0]["value"] if rows else None


class Crash(Exception):
    """Stands for the process dying at that instant."""


def crash_on_call(monkeypatch, target: str, number: int):
    """Make the `number`-th call of os.replace (or os.fsync) raise, as if the power went then."""
    real = getattr(os, target)
    calls = {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == number:
            raise Crash(f"power cut during {target} #{number}")
        return real(*args, **kwargs)

    monkeypatch.setattr(os, target, failing)


def test_a_crash_between_write_and_rename_leaves_the_old_state(tmp_path, monkeypatch):
    with Store(tmp_path, create=True) as store:
        write(store, "months/2026-11", 1)
    store = Store(tmp_path)
    crash_on_call(monkeypatch, "replace", 1)
    with pytest.raises(Crash):
        write(store, "months/2026-11", 2)
    monkeypatch.undo()
    store.close()
    assert (tmp_path / "months" / "2026-11.json.tmp").exists()  # the new file was written, not renamed
    assert value(tmp_path, "months/2026-11") == 1
    assert not (tmp_path / "months" / "2026-11.json.tmp").exists()  # reopening cleared the leftover


KILLED_MID_COMMIT = """
import os, sys
from db.store import Store
store = Store(sys.argv[1])
real, calls = os.replace, []
def dying(*args):
    calls.append(args)
    if len(calls) == 3:      # 1: the journal in place, 2: the month file applied, 3: the ledger, never
        os._exit(9)          # killed: no exception handler, no clean-up runs
    return real(*args)
os.replace = dying
with store.transaction():
    store.table("months/2026-11", "items").update({"value": 2})
    store.table("ledgers/2026-11", "items").update({"value": 2})
"""


def test_a_process_killed_while_committing_several_files_is_finished_on_restart(tmp_path):
    with Store(tmp_path, create=True) as store:
        with store.transaction():
            store.table("months/2026-11", "items").insert({"value": 1})
            store.table("ledgers/2026-11", "items").insert({"value": 1})
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_COMMIT, str(tmp_path)],
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert killed.returncode == 9
    assert (tmp_path / JOURNAL_NAME).exists()
    assert json.loads((tmp_path / "ledgers" / "2026-11.json").read_text())["items"]["1"]["value"] == 1
    assert value(tmp_path, "months/2026-11") == 2 and value(tmp_path, "ledgers/2026-11") == 2
    assert not (tmp_path / JOURNAL_NAME).exists()


def test_a_failed_commit_is_not_taken_for_a_done_one_by_the_same_process(tmp_path, monkeypatch):
    # The disk fills while the journal is written: the process lives on, and must not believe its own
    # memory (the handled mark without the submission) at the next pass.
    with Store(tmp_path, create=True) as store:
        write(store, "months/2026-11", 1)
        real = os.replace

        def disk_full(src, dst):
            if str(dst).endswith(JOURNAL_NAME):
                raise OSError(28, "No space left on device")
            return real(src, dst)

        monkeypatch.setattr(os, "replace", disk_full)
        with pytest.raises(DiskFull, match="disk holding .* is full"):
            with store.transaction():
                store.table("months/2026-11", "items").update({"value": 2})
                store.table("ledgers/2026-11", "items").insert({"value": 2})
        monkeypatch.undo()
        assert store.table("months/2026-11", "items").all() == [{"value": 1}]
        assert store.table("ledgers/2026-11", "items").all() == []


def test_a_journal_left_by_a_failed_commit_is_finished_before_newer_writes(tmp_path, monkeypatch):
    with Store(tmp_path, create=True) as store:
        write(store, "months/2026-11", 1)
        real, calls = os.replace, []

        def failing_second(src, dst):
            calls.append(dst)
            if len(calls) == 2:  # the journal is in place; applying the first file fails
                raise OSError(5, "I/O error")
            return real(src, dst)

        monkeypatch.setattr(os, "replace", failing_second)
        monkeypatch.setattr(Store, "_reload", lambda self: self._dbs.clear())  # the disk is still failing
        with pytest.raises(StoreError):
            with store.transaction():
                store.table("months/2026-11", "items").update({"value": 2})
                store.table("ledgers/2026-11", "items").insert({"value": 2})
        monkeypatch.undo()
        assert (tmp_path / JOURNAL_NAME).exists()
        write(store, "months/2026-11", 3)  # newer than the journal: must survive it
    assert value(tmp_path, "months/2026-11") == 3 and value(tmp_path, "ledgers/2026-11") == 2


def test_a_crash_before_the_journal_is_in_place_changes_neither_file(tmp_path, monkeypatch):
    with Store(tmp_path, create=True) as store:
        with store.transaction():
            store.table("months/2026-11", "items").insert({"value": 1})
            store.table("ledgers/2026-11", "items").insert({"value": 1})
    store = Store(tmp_path)
    crash_on_call(monkeypatch, "replace", 1)
    with pytest.raises(Crash):
        with store.transaction():
            store.table("months/2026-11", "items").update({"value": 2})
            store.table("ledgers/2026-11", "items").update({"value": 2})
    monkeypatch.undo()
    store.close()
    assert value(tmp_path, "months/2026-11") == 1 and value(tmp_path, "ledgers/2026-11") == 1


def test_an_error_inside_a_transaction_changes_nothing_on_disk_or_in_memory(tmp_path):
    with Store(tmp_path, create=True) as store:
        write(store, "roster", 1)
        with pytest.raises(ValueError):
            with store.transaction():
                store.table("roster", "items").update({"value": 99})
                store.table("outbox", "items").insert({"value": 99})
                raise ValueError("handler bug")
        assert store.table("roster", "items").all() == [{"value": 1}]
        assert store.table("outbox", "items").all() == []
    assert value(tmp_path, "roster") == 1 and not (tmp_path / "outbox.json").exists()


def test_a_second_writer_is_refused_with_a_clear_message(tmp_path):
    with Store(tmp_path, create=True):
        with pytest.raises(StoreLocked, match="is using"):
            Store(tmp_path)
        other = subprocess.run(
            [sys.executable, "-c", f"from db.store import Store; Store({str(tmp_path)!r})"],
            capture_output=True, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
        assert other.returncode != 0 and "is using" in other.stderr
    Store(tmp_path, create=True).close()  # released with the first


def test_a_damaged_file_is_reported_not_silently_emptied(tmp_path):
    (tmp_path / "roster.json").write_text("{ not json", encoding="utf-8")
    with pytest.raises(StoreUnusable, match="roster.json is not valid JSON"):
        Store(tmp_path)


# -- the manifest: the store knows what it should hold ------------------------------------------------

def listed(folder) -> list[str]:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]


def test_a_commit_that_adds_a_file_adds_it_to_the_manifest_in_the_same_write(tmp_path):
    with Store(tmp_path, create=True) as store:
        assert not (tmp_path / "manifest.json").exists()  # an empty new store is written with its first file
        write(store, "roster", 1)
        assert listed(tmp_path) == ["roster"]
        write(store, "roster", 2)
        write(store, "months/2026-11", 1)
    assert listed(tmp_path) == ["months/2026-11", "roster"]


KILLED_ADDING_A_FILE = """
import os, sys
from db.store import Store
store = Store(sys.argv[1])
real, calls = os.replace, []
def dying(*args):
    calls.append(args)
    if len(calls) == 2:      # 1: the journal in place, 2: the new month file, never
        os._exit(9)
    return real(*args)
os.replace = dying
with store.transaction():
    store.table("months/2026-12", "items").insert({"value": 1})
"""


def test_a_process_killed_while_adding_a_file_leaves_file_and_manifest_agreeing(tmp_path):
    with Store(tmp_path, create=True) as store:
        write(store, "roster", 1)
    killed = subprocess.run([sys.executable, "-c", KILLED_ADDING_A_FILE, str(tmp_path)],
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    assert killed.returncode == 9 and listed(tmp_path) == ["roster"]
    assert value(tmp_path, "months/2026-12") == 1  # the journal is replayed: the file, then the list
    assert listed(tmp_path) == ["months/2026-12", "roster"]


def test_a_file_gone_from_under_the_store_is_damage_not_an_empty_table(tmp_path):
    with Store(tmp_path, create=True) as store:
        write(store, "roster", 1)
        write(store, "ledgers/2026-11", 1)
    (tmp_path / "ledgers" / "2026-11.json").unlink()
    with pytest.raises(StoreUnusable, match=r"ledgers/2026-11.json is listed in the store's manifest but missing"):
        Store(tmp_path)
    with pytest.raises(StoreUnusable, match="no store at"):
        Store(tmp_path / "mistyped")
    assert not (tmp_path / "mistyped").exists()


def test_files_and_folders_are_private_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        with Store(tmp_path / "data", create=True) as store:
            write(store, "months/2026-11", 1)
            write(store, "ledgers/2026-11", 1)
    finally:
        os.umask(old)
    for path in [tmp_path / "data", tmp_path / "data" / "months", tmp_path / "data" / "manifest.json",
                 tmp_path / "data" / "months" / "2026-11.json", tmp_path / "data" / "store.lock"]:
        assert os.stat(path).st_mode & 0o777 == (0o700 if path.is_dir() else 0o600), path


def test_a_full_disk_leaves_the_old_file_and_no_half_written_copy(tmp_path, monkeypatch):
    with Store(tmp_path, create=True) as store:
        write(store, "months/2026-11", 1)

        def full(fd):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", full)
        with pytest.raises(DiskFull, match="is full; the pass stopped and nothing was lost"):
            write(store, "months/2026-11", 2)
        monkeypatch.undo()
    assert value(tmp_path, "months/2026-11") == 1
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_backup_is_a_checked_copy_taken_once_a_day_and_rotated(tmp_path):
    from db.verify import store_problem

    with Store(tmp_path / "data", create=True) as store:
        write(store, "roster", 1)
        for day in ("2026-11-01", "2026-11-02", "2026-11-02", "2026-11-03"):
            store.back_up(tmp_path / "backups", day, kept=2)
            write(store, "roster", int(day[-1]) + 10)
    assert sorted(p.name for p in (tmp_path / "backups").iterdir()) == ["data-2026-11-02", "data-2026-11-03"]
    assert store_problem(tmp_path / "backups" / "data-2026-11-02") is None
    assert value(tmp_path / "backups" / "data-2026-11-02", "roster") == 11  # the day's first state, not a later one
