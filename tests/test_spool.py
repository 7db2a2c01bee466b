"""The spool: a letter still waiting at the end of a pass is a file of its own; one sent in the pass never is.

The story of one outbox over two passes: letters are stored and most go at once; the one the
server would not take yet is kept in data/spool/ as the exact bytes that will be sent; the next pass
sends it and its file goes. A backup holds the waiting letter and gives it back when restored. A
letter whose file is lost is damage, named, never dropped in silence.
"""
import os
import stat
from datetime import datetime, timezone

import pytest

from core.errors import StoreUnusable
from db.backups import restore_backup
from db.outbox import OutboxRepo
from db.spool import FOLDER, file_name
from db.store import Store
from db.verify import store_problem
from conftest import sample

pytestmark = pytest.mark.durable  # about keeping letters across crashes: real fsync

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
ALLOCATION = sample("outlook_desktop_submission.eml")  # any real message's bytes stand for a letter
RECEIPT = sample("gmail_submission.eml")


def letter(number: int, raw: bytes) -> dict:
    """An outbox record as the postman stores it: who, what, and the letter's bytes."""
    return {"message_id": f"<letter-{number}@wexcombe.example>", "created_at": NOW.isoformat(), "kind": "allocation",
            "to": ["aisha.patel@wexcombe.example"], "cc": [], "subject": f"[AUD-2026-12-{number:03d}] Your audits",
            "refs": [f"AUD-2026-12-{number:03d}"], "raw": raw}


def a_pass(folder, *, store_letters=(), send=()):
    """One pass of the service over the store: letters stored (each in its own commit), then some sent."""
    with Store(folder, logged=True) as store:
        for record in store_letters:
            with store.transaction():
                OutboxRepo(store).add(record)
        for message_id in send:
            with store.transaction(durable=False):  # as the postman records a letter sent
                OutboxRepo(store).remove(message_id)


def spooled(folder) -> set[str]:
    return {p.name for p in (folder / FOLDER).glob("*")} if (folder / FOLDER).exists() else set()


@pytest.fixture
def folder(tmp_path):
    with Store(tmp_path / "data", create=True) as store, store.transaction():
        store.table("roster", "people").insert({"email": "aisha.patel@wexcombe.example", "name": "Aisha Patel",
                                                "roles": ["auditor"], "service": "Children in Care",
                                                "head_of_service": "marcus.ellery@wexcombe.example"})
    return tmp_path / "data"


def test_a_letter_sent_in_its_pass_never_touches_the_spool_and_one_still_waiting_is_a_private_file(folder):
    a_pass(folder, store_letters=[letter(1, ALLOCATION), letter(2, RECEIPT)], send=["<letter-1@wexcombe.example>"])
    assert spooled(folder) == {file_name("<letter-2@wexcombe.example>")}
    path = folder / FOLDER / file_name("<letter-2@wexcombe.example>")
    assert path.read_bytes() == RECEIPT and stat.S_IMODE(path.stat().st_mode) == 0o600
    outbox = (folder / "outbox.json").read_text()
    assert len(outbox) < 1500, "the outbox file keeps the letter's name, not its bytes"
    with Store(folder, writer=False) as store:
        [waiting] = OutboxRepo(store).pending()
        assert "raw" not in waiting and OutboxRepo(store).raw(waiting) == RECEIPT


def test_the_next_pass_sends_the_waiting_letter_and_its_file_goes(folder):
    a_pass(folder, store_letters=[letter(2, RECEIPT)])
    a_pass(folder, send=["<letter-2@wexcombe.example>"])
    assert spooled(folder) == set()
    with Store(folder, writer=False) as store:
        assert OutboxRepo(store).pending() == []


def test_letters_sent_together_leave_the_outbox_in_one_removal_and_the_ones_not_sent_stay(folder):
    # Three letters waited over a pass (spooled); a fourth is stored in this pass (only in the log).
    a_pass(folder, store_letters=[letter(1, ALLOCATION), letter(2, RECEIPT), letter(3, ALLOCATION)])
    with Store(folder, logged=True) as store:
        with store.transaction():
            OutboxRepo(store).add(letter(4, RECEIPT))
        with store.transaction(durable=False):  # the batch the transport took: 1 and 4 (9 was never stored)
            OutboxRepo(store).remove("<letter-1@wexcombe.example>", "<letter-4@wexcombe.example>",
                                     "<letter-9@wexcombe.example>")
        assert [r["message_id"] for r in OutboxRepo(store).pending()] == [
            "<letter-2@wexcombe.example>", "<letter-3@wexcombe.example>"]
    assert spooled(folder) == {file_name("<letter-2@wexcombe.example>"), file_name("<letter-3@wexcombe.example>")}
    with Store(folder, writer=False) as store:
        waiting = OutboxRepo(store).pending()
        assert [OutboxRepo(store).raw(r) for r in waiting] == [RECEIPT, ALLOCATION], "what was not sent is kept whole"


