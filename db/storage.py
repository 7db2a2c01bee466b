"""A TinyDB storage that keeps its file's content in memory and writes through the shared journal.

Each file of the store is one JournaledStorage: it reads the file once (checked, with what the log
holds for it laid over), answers TinyDB from memory, and hands every write to the journal
(db/journal.py), which commits it with the other files of the transaction.
"""
import json
from contextlib import contextmanager
from pathlib import Path

from tinydb.storages import Storage

from core.errors import StoreError, StoreUnusable
from db.check import Damaged, check_tables, read_text_json
from db.files import dump
from db.journal import Journal
from db.manifest import name_of
from db.wal import apply


class JournaledStorage(Storage):
    """TinyDB storage for one JSON file: reads from a cache, writes via the journal (and its log)."""

    def __init__(self, path: Path, journal: Journal):
        self.path = path
        self.name = name_of(journal.folder, path)
        self._journal = journal
        self._touched: set[tuple[str, str]] = set()
        self._whole = False  # written other than through a TrackedTable: log the whole file
        self._operations = 0
        self._stale = False
        self._disk, self._current = self._load()
        journal.attach(self)

    def _load(self) -> tuple[str | None, dict | None]:
        # The store checked every file it lists when it opened; a file changed behind its back since
        # is still never read as empty.
        logged = self._journal.overlay.get(self.name)
        if not self.path.exists():
            if self._journal.manifest.files and self.name in self._journal.manifest.files:
                raise StoreUnusable(f"{self.path} is listed in the store's manifest but missing; "
                                    "restore the store from a backup (`auditmail restore`)")
            if logged:
                return None, self._with_log(None, logged)
            return None, None
        try:
            text, data = read_text_json(self.path)
            check_tables(self.path, self.name.split("/")[0], data)
        except Damaged as exc:
            raise StoreUnusable(f"{exc}; restore the store from a backup (`auditmail restore`)") from None
        return text, (self._with_log(data, logged) if logged else data)

    def _with_log(self, data, logged):
        try:
            return apply(self.path, self.name, data, logged)
        except Damaged as exc:
            raise StoreUnusable(f"{exc} (after the store's log); restore the store from a backup "
                                "(`auditmail restore`)") from None

    def read(self):
        # The parsed data itself, not a copy: re-parsing a month's file on every query made each
        # message cost grow with the month. TinyDB edits it in place only on its way to write(), and
        # a rollback re-reads the committed state, so it is never lost.
        if self._stale:
            self._disk, self._current = self._load()
            self._stale = False
        return self._current

    @contextmanager
    def operation(self):
        """One table write: inside the caller's transaction, or committed on its own when there is none."""
        own = not self._journal.active and not self._journal.read_only
        if own:
            self._journal.begin()
        self._operations += 1
        try:
            yield
        except BaseException:
            if own:
                self._journal.rollback()
            raise
        finally:
            self._operations -= 1
        if own:
            try:
                self._journal.commit()
            except BaseException:
                self._journal.rollback()  # never believe in memory what did not reach the disk
                raise

    def touch(self, table: str, doc_ids) -> None:
        """Note records a table write changed (or removed), to be logged at commit."""
        self._touched.update((table, str(doc_id)) for doc_id in doc_ids)

    def write(self, data) -> None:
        if self._journal.read_only:
            raise StoreError("this store was opened read-only (another process may be writing it)")
        self._current = data
        if not self._operations:
            self._whole = True
        if self._journal.active:
            self._journal.stage(self)
        else:
            self._journal.begin()
            self._journal.stage(self)
            try:
                self._journal.commit()
            except BaseException:
                self._journal.rollback()
                raise

    def changes(self) -> list[list]:
        """The changes since the last commit, as log entries; forgets them."""
        current = self.read() or {}
        if self._whole:
            changes = [[self.name, None, None, current]]
        else:
            changes = [[self.name, table, doc_id, current.get(table, {}).get(doc_id)]
                       for table, doc_id in sorted(self._touched)]
        self._touched, self._whole = set(), False
        return changes

    def text(self) -> str:
        """The current content as the file's text."""
        return dump(self.read())

    def committed(self, text: str | None) -> None:
        """Called by the journal after the file was written."""
        if text is not None:
            self._disk = text

    def discard(self) -> None:
        """Called by the journal on rollback."""
        self._touched, self._whole = set(), False
        if self._journal.logged or self._journal.overlay or self._journal.broken:
            self._stale = True  # the committed state is the file and the log: read both again when needed
        else:
            self._current = None if self._disk is None else json.loads(self._disk)

    def close(self) -> None:
        pass
