"""The store: a folder of TinyDB files, one writer at a time, every change made inside a transaction.

    data/
      roster.json            the people, as last imported
      outbox.json            mail stored but not yet sent (small: emptied as mail goes out)
      months/2026-11.json    one audit month's allocations, submissions, exemptions, slippage
      ledgers/2026-11.json   what happened that month: messages handled, mail sent, reminders, failures

A month's file stops changing once its month is over, so the cost of a write never grows with history.
"""
from contextlib import contextmanager, suppress
from pathlib import Path

from tinydb import TinyDB
from tinydb.table import Table

from core.errors import StoreError
from db.files import clear_leftovers
from db.lock import FolderLock
from db.storage import Journal, JournaledStorage


class Store:
    """The data folder: opens files on demand, replays an interrupted commit, holds the one-writer lock."""

    def __init__(self, folder: Path, *, writer: bool = True, wait_seconds: float = 0):
        self.folder = Path(folder)
        self._lock = FolderLock(self.folder) if writer else None
        if self._lock:
            self._lock.acquire(wait_seconds)
        self._journal = Journal(self.folder, read_only=not writer)
        self._dbs: dict[str, TinyDB] = {}
        if writer:
            self._journal.replay()
            clear_leftovers(self.folder)

    def table(self, file: str, name: str) -> Table:
        """A table in one of the store's files, e.g. table("months/2026-11", "allocations")."""
        db = self._dbs.get(file)
        if db is None:
            path = self.folder / f"{file}.json"
            db = self._dbs[file] = TinyDB(path, self._journal, storage=JournaledStorage)
        return db.table(name)

    def files(self, prefix: str) -> list[str]:
        """The names of the files under a folder of the store, e.g. files("months") -> ["months/2026-11"]."""
        return sorted(f"{prefix}/{p.stem}" for p in (self.folder / prefix).glob("*.json"))

    @contextmanager
    def transaction(self):
        """Everything written inside the block becomes durable together, or not at all."""
        if self._lock is None:
            raise StoreError("this store was opened read-only")
        if self._journal.path.exists():
            # A commit that failed part-way left its journal: finish it before anything newer is
            # written, or replaying it later would overwrite the newer writes.
            self._reload()
        self._journal.begin()
        try:
            yield self
            self._journal.commit()
        except BaseException:
            self._journal.rollback()
            with suppress(StoreError):
                # If the disk is still failing, the journal stays and is finished at the next open.
                self._reload()
            raise

    def _reload(self) -> None:
        """Forget every cached file and read the truth from disk, finishing a half-done commit first.

        After a failed commit the memory may hold writes the disk does not (or the reverse); TinyDB's
        tables also cache query results and ids. Re-reading is the one way to be sure.
        """
        self._dbs.clear()
        self._journal = Journal(self.folder)
        self._journal.replay()

    def close(self) -> None:
        """Release the writer lock."""
        self._dbs.clear()
        if self._lock:
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
