"""The write-ahead log after the worst days: a power cut that left blocks unwritten, a fold that fails.

Two findings of a review, each a story: what the disk holds afterwards, what the next opening makes
of it, and that no commit the service was told had succeeded is lost or taken back.
"""
import errno
import logging

import pytest

from core.errors import StoreUnusable
from db.store import Store
from db.wal import WAL_NAME, WriteAheadLog
from test_store_log import a_store, items as values, on_disk

pytestmark = pytest.mark.durable  # about durability: real fsync (tests/conftest.py)

BLOCK = 4096  # the filesystem block: what a power cut writes or loses whole


def a_pass_cut_by_a_power_cut(folder) -> bytes:
    """A daemon's pass: one handled message (fsync'd), then letters recorded as sent, left to the next
    fsync, which never comes: the power goes. Returns the log as the page cache held it."""
    store = Store(folder, logged=True)
    with store.transaction():
        store.table("months/2026-11", "items").insert({"value": 2})
    for value in range(3, 30):  # a few blocks' worth of lines
        with store.transaction(durable=False):
            store.table("ledgers/2026-11", "items").insert({"value": value, "to": "aisha.patel@wexcombe.example",
                                                            "note": "letter recorded as sent " * 15})
    store._lock.release()  # the machine stopped: nothing more runs, not even close()
    return (folder / WAL_NAME).read_bytes()


def test_blocks_a_power_cut_never_wrote_read_as_nuls_and_end_the_log_like_a_torn_append(tmp_path, caplog):
    a_store(tmp_path)
    log = a_pass_cut_by_a_power_cut(tmp_path)
    assert len(log) > 3 * BLOCK
    # XFS or ext4 data=writeback: the new size reached the disk, the log's second block did not.
    (tmp_path / WAL_NAME).write_bytes(log[:BLOCK] + bytes(BLOCK) + log[2 * BLOCK:])
    whole = log[:BLOCK].count(b"\n")  # lines that end before the lost block; line 1 is the handled message
    caplog.set_level(logging.WARNING, logger="auditmail.store")
    assert values(tmp_path, "months/2026-11") == [1, 2]
    assert values(tmp_path, "ledgers/2026-11") == [1] + list(range(3, 3 + whole - 1))
    assert f"line {whole + 1} holds NUL bytes" in caplog.text
    with Store(tmp_path, logged=True) as store:  # the daemon comes back: it folds what is whole, then goes on
        assert not (tmp_path / WAL_NAME).exists()
        with store.transaction():
            store.table("months/2026-11", "items").insert({"value": 30})
    assert on_disk(tmp_path, "months/2026-11") == [1, 2, 30]
    assert on_disk(tmp_path, "ledgers/2026-11") == [1] + list(range(3, 3 + whole - 1))


def test_the_next_append_goes_where_the_last_whole_line_before_the_nuls_ended(tmp_path):
    a_store(tmp_path)
    log = a_pass_cut_by_a_power_cut(tmp_path)
    first = log.index(b"\n") + 1
    # A line made wholly of NULs this time, with whole lines after it that must not be kept either.
    (tmp_path / WAL_NAME).write_bytes(log[:first] + bytes(300) + b"\n" + log[first:])
    wal = WriteAheadLog(tmp_path)
    assert list(wal.read()) == ["months/2026-11"] and wal.size == first
    wal.append([["ledgers/2026-11", "items", "9", {"value": 9}]])
    assert (tmp_path / WAL_NAME).read_bytes() == log[:first] + b'{"c":[["ledgers/2026-11","items","9",{"value":9}]]}\n'


def test_a_garbled_line_with_no_nul_is_still_damage_wherever_it_is(tmp_path):
    a_store(tmp_path)
    log = a_pass_cut_by_a_power_cut(tmp_path)
    first = log.index(b"\n") + 1
    (tmp_path / WAL_NAME).write_bytes(log[:first] + b'{"c":[["months/2026-11","items","2",{"value":\n' + log[first:])
    with pytest.raises(StoreUnusable, match="line 2 is not valid JSON"):
        Store(tmp_path, writer=False)


def failing(*args, **kwargs):
    raise OSError(errno.EIO, "Input/output error")


@pytest.mark.parametrize("step", ["db.wal.remove_durably", "db.journal.write_atomic"], ids=["remove", "write"])
def test_a_commit_that_reached_the_log_stands_when_the_fold_it_starts_fails(tmp_path, monkeypatch, caplog, step):
    a_store(tmp_path)
    monkeypatch.setattr("db.journal.FOLD_BYTES", 1)  # a month-end surge: every commit passes the size that folds
    store = Store(tmp_path, logged=True)
    monkeypatch.setattr(step, failing)
    caplog.set_level(logging.WARNING, logger="auditmail.store")
    with store.transaction():  # the intake's commit of a handled message: it must not be given back
        store.table("months/2026-11", "items").insert({"value": 2})
        store.table("ledgers/2026-11", "items").insert({"value": 2})
    assert "fold" in caplog.text and "left for later" in caplog.text
    with store.transaction():  # and the pass goes on
        store.table("ledgers/2026-11", "items").insert({"value": 3})
    assert [row["value"] for row in store.table("ledgers/2026-11", "items").all()] == [1, 2, 3]
    monkeypatch.undo()  # the disk recovers
    assert values(tmp_path, "ledgers/2026-11") == [1, 2, 3]  # a reader sees each change once
    store.close()  # the fold left for later is done at close
    assert not (tmp_path / WAL_NAME).exists()
    assert on_disk(tmp_path, "months/2026-11") == [1, 2] and on_disk(tmp_path, "ledgers/2026-11") == [1, 2, 3]


def test_a_fold_still_failing_is_not_tried_again_at_every_commit(tmp_path, monkeypatch):
    a_store(tmp_path)
    monkeypatch.setattr("db.journal.FOLD_BYTES", 400)
    store = Store(tmp_path, logged=True)
    tried = []
    monkeypatch.setattr("db.wal.remove_durably", lambda path: tried.append(path) or failing())
    for value in range(2, 12):  # each line is ~50 bytes: the log passes 400 bytes at the 8th
        with store.transaction():
            store.table("ledgers/2026-11", "items").insert({"value": value})
    assert len(tried) == 1, "tried again only once the log has grown by FOLD_BYTES more"
    monkeypatch.undo()
    store.close()
    assert sorted(on_disk(tmp_path, "ledgers/2026-11")) == list(range(1, 12))  # keys sort as text: "10" < "2"
