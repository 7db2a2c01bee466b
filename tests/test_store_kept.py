"""A daemon's store between passes: the lock let go, what was read kept, and never trusted once another writer was in."""
import errno
import os

import pytest

from core.errors import StoreError, StoreLocked
from db.store import Store
from db.kept import MARK, stamp
from db.roster import RosterRepo
from db.wal import WAL_NAME
from test_store_log import a_store, items, on_disk
from workflows.roster import Person

pytestmark = pytest.mark.durable  # about durability: real fsync (tests/conftest.py)

MONTH = "months/2026-11"


def a_paused_store(tmp_path, *, fold: bool = False) -> Store:
    """The daemon's store after a pass that committed one record (value 2), now paused."""
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    with store.transaction():
        store.table(MONTH, "items").insert({"value": 2})
    store.pause(fold=fold)
    return store


def test_a_pass_with_mail_leaves_its_log_unfolded_and_lets_other_writers_in(tmp_path):
    store = a_paused_store(tmp_path)
    assert (tmp_path / WAL_NAME).exists() and on_disk(tmp_path, MONTH) == [1], "not folded after one message"
    assert items(tmp_path, MONTH) == [1, 2], "a reader (status) sees the logged commit all the same"
    with Store(tmp_path, logged=True) as other:  # `issue` gets in: the lock is free
        assert [r["value"] for r in other.table(MONTH, "items").all()] == [1, 2]
    store.close()


def test_a_pass_with_no_mail_folds_the_log(tmp_path):
    store = a_paused_store(tmp_path, fold=True)
    assert not (tmp_path / WAL_NAME).exists() and on_disk(tmp_path, MONTH) == [1, 2]
    store.close()


def test_resuming_when_nobody_wrote_keeps_what_was_read_and_a_kill_then_loses_nothing(tmp_path):
    store = a_paused_store(tmp_path)
    table = store.table(MONTH, "items")
    assert store.resume() is True
    assert store.table(MONTH, "items") is table, "the month is not read again"
    with store.transaction():
        table.insert({"value": 3})
    store._lock.release()  # killed: no close, no fold
    assert items(tmp_path, MONTH) == [1, 2, 3]
    with Store(tmp_path, logged=True) as reopened:  # the next opening folds what the killed daemon logged
        assert [r["value"] for r in reopened.table(MONTH, "items").all()] == [1, 2, 3]
    assert on_disk(tmp_path, MONTH) == [1, 2, 3] and not (tmp_path / WAL_NAME).exists()


@pytest.mark.parametrize("fold", [False, True], ids=["log-unfolded", "log-folded"])
def test_after_another_writer_the_paused_store_lets_go_and_its_old_memory_is_never_written(tmp_path, fold):
    store = a_paused_store(tmp_path, fold=fold)
    store.table(MONTH, "items")  # held in memory, as the month in play is
    with Store(tmp_path, logged=True) as other, other.transaction():  # `issue` or an import meanwhile
        other.table(MONTH, "items").update({"value": 20}, doc_ids=[2])
    assert store.resume() is False, "another writer was in: what the daemon holds is out of date"
    store.close()
    assert items(tmp_path, MONTH) == [1, 20], "the other writer's change stands"
    with Store(tmp_path, logged=True) as fresh:  # and the lock was let go
        assert [r["value"] for r in fresh.table(MONTH, "items").all()] == [1, 20]


