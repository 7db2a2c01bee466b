"""`status` or `once` in its own process does not read and check again what the daemon just wrote.

The daemon folds its log into the month's files; a QA officer then runs `status`. Opening a store
checks every file (never take a damaged one for good), except those an earlier process proved good
and that have not changed since (data/checked.json, db/check.py). The daemon's fold leaves what it
wrote in that list, so `status` re-reads neither five years of settled months nor the month in play.
"""
import json
import subprocess
import sys

from db.store import Store

ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent

READS_AT_OPENING = """
import sys
sys.path.insert(0, {root!r})
import db.check
real, read = db.check.read_json, []
db.check.read_json = lambda path: read.append(path.stem) or real(path)
from db.store import Store
with Store({folder!r}, writer=False) as store:
    store.table("months/2026-11", "items").all()
print(",".join(sorted(read)))
"""


def files_read_by_another_process(folder) -> list[str]:
    done = subprocess.run([sys.executable, "-c", READS_AT_OPENING.format(root=str(ROOT), folder=str(folder))],
                          capture_output=True, text=True, check=True)
    return [name for name in done.stdout.strip().split(",") if name]


def test_a_fold_leaves_what_it_wrote_known_good_for_the_next_process(tmp_path):
    with Store(tmp_path, create=True) as store, store.transaction():
        for month in ("2026-09", "2026-10", "2026-11"):
            store.table(f"months/{month}", "items").insert({"value": 1})
    with Store(tmp_path, logged=True) as daemon:  # the daemon: its pass commits to the log, then folds
        with daemon.transaction():
            daemon.table("months/2026-11", "items").insert({"value": 2})
    known = json.loads((tmp_path / "checked.json").read_text())
    assert {"months/2026-09", "months/2026-10", "months/2026-11"} <= set(known)
    assert files_read_by_another_process(tmp_path) == [], "nothing re-read: every file is as it was proved"


def test_a_file_changed_since_it_was_proved_is_checked_again(tmp_path):
    with Store(tmp_path, create=True) as store, store.transaction():
        store.table("months/2026-11", "items").insert({"value": 1})
    with Store(tmp_path, logged=True) as daemon, daemon.transaction():
        daemon.table("months/2026-11", "items").insert({"value": 2})
    path = tmp_path / "months" / "2026-11.json"
    path.write_text(path.read_text().replace('"value": 2', '"value": 3'))  # changed behind the store's back
    assert files_read_by_another_process(tmp_path) == ["2026-11"]
