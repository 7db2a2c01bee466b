"""`status` reads the store while the daemon writes it: a reader caught between two steps of a fold or a purge.

A reader takes no lock. It reads the manifest, lists the folder, checks the files, reads the log,
then checks the spool against the outbox. Each story stops the reader between two of those steps
(a hook on the step, no sleeps), lets the daemon fold or purge right there, and asks that the reader
neither miss a change committed before it started nor refuse the store as damaged.
"""
import logging

import pytest

import db.opening
import db.store
from core.errors import StoreUnusable
from db.outbox import OutboxRepo
from db.spool import FOLDER, file_name
from db.store import Store

pytestmark = pytest.mark.durable  # the daemon's folds and purges as in service: real fsync


def a_store(folder) -> None:
    with Store(folder, create=True) as store, store.transaction():
        store.table("months/2026-11", "items").insert({"value": 1})
        store.table("ledgers/2026-11", "items").insert({"value": 1})


def once(action):
    """`action` run the first time the hooked step is passed, never again (the reader may open twice)."""
    done = []

    def run():
        if not done:
            done.append(True)  # first: the action itself may pass the same step (a purge opens the store)
            action()
    return run


def after(monkeypatch, step: str, action) -> None:
    """Run `action` just after the reader passes `step` (a function the store's opening calls)."""
    module, name = step.rsplit(".", 1)
    module = {"db.opening": db.opening, "db.store": db.store}[module]
    real, action = getattr(module, name), once(action)

    def step_then_action(*args, **kwargs):
        result = real(*args, **kwargs)
        action()
        return result
    monkeypatch.setattr(module, name, step_then_action)


@pytest.mark.parametrize("step", ["db.opening.read_manifest", "db.store.checked_manifest"],
                         ids=["before-listing-the-folder", "before-reading-the-log"])
def test_a_reader_sees_a_new_month_the_daemon_folds_in_while_it_opens(tmp_path, monkeypatch, caplog, step):
    a_store(tmp_path)
    daemon = Store(tmp_path, logged=True)
    with daemon.transaction():  # December's first handled message: its ledger file so far only in the log
        daemon.table("ledgers/2026-12", "items").insert({"value": 2})
    after(monkeypatch, step, daemon.fold)  # the fold writes the file, then the manifest, then removes the log
    caplog.set_level(logging.WARNING, logger="auditmail.store")
    with Store(tmp_path, writer=False) as reader:
        assert reader.files("ledgers") == ["ledgers/2026-11", "ledgers/2026-12"]
        assert [row["value"] for row in reader.table("ledgers/2026-12", "items").all()] == [2]
    assert caplog.records == [], "a fold in progress is no cause for alarm"
    daemon.close()


def a_store_with_an_old_month(folder) -> None:
    a_store(folder)
    with Store(folder) as store, store.transaction():
        store.table("months/2027-01", "items").insert({"value": 3})


def test_a_reader_opening_while_a_purge_rewrites_the_manifest_is_not_told_old_months_are_missing(tmp_path, monkeypatch):
    a_store_with_an_old_month(tmp_path)

    def purge():
        with Store(tmp_path) as purger:
            purger.purge_before("2027-01")  # the manifest first, then the files
    after(monkeypatch, "db.opening.read_manifest", purge)
    with Store(tmp_path, writer=False) as reader:
        assert reader.files("months") == ["months/2027-01"] and reader.files("ledgers") == []


def test_a_reader_that_opened_half_way_through_a_purge_never_reads_a_struck_off_month(tmp_path, monkeypatch):
    a_store_with_an_old_month(tmp_path)
    purger, readers = Store(tmp_path), []
    # The purge has rewritten the manifest and is about to delete the files when `status` opens.
    after(monkeypatch, "db.store.remove_durably", lambda: readers.append(Store(tmp_path, writer=False)))
    purger.purge_before("2027-01")
    purger.close()
    [reader] = readers
    assert reader.files("months") == ["months/2027-01"]
    for month in reader.files("months"):
        assert reader.table(month, "items").all()
    reader.close()


WAITING = [f"<letter-{n}@wexcombe.example>" for n in (1, 2, 3)]


def a_store_with_letters_waiting(folder) -> None:
    """Three letters the server would not take yet: each in the spool, named by the folded outbox."""
    a_store(folder)
    with Store(folder, logged=True) as store:
        for message_id in WAITING:
            with store.transaction():
                OutboxRepo(store).add({"message_id": message_id, "created_at": "2026-12-01T09:00:00+00:00",
                                       "kind": "allocation", "to": ["aisha.patel@wexcombe.example"], "cc": [],
                                       "subject": "[AUD-2026-12-001] Your audits", "refs": ["AUD-2026-12-001"],
                                       "raw": f"Message-ID: {message_id}\r\n\r\nA letter.\r\n".encode()})
    assert {p.name for p in (folder / FOLDER).iterdir()} == {file_name(m) for m in WAITING}


@pytest.mark.parametrize("folds", [1, 2])
def test_a_reader_checking_the_spool_while_the_daemon_sends_and_folds_is_not_told_a_letter_is_missing(
        tmp_path, monkeypatch, folds):
    a_store_with_letters_waiting(tmp_path)
    daemon, sent = Store(tmp_path, logged=True), []
    real = db.store.folded_outbox

    def outbox_then_the_daemon_sends_one(folder):
        outbox = real(folder)
        if len(sent) < folds:  # the letter this outbox names goes, and the fold removes its file
            sent.append(WAITING[len(sent)])
            with daemon.transaction(durable=False):
                OutboxRepo(daemon).remove(sent[-1])
            daemon.fold()
        return outbox
    monkeypatch.setattr(db.store, "folded_outbox", outbox_then_the_daemon_sends_one)
    with Store(tmp_path, writer=False) as reader:
        assert [r["message_id"] for r in OutboxRepo(reader).pending()] == WAITING[folds:]
    daemon.close()


def test_a_letter_really_missing_from_the_spool_is_still_damage_for_a_reader(tmp_path):
    a_store_with_letters_waiting(tmp_path)
    (tmp_path / FOLDER / file_name(WAITING[1])).unlink()
    with pytest.raises(StoreUnusable, match="is missing"):
        Store(tmp_path, writer=False)