def test_pass_after_pass_the_mark_and_the_lock_note_stay_as_they_are(tmp_path, monkeypatch):
    # A month-end trickle: the mark stays where the first pause left it, and the lock file keeps the
    # daemon's pid between passes. Making a file and removing it again at every pass cost more than
    # anything else a one-message pass does to the store.
    store = a_paused_store(tmp_path)
    real_open, made = os.open, []
    monkeypatch.setattr(os, "open", lambda path, flags, *mode: (made.append(os.fspath(path)) if flags & os.O_CREAT
                                                               else None, real_open(path, flags, *mode))[1])
    for value in (3, 4):
        assert store.resume() is True
        with store.transaction():
            store.table(MONTH, "items").insert({"value": value})
        store.pause()
        assert (tmp_path / "store.lock").read_text() == str(os.getpid()), "the daemon's pid, as the last pass wrote it"
    assert not [path for path in made if path.endswith(MARK)], "the mark was made again"
    assert items(tmp_path, MONTH) == [1, 2, 3, 4]  # a reader (`status`) between passes removes nothing
    assert store.resume() is True
    store.close()
    assert not (tmp_path / MARK).exists() and (tmp_path / "store.lock").read_text() == ""


def test_readers_between_passes_keep_the_service_but_any_writer_is_seen(tmp_path):
    store = a_paused_store(tmp_path, fold=True)
    for _ in range(3):  # `status` and `report` as often as the QA team likes: they take no lock, write nothing
        assert items(tmp_path, MONTH) == [1, 2]
    assert store.resume() is True, "nobody wrote: what was read is still the truth"
    store.pause()
    with Store(tmp_path, logged=True) as other, other.transaction():
        other.table("ledgers/2026-11", "items").insert({"value": 5})  # a file the daemon never read
    # Its stamps alone would pass (nothing the daemon holds changed), but a writer was in: once in a
    # while (`issue`, `roster import`) the service is opened afresh rather than trust what inode
    # numbers and timestamps seem to say (db/kept.py).
    assert store.resume() is False
    store.close()
    assert items(tmp_path, "ledgers/2026-11") == [1, 5]
    assert not (tmp_path / MARK).exists(), "no mark is left in the folder"


def test_a_daemon_locked_out_closes_without_folding_so_a_killed_writers_log_survives(tmp_path):
    store = a_paused_store(tmp_path)
    store.table(MONTH, "items")  # held in memory
    other = Store(tmp_path, logged=True)  # `issue` gets in, commits, and is killed before its fold
    with other.transaction():
        other.table(MONTH, "items").update({"value": 20}, doc_ids=[2])
    with pytest.raises(StoreLocked):
        store.resume(wait_seconds=0)
    other._lock.release()
    store.close()  # the daemon stops: it must not fold its memory (value 2) over the log holding 20
    assert items(tmp_path, MONTH) == [1, 20]


def test_a_file_written_twice_that_comes_back_with_its_old_stamp_is_still_seen_as_changed(tmp_path):
    # Inode numbers are reused: on ext4 a file replaced twice (a new file renamed over it each time)
    # commonly gets its first inode back. Size and mtime then decide alone, and two writes in the same
    # tick of the file system's clock (a second, on ext4 with small inodes or many network shares)
    # leave the mtime as it was: os.utime plays that coarse clock here.
    store = a_paused_store(tmp_path, fold=True)
    store.table(MONTH, "items")  # held in memory
    path = tmp_path / f"{MONTH}.json"
    before = os.stat(path)
    for attempt in range(8):  # commands one after another, each rewriting the month, same size as before
        with Store(tmp_path) as other, other.transaction():
            other.table(MONTH, "items").update({"value": 3 + attempt % 2}, doc_ids=[2])
        if os.stat(path).st_ino == before.st_ino:
            break  # its first inode back (most often within a few writes on ext4)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    same = stamp(path) == (before.st_ino, before.st_size, before.st_mtime_ns)
    assert store.resume() is False, f"another writer was in (stamps {'the same' if same else 'changed'})"
    store.close()
    with Store(tmp_path, logged=True) as fresh:
        assert [r["value"] for r in fresh.table(MONTH, "items").all()] == [1, 3 + attempt % 2]


