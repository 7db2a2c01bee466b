"""The index of open items: kept in the same commit as the items, and never wrong about what is open.

A pass finds open requests through the index instead of reading every month ever written; these
stories show the index follows every change, survives a failed commit and a kill, adopts a store
written before it existed, and never lists a purged month.
"""
import json
import os
import subprocess
import sys

import pytest

from core.reference import Reference
from db.index import OpenIndex
from db.items import ItemRepo
from db.months import MonthRepo
from db.store import Store
from workflows import exemptions, moderation


def a_request(reference: str, state: str) -> dict:
    return {"reference": reference, "state": state, "history": [], "month": Reference.parse(reference).month}


def open_refs(store: Store, kind=exemptions.KIND) -> list[str]:
    return [r["reference"] for r in ItemRepo(store).open_items(kind)]


def test_a_request_is_listed_while_it_waits_and_struck_off_once_decided(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        open_refs(store)  # the index now covers every month there is (none), and each new one once read
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2026-11-001", "awaiting_hos"))
        assert open_refs(store) == ["EXM-2026-11-001"]
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2026-11-002", "awaiting_hos"))  # the month is covered: indexed at once
            ItemRepo(store).update("EXM-2026-11-001", {"state": "approved"}, {"action": "approved"})
        assert open_refs(store) == ["EXM-2026-11-002"]
        assert [r["reference"] for r in store.table("index", "open").all()] == ["EXM-2026-11-002"]
        assert open_refs(store, moderation.KIND) == []


def test_a_failed_commit_changes_neither_the_request_nor_the_index(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2026-11-001", "awaiting_hos"))
        assert open_refs(store) == ["EXM-2026-11-001"]
        with pytest.raises(RuntimeError):
            with store.transaction():
                ItemRepo(store).update("EXM-2026-11-001", {"state": "approved"})
                raise RuntimeError("the letter could not be composed")
        assert open_refs(store) == ["EXM-2026-11-001"]
        assert ItemRepo(store).get("EXM-2026-11-001")["state"] == "awaiting_hos"


KILLED_MID_PASS = """
import os, sys
from db.store import Store
from db.items import ItemRepo
store = Store(sys.argv[1], logged=True)
with store.transaction():
    ItemRepo(store).update("EXM-2026-11-001", {"state": "approved"})
    ItemRepo(store).add({"reference": "EXM-2026-11-002", "state": "awaiting_hos", "history": [], "month": "2026-11"})
os.kill(os.getpid(), 9)  # committed to the log, never folded into the files
"""


def test_after_a_kill_the_index_and_the_requests_agree(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2026-11-001", "awaiting_hos"))
        assert open_refs(store) == ["EXM-2026-11-001"]
    killed = subprocess.run([sys.executable, "-c", KILLED_MID_PASS, str(tmp_path)],
                            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert killed.returncode == -9
    with Store(tmp_path, logged=True) as store:
        assert open_refs(store) == ["EXM-2026-11-002"]
    on_disk = json.loads((tmp_path / "index.json").read_text())
    assert [r["reference"] for r in on_disk["open"].values()] == ["EXM-2026-11-002"]


def test_a_store_from_before_the_index_is_read_once_then_the_index_is_kept(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():  # as an older version wrote it: no index at all
            store.table("months/2025-01", "exemptions").insert(a_request("EXM-2025-01-001", "awaiting_hos"))
            store.table("months/2025-01", "exemptions").insert(a_request("EXM-2025-01-002", "declined"))
    with Store(tmp_path, writer=False, logged=True) as store:
        assert open_refs(store) == ["EXM-2025-01-001"]  # read-only: covered in memory, nothing written
    assert not (tmp_path / "index.json").exists()
    with Store(tmp_path, logged=True) as store:
        assert open_refs(store) == ["EXM-2025-01-001"]
    assert (tmp_path / "index.json").exists()


def test_a_purged_month_is_never_listed(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():
            ItemRepo(store).add(a_request("EXM-2019-03-001", "awaiting_hos"))
            ItemRepo(store).add(a_request("EXM-2026-11-001", "awaiting_hos"))
        assert open_refs(store) == ["EXM-2019-03-001", "EXM-2026-11-001"]
        store.purge_before("2020-01")
        assert open_refs(store) == ["EXM-2026-11-001"]


def test_the_index_knows_each_months_latest_agreed_date_without_reading_the_month(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        with store.transaction():
            MonthRepo(store, "2026-11").add_allocations([{"reference": "AUD-2026-11-001", "deadline": None},
                                                         {"reference": "AUD-2026-11-002", "deadline": None}])
        assert OpenIndex(store).latest_deadline("2026-11") is None
        with store.transaction():
            MonthRepo(store, "2026-11").update_allocation("AUD-2026-11-001", {"deadline": "2026-12-08T23:59:59+00:00"})
        with store.transaction():  # an earlier date agreed later in the month does not move it back
            MonthRepo(store, "2026-11").update_allocation("AUD-2026-11-002", {"deadline": "2026-12-04T23:59:59+00:00"})
        assert OpenIndex(store).latest_deadline("2026-11") == "2026-12-08T23:59:59+00:00"
