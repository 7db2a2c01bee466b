"""A TinyDB storage that keeps its file's content in memory and writes through a shared journal.

Inside a transaction, writes are only staged; the Journal commits every staged file as one unit:
first a journal file holding all new contents (written atomically), then each file atomically,
then the journal is removed. If the process dies part-way, opening the store replays the journal,
so several files change together or not at all.
"""
import json
from pathlib import Path

from tinydb.storages import Storage

from core.errors import StoreError
from db.files import dump, remove_durably, write_atomic

JOURNAL_NAME = "journal.json"


class Journal:
    """Collects the writes of one transaction and commits them as one."""

    def __init__(self, folder: Path, *, read_only: bool = False):
        self.path = folder / JOURNAL_NAME
        self.read_only = read_only
        self.active = False
        self._staged: dict[Path, "JournaledStorage"] = {}
        self._storages: list["JournaledStorage"] = []

    def attach(self, storage: "JournaledStorage") -> None:
        """Know a storage so a rolled-back transaction can reset its cache."""
        self._storages.append(storage)

    def begin(self) -> None:
        """Start staging writes."""
        if self.active:
            raise StoreError("a store transaction is already open; transactions do not nest")
        self.active, self._staged = True, {}

    def stage(self, storage: "JournaledStorage") -> None:
        """Remember that a file changed; its text is made once, at commit, however often it changed."""
        self._staged[storage.path] = storage

    def commit(self) -> None:
        """Make every staged write durable together."""
        try:
            staged = {path: storage.text() for path, storage in self._staged.items()}
        finally:
            self._staged, self.active = {}, False
        try:
            if len(staged) == 1:
                # One file is already atomic on its own; no journal needed.
                (path, text), = staged.items()
                write_atomic(path, text)
            elif staged:
                write_atomic(self.path, json.dumps({str(p): t for p, t in staged.items()}))
                self._apply(staged)
                remove_durably(self.path)
        except OSError as exc:
            # The caller reloads from disk; what reached the journal is replayed then.
            raise StoreError(f"could not write the store ({exc}); the pass stopped and no mail was lost") from None
        for storage in self._storages:
            storage.committed(staged.get(storage.path))

    def rollback(self) -> None:
        """Forget every staged write; caches go back to what is on disk."""
        self._staged, self.active = {}, False
        for storage in self._storages:
            storage.discard()

    def replay(self) -> bool:
        """Finish a commit a crash interrupted; True if there was one to finish."""
        if not self.path.exists():
            return False
        try:
            staged = {Path(p): t for p, t in json.loads(self.path.read_text(encoding="utf-8")).items()}
        except (OSError, ValueError) as exc:
            raise StoreError(f"the store journal {self.path} cannot be read ({exc}); ask IT to restore the folder") from None
        try:
            self._apply(staged)
            remove_durably(self.path)
        except OSError as exc:
            # A full disk fails here too; the journal stays and is finished when there is room again.
            raise StoreError(f"could not finish an interrupted store write ({exc}); no mail was lost") from None
        return True

    @staticmethod
    def _apply(staged: dict[Path, str]) -> None:
        for path, text in staged.items():
            write_atomic(path, text)


class JournaledStorage(Storage):
    """TinyDB storage for one JSON file: reads from a cache, writes via the journal or atomically."""

    def __init__(self, path: Path, journal: Journal):
        self.path = path
        self._journal = journal
        self._disk, self._current = self._load()
        journal.attach(self)

    def _load(self) -> tuple[str | None, dict | None]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from None
        try:
            return text, json.loads(text)
        except ValueError:
            raise StoreError(f"{self.path} is not valid JSON; ask IT to restore it from backup") from None

    def read(self):
        # The parsed data itself, not a copy: re-parsing a month's file on every query made each
        # message cost grow with the month. TinyDB edits it in place only on its way to write(), and
        # a rollback re-parses the committed text, so the committed state is never lost.
        return self._current

    def write(self, data) -> None:
        if self._journal.read_only:
            raise StoreError("this store was opened read-only (another process may be writing it)")
        self._current = data
        if self._journal.active:
            self._journal.stage(self)
        else:
            text = self.text()
            write_atomic(self.path, text)
            self._disk = text

    def text(self) -> str:
        """The current content as the file's text."""
        return dump(self._current)

    def committed(self, text: str | None) -> None:
        """Called by the journal after commit."""
        if text is not None:
            self._disk = text

    def discard(self) -> None:
        """Called by the journal on rollback."""
        self._current = None if self._disk is None else json.loads(self._disk)

    def close(self) -> None:
        pass
