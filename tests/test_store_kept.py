"""A daemon's store between passes: the lock let go, what was read kept, and never trusted once another writer was in."""
import pytest

from core.errors import StoreLocked
from db.store import Store
from db.wal import WAL_NAME
from test_store_log import a_store, items, on_disk

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


def test_a_file_the_daemon_never_read_needs_no_stamp(tmp_path):
    store = a_paused_store(tmp_path, fold=True)
    with Store(tmp_path, logged=True) as other, other.transaction():
        other.table("ledgers/2026-11", "items").insert({"value": 5})
    assert store.resume() is True, "nothing the daemon holds changed (the log was folded, its month untouched)"
    assert [r["value"] for r in store.table("ledgers/2026-11", "items").all()] == [1, 5], "read from disk when asked"
    store.close()


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