def test_a_letter_is_sent_as_the_very_bytes_stored_whether_kept_in_memory_or_read_back(folder):
    with Store(folder, logged=True) as store:
        with store.transaction():
            OutboxRepo(store).add(letter(5, RECEIPT))
        [waiting] = OutboxRepo(store).pending()
        assert OutboxRepo(store).raw(waiting) is RECEIPT, "the pass that stored it sends it without decoding it"
        with pytest.raises(RuntimeError), store.transaction():
            OutboxRepo(store).add(letter(6, ALLOCATION))
            raise RuntimeError("the handling failed: its letter is rolled back")
        assert [r["message_id"] for r in OutboxRepo(store).pending()] == ["<letter-5@wexcombe.example>"]
        [waiting] = OutboxRepo(store).pending()
        assert OutboxRepo(store).raw(waiting) == RECEIPT
        with store.transaction(durable=False):
            OutboxRepo(store).remove("<letter-5@wexcombe.example>")
        assert "<letter-5@wexcombe.example>" not in store.spool._held, "a sent letter's bytes are let go"
    a_pass(folder, store_letters=[letter(7, ALLOCATION)])  # waits past the fold: spilled to its file
    with Store(folder, writer=False) as store:
        [waiting] = OutboxRepo(store).pending()
        assert "raw" not in waiting and OutboxRepo(store).raw(waiting) == ALLOCATION


def test_a_letter_set_aside_for_a_person_keeps_its_file_and_goes_when_put_back(folder):
    a_pass(folder, store_letters=[letter(3, ALLOCATION)])
    with Store(folder, logged=True) as store, store.transaction():
        OutboxRepo(store).set_aside("<letter-3@wexcombe.example>", "550 mailbox unavailable", NOW)
    assert spooled(folder) == {file_name("<letter-3@wexcombe.example>")}
    with Store(folder, logged=True) as store:
        with store.transaction():
            [back] = OutboxRepo(store).put_back()
        assert OutboxRepo(store).raw(OutboxRepo(store).pending()[0]) == ALLOCATION == OutboxRepo(store).raw(back)


def test_a_file_no_letter_names_is_removed_when_the_store_opens(folder):
    a_pass(folder, store_letters=[letter(2, RECEIPT)])
    stray = folder / FOLDER / file_name("<sent-long-ago@wexcombe.example>")
    stray.write_bytes(ALLOCATION)  # as a crash between a fold and its tidying leaves one
    Store(folder).close()
    assert spooled(folder) == {file_name("<letter-2@wexcombe.example>")}


def test_a_backup_holds_the_waiting_letter_and_a_restored_store_can_send_it(folder, tmp_path):
    a_pass(folder, store_letters=[letter(1, ALLOCATION), letter(2, RECEIPT)], send=["<letter-1@wexcombe.example>"])
    with Store(folder, logged=True) as store:
        backup = store.back_up(tmp_path / "backups", "2026-12-01", kept=7)
    assert spooled(backup) == {file_name("<letter-2@wexcombe.example>")}
    a_pass(folder, send=["<letter-2@wexcombe.example>"])  # sent later; then the store is lost
    restore_backup(backup, folder, "20261202T0900")
    with Store(folder, logged=True) as store:
        [waiting] = OutboxRepo(store).pending()
        assert waiting["message_id"] == "<letter-2@wexcombe.example>" and OutboxRepo(store).raw(waiting) == RECEIPT


def test_a_lost_spool_file_stops_the_store_naming_the_letter_and_no_backup_is_taken_of_it(folder, tmp_path):
    a_pass(folder, store_letters=[letter(7, ALLOCATION)])
    os.unlink(folder / FOLDER / file_name("<letter-7@wexcombe.example>"))
    for writer in (True, False):  # the daemon's pass, and `status` or `doctor` reading
        with pytest.raises(StoreUnusable) as refused:
            Store(folder, writer=writer, backups=tmp_path / "backups")
        said = refused.value.message
        assert "<letter-7@wexcombe.example>" in said and "AUD-2026-12-007" in said and "is missing" in said
        assert "Nothing was read from the inbox" in said
    assert "<letter-7@wexcombe.example>" in store_problem(folder)  # a backup of it would fail its check