def test_the_roster_is_read_again_by_a_store_opened_afresh_even_when_its_file_has_its_old_stamp(tmp_path):
    # The roster is read once per process and kept (db/roster.py), once with its file's stamp alone. The
    # daemon opens its store afresh once a writer was in; that store must not be given the people as they were.
    director = "imogen.thackeray@wexcombe.example"

    def import_roster(name: str) -> None:  # `roster import`: a store without a log, the file replaced whole
        with Store(tmp_path, create=True) as store, store.transaction():
            RosterRepo(store).replace([Person(director, name, ("director",), "Directorate", "")])

    import_roster("Imogen Thackeray")
    path = tmp_path / "roster.json"
    before = os.stat(path)
    with Store(tmp_path, logged=True) as daemons:
        assert RosterRepo(daemons).get(director).name == "Imogen Thackeray"  # read, and kept
    for attempt in range(8):  # the name corrected, twice: the same size each time
        import_roster(("Imogen Thackery", "Imogen Thackerey")[attempt % 2])
        if os.stat(path).st_ino == before.st_ino:
            break
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # a file system with a coarse clock (above)
    with Store(tmp_path, logged=True) as afresh:
        assert RosterRepo(afresh).get(director).name == ("Imogen Thackery", "Imogen Thackerey")[attempt % 2]


def test_a_table_held_across_a_rolled_back_transaction_can_no_longer_write_over_the_log(tmp_path):
    # A rolled-back transaction makes the store read everything afresh (Store._reload): a new journal,
    # a new log object, the log folded away. A table taken before (a repo kept through a loop whose
    # item failed, as scheduled work does) still writes through the old journal, whose log object
    # remembers the old log's length: its append would pad the new log with NULs, which read back as a
    # torn tail, or cut it back, losing commits made since. It must be refused instead.
    a_store(tmp_path)
    store = Store(tmp_path, logged=True)
    held = store.table(MONTH, "items")
    with store.transaction():
        held.insert({"value": 2})  # the log holds one line
    with pytest.raises(ZeroDivisionError), store.transaction():  # an item of scheduled work that fails
        held.insert({"value": 99})
        1 / 0
    with store.transaction():
        store.table(MONTH, "items").insert({"value": 3})  # the next item, through the store as it is now
    with pytest.raises(StoreError):
        held.insert({"value": 4})  # the old table: refused, not written over the log
    store._lock.release()  # killed: what reached the log is what a crash keeps
    assert items(tmp_path, MONTH) == [1, 2, 3]


def test_a_paused_store_refuses_writes_until_it_is_resumed(tmp_path):
    store = a_paused_store(tmp_path, fold=True)
    kept = store.table(MONTH, "items")  # the daemon's memory, kept between passes
    # Each refusal says why, in words an operator can act on: not "read-only", not a failed write.
    with pytest.raises(StoreError, match="paused between the daemon's passes"):
        kept.insert({"value": 3})  # without the lock: another writer may be in at this very moment
    with pytest.raises(StoreError, match="paused"), store.transaction():
        kept.insert({"value": 3})
    for nothing_without_the_lock in (store.fold, lambda: store.purge_before("2026-11")):
        with pytest.raises(StoreError, match="paused"):
            nothing_without_the_lock()
    assert not (tmp_path / WAL_NAME).exists() and items(tmp_path, MONTH) == [1, 2]
    assert store.resume() is True
    kept.insert({"value": 3})
    store.close()
    assert items(tmp_path, MONTH) == [1, 2, 3]


def test_a_disk_failing_as_the_daemon_takes_its_store_back_leaves_the_lock_free(tmp_path, monkeypatch):
    store = a_paused_store(tmp_path)
    store.table(MONTH, "items")

    def failing_disk(folder, files):
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("db.kept.stamps", failing_disk)
    with pytest.raises(OSError):
        store.resume()
    monkeypatch.undo()
    # The daemon logs the failure and tries again at the next poll; meanwhile `issue` must get in, not
    # wait a minute for a lock held by a pass that never started.
    with Store(tmp_path, logged=True, wait_seconds=0) as other:
        assert [r["value"] for r in other.table(MONTH, "items").all()] == [1, 2]
    store.close()
