"""The write-ahead log: a transaction is one small fsync'd append, and a crash at any instant loses nothing committed."""
import json
import os
import subprocess
import sys

import pytest

from core.errors import DiskFull, StoreUnusable
from core.reference import Reference
from db.store import Store
from db.wal import WAL_NAME

pytestmark = pytest.mark.durable  # about durability: real fsync (tests/conftest.py)

ROOT = os.path.dirname(os.path.dirname(__file__))


def items(folder, file: str) -> list[int]:
    with Store(folder, writer=False) as store:
        return [row["value"] for row in store.table(file, "items").all()]


def on_disk(folder, file: str) -> list[int]:
    return [row["value"] for row in json.loads((folder / f"{file}.json").read_text())["items"].values()]


def a_store(tmp_path) -> None:
    with Store(tmp_path, create=True) as store:
        with store.transaction():
            store.table("months/2026-11", "items").insert({"value": 1})
            store.table("ledgers/2026-11", "items").insert({"value": 1})


def logged_store_counting_fsyncs(tmp_path, monkeypatch) -> tuple[Store, list]:
    """A logged store whose log already exists (its first line is made), and the list each fsync from now on joins."""
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    with store.transaction():
        store.table("months/2026-11", "items").insert({"value": 0})
    real, synced = os.fsync, []
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    return store, synced


def test_a_commit_is_one_append_and_one_fsync_and_the_files_change_at_close(tmp_path, monkeypatch):
    store, synced = logged_store_counting_fsyncs(tmp_path, monkeypatch)
    with store.transaction():
        store.table("months/2026-11", "items").update({"value": 2})
        store.table("ledgers/2026-11", "items").insert({"value": 2})
    monkeypatch.undo()
    assert len(synced) == 1
    assert on_disk(tmp_path, "months/2026-11") == [1]  # not rewritten yet
    assert items(tmp_path, "months/2026-11") == [2, 2]  # a reader sees the log laid over the file
    store.close()
    assert on_disk(tmp_path, "months/2026-11") == [2, 2] and on_disk(tmp_path, "ledgers/2026-11") == [1, 2]
    assert not (tmp_path / WAL_NAME).exists()


KILLED_BEFORE_THE_FOLD = """
import os, sys
from db.store import Store
store = Store(sys.argv[1], logged=True)
with store.transaction():
    store.table("months/2026-11", "items").update({"value": 2})
    store.table("ledgers/2026-12", "items").insert({"value": 2})
os._exit(9)  # killed: the files were never rewritten, only the log holds the change
"""

KILLED_DURING_THE_FOLD = KILLED_BEFORE_THE_FOLD.replace("os._exit(9)  #", """real, calls = os.replace, []
def dying(*args):
    calls.append(args)
    if len(calls) == 2:      # 1: the fold's journal in place, 2: the first file, never
        os._exit(9)
    return real(*args)
os.replace = dying
store.close()
#""")


@pytest.mark.parametrize("script", [KILLED_BEFORE_THE_FOLD, KILLED_DURING_THE_FOLD], ids=["before", "during"])
def test_a_process_killed_before_or_during_the_fold_loses_nothing_it_committed(tmp_path, script):
    a_store(tmp_path)
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT)
    assert killed.returncode == 9 and (tmp_path / WAL_NAME).exists()
    with Store(tmp_path) as store:  # the next opening folds the log, checked, into the files
        assert not (tmp_path / WAL_NAME).exists()
        assert store.files("ledgers") == ["ledgers/2026-11", "ledgers/2026-12"]
    assert on_disk(tmp_path, "months/2026-11") == [2] and on_disk(tmp_path, "ledgers/2026-12") == [2]
    assert "ledgers/2026-12" in json.loads((tmp_path / "manifest.json").read_text())["files"]


KILLED_AFTER_A_COMMIT_LEFT_TO_THE_NEXT_FSYNC = KILLED_BEFORE_THE_FOLD.replace(
    "with store.transaction():", "with store.transaction(durable=False):")


