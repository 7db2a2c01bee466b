"""The store: a folder of TinyDB files, one writer at a time, every change made inside a transaction.

    data/
      roster.json            the people, as last imported
      outbox.json            mail stored but not yet sent (small: emptied as mail goes out)
      months/2026-11.json    one audit month's allocations, submissions, exemptions, slippage
      ledgers/2026-11.json   what happened that month: messages handled, mail sent, reminders, failures

A month's file stops changing once its month is over, so the cost of a write never grows with history.
"""
from contextlib import contextmanager
from pathlib import Path

from tinydb import TinyDB
from tinydb.table import Table

from core.errors import StoreError
from db.files import clear_leftovers
from db.lock import FolderLock
from db.storage import Journal, JournaledStorage


class Store:
    """The data folder: opens files on demand, replays an interrupted commit, holds the one-writer lock."""

    def __init__(self, folder: Path, *, writer: bool = True):
        self.folder = Path(folder)
        self._lock = FolderLock(self.folder) if writer else None
        if self._lock:
            self._lock.acquire()
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
        self._journal.begin()
        try:
            yield self
        except BaseException:
            self._journal.rollback()
            # TinyDB tables cache query results and ids; forget them with the rolled-back data.
            self._dbs.clear()
            self._journal = Journal(self.folder)
            raise
        self._journal.commit()

    def close(self) -> None:
        """Release the writer lock."""
        self._dbs.clear()
        if self._lock:
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