def test_a_commit_left_to_the_next_fsync_costs_none_and_the_next_commit_makes_both_durable(tmp_path, monkeypatch):
    store, synced = logged_store_counting_fsyncs(tmp_path, monkeypatch)
    with store.transaction(durable=False):  # an attempt count, or the record that a letter went
        store.table("ledgers/2026-11", "items").insert({"value": 3})
    assert synced == []
    store.sync()
    store.sync()  # nothing new to flush: no second fsync
    assert len(synced) == 1
    with store.transaction(durable=False):
        store.table("ledgers/2026-11", "items").insert({"value": 4})
    with store.transaction():  # the handling's own commit: one fsync carries the line before it too
        store.table("months/2026-11", "items").insert({"value": 5})
    monkeypatch.undo()
    assert len(synced) == 2
    store.close()
    assert on_disk(tmp_path, "ledgers/2026-11") == [1, 3, 4] and on_disk(tmp_path, "months/2026-11") == [1, 0, 5]


def test_a_killed_process_keeps_a_commit_left_to_the_next_fsync(tmp_path):
    a_store(tmp_path)
    killed = subprocess.run([sys.executable, "-c", KILLED_AFTER_A_COMMIT_LEFT_TO_THE_NEXT_FSYNC, str(tmp_path)],
                            cwd=ROOT)
    assert killed.returncode == 9
    assert items(tmp_path, "months/2026-11") == [2] and items(tmp_path, "ledgers/2026-12") == [2]


def test_an_append_cut_short_by_a_crash_was_never_committed_and_is_cut_off(tmp_path):
    a_store(tmp_path)
    with Store(tmp_path, logged=True) as store:
        with store.transaction():
            store.table("months/2026-11", "items").update({"value": 2})
        with (tmp_path / WAL_NAME).open("ab") as log:
            log.write(b'{"c":[["months/2026-11","items","1",{"val')  # the power went mid-write
        assert items(tmp_path, "months/2026-11") == [2]
        store._journal.wal.size = (tmp_path / WAL_NAME).stat().st_size - 41  # as if this process had written it
        with store.transaction():
            store.table("months/2026-11", "items").update({"value": 3})
    assert on_disk(tmp_path, "months/2026-11") == [3]


@pytest.mark.parametrize("line, problem", [
    (b"not json\n", "line 1 is not valid JSON"),
    (b'{"c":[["months/2026-11","items","x",{}]]}\n', "line 1 holds a change that is not one"),
    (b'{"c":[["months/2026-11","allocations","1",{"reference":7}]]}\n', "has no valid 'reference'"),
], ids=["garbled", "bad id", "wrong shape"])
def test_a_damaged_log_stops_the_store_opening_like_a_damaged_file(tmp_path, line, problem):
    a_store(tmp_path)
    (tmp_path / WAL_NAME).write_bytes(line + b'{"c":[]}\n')
    with pytest.raises(StoreUnusable, match=problem):
        Store(tmp_path)
    with pytest.raises(StoreUnusable, match=problem):
        Store(tmp_path, writer=False)
    assert on_disk(tmp_path, "months/2026-11") == [1]  # nothing was folded from it


def test_a_full_disk_while_appending_changes_nothing_and_the_next_commit_works(tmp_path, monkeypatch):
    a_store(tmp_path)
    with Store(tmp_path, logged=True) as store:
        with store.transaction():
            store.table("months/2026-11", "items").update({"value": 2})
        real = os.fsync

        def disk_full(fd):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(os, "fsync", disk_full)
        with pytest.raises(DiskFull):
            with store.transaction():
                store.table("months/2026-11", "items").update({"value": 3})
                store.table("ledgers/2026-11", "items").insert({"value": 3})
        monkeypatch.setattr(os, "fsync", real)
        assert [r["value"] for r in store.table("months/2026-11", "items").all()] == [2]
        assert [r["value"] for r in store.table("ledgers/2026-11", "items").all()] == [1]
        with store.transaction():
            store.table("ledgers/2026-11", "items").insert({"value": 4})
    assert on_disk(tmp_path, "months/2026-11") == [2] and on_disk(tmp_path, "ledgers/2026-11") == [1, 4]


def test_a_closed_store_leaves_no_cycle_holding_its_data(tmp_path):
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    store.table("months/2026-11", "items").all()
    journal = store._journal
    store.close()
    assert journal._storages == [] and journal._unfolded == {}


def a_request(reference: str, state: str) -> dict:
    return {"reference": reference, "state": state, "history": [], "month": Reference.parse(reference).month}


def test_a_pass_reads_again_only_the_months_that_hold_open_requests_or_changed(tmp_path):
    from db.items import ItemRepo
    from workflows import exemptions

    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2025-01-001", "approved"))
            ItemRepo(store).add(a_request("EXM-2026-11-001", "awaiting_hos"))
    read = []
    months_read = lambda: sorted({f for f in read if f.startswith("months/")})  # noqa: E731 - the index is read too
    with Store(tmp_path, logged=True) as store:
        real = store.table
        store.table = lambda file, name: read.append(file) or real(file, name)
        assert [r["reference"] for r in ItemRepo(store).open_items(exemptions.KIND)] == ["EXM-2026-11-001"]
    assert months_read() == ["months/2025-01", "months/2026-11"]  # the index covers them from now on
    read.clear()
    with Store(tmp_path, logged=True) as store:
        real = store.table
        store.table = lambda file, name: read.append(file) or real(file, name)
        assert [r["reference"] for r in ItemRepo(store).open_items(exemptions.KIND)] == ["EXM-2026-11-001"]
        assert months_read() == ["months/2026-11"]  # the settled month is not read again
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2025-01-002", "awaiting_hos"))  # only in the log so far
        assert [r["reference"] for r in ItemRepo(store).open_items(exemptions.KIND)] == \
            ["EXM-2025-01-002", "EXM-2026-11-001"]


def test_a_fold_writes_each_file_once_without_a_journal_because_the_log_can_finish_it(tmp_path, monkeypatch):
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    with store.transaction():
        store.table("months/2026-11", "items").update({"value": 2})
        store.table("ledgers/2026-12", "items").insert({"value": 2})  # a new file: the manifest too
    import db.files
    real, written = db.files.write_atomic, []
    monkeypatch.setattr("db.journal.write_atomic", lambda path, text: written.append(path.name) or real(path, text))
    store.close()
    assert written == ["2026-11.json", "2026-12.json", "manifest.json"]  # no journal.json: half the bytes
    assert on_disk(tmp_path, "months/2026-11") == [2] and on_disk(tmp_path, "ledgers/2026-12") == [2]


class PowerCut(BaseException):
    """The machine stops: nothing after this point is written."""


def test_a_power_cut_during_a_fold_never_keeps_half_of_a_commit_left_to_the_next_fsync(tmp_path, monkeypatch):
    import db.wal
    from db.journal import Journal
    synced = {"size": 0}  # how much of the log an fsync has made durable: all a power cut keeps

    def tracking(fd, real=db.wal.fsync):
        real(fd)
        if os.path.samefile(f"/proc/self/fd/{fd}", tmp_path / WAL_NAME):
            synced["size"] = os.fstat(fd).st_size
    monkeypatch.setattr(db.wal, "fsync", tracking)
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    with store.transaction():
        store.table("months/2026-11", "items").insert({"value": 2})
    with store.transaction(durable=False):  # the record that a letter went: two files, one commit
        store.table("months/2026-11", "items").insert({"value": 3})
        store.table("ledgers/2026-11", "items").insert({"value": 3})
    real_apply, written = Journal._apply, []

    def one_file_then_the_power_goes(staged):
        for path, text in staged.items():
            if written:
                raise PowerCut()
            real_apply({path: text})
            written.append(path.name)
    monkeypatch.setattr(Journal, "_apply", staticmethod(one_file_then_the_power_goes))
    with pytest.raises(PowerCut):
        store.fold()
    monkeypatch.undo()
    store._lock.release()
    with open(tmp_path / WAL_NAME, "r+b") as log:
        log.truncate(synced["size"])  # the page cache is gone; what was fsync'd stays
    assert items(tmp_path, "months/2026-11") == [1, 2, 3] and items(tmp_path, "ledgers/2026-11") == [1, 3]
