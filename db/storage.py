"""A TinyDB storage that keeps its file's content in memory and writes through a shared journal.

Inside a transaction, writes are only staged; the Journal commits every staged file as one unit:
first a journal file holding all new contents (written atomically), then each file atomically,
then the journal is removed. If the process dies part-way, opening the store replays the journal,
so several files change together or not at all. A commit that adds a file to the store also
rewrites the manifest, in the same unit, so the manifest always lists every file there is.
"""
import errno
import json
from pathlib import Path

from tinydb.storages import Storage

from core.errors import DiskFull, StoreError, StoreUnusable
from db.check import Damaged, check_tables, note_written, read_text_json
from db.files import dump, remove_durably, write_atomic
from db.manifest import Manifest, manifest_path, name_of

JOURNAL_NAME = "journal.json"


class Journal:
    """Collects the writes of one transaction and commits them as one."""

    def __init__(self, folder: Path, *, read_only: bool = False, manifest: Manifest | None = None):
        self.folder = folder
        self.path = folder / JOURNAL_NAME
        self.read_only = read_only
        self.manifest = manifest if manifest is not None else Manifest()
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
        listed = self.manifest.files | {name for name in map(self._name, staged) if name}
        if listed != self.manifest.files:
            staged[manifest_path(self.folder)] = self.manifest.text(listed)  # last: files first, then the list
        try:
            self.write_all(staged)
        except OSError as exc:
            # The caller reloads from disk; what reached the journal is replayed then.
            raise write_error(self.folder, exc) from None
        self.manifest.files = listed
        for storage in self._storages:
            storage.committed(staged.get(storage.path))

    def write_now(self, storage: "JournaledStorage") -> None:
        """Commit one storage's change at once (a write made outside any transaction)."""
        self.begin()
        self.stage(storage)
        self.commit()

    def write_all(self, staged: dict[Path, str]) -> None:
        """Write several files as one unit (through the journal when there is more than one)."""
        if len(staged) == 1:
            # One file is already atomic on its own; no journal needed.
            (path, text), = staged.items()
            write_atomic(path, text)
            note_written(path)
        elif staged:
            write_atomic(self.path, json.dumps({str(p): t for p, t in staged.items()}))
            self._apply(staged)
            remove_durably(self.path)

    def _name(self, path: Path) -> str | None:
        return name_of(self.folder, path)

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
        except (OSError, ValueError, AttributeError) as exc:
            raise StoreUnusable(f"the store journal {self.path} cannot be read ({exc})") from None
        home = self.folder.resolve()
        strays = [str(path) for path in staged if home not in path.resolve().parents]
        if strays:
            # Only ever written by the store itself, for its own files: a journal naming another place
            # was moved, copied from elsewhere or tampered with, and is never acted on.
            raise StoreUnusable(f"the store journal {self.path} names a file outside the store ({strays[0]})")
        try:
            self._apply(staged)
            remove_durably(self.path)
        except OSError as exc:
            raise write_error(self.folder, exc) from None
        return True

    @staticmethod
    def _apply(staged: dict[Path, str]) -> None:
        for path, text in staged.items():
            write_atomic(path, text)
            note_written(path)


class JournaledStorage(Storage):
    """TinyDB storage for one JSON file: reads from a cache, writes via the journal or atomically."""

    def __init__(self, path: Path, journal: Journal):
        self.path = path
        self._journal = journal
        self._disk, self._current = self._load()
        journal.attach(self)

    def _load(self) -> tuple[str | None, dict | None]:
        # The store checked every file it lists when it opened; a file changed behind its back since
        # is still never read as empty.
        if not self.path.exists():
            if self._journal.manifest.files and name_of(self._journal.folder, self.path) in self._journal.manifest.files:
                raise StoreUnusable(f"{self.path} is listed in the store's manifest but missing; "
                                    "restore the store from a backup (`auditmail restore`)")
            return None, None
        try:
            text, data = read_text_json(self.path)
            check_tables(self.path, name_of(self._journal.folder, self.path).split("/")[0], data)
        except Damaged as exc:
            raise StoreUnusable(f"{exc}; restore the store from a backup (`auditmail restore`)") from None
        return text, data

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
            self._journal.write_now(self)

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


def write_error(folder: Path, exc: OSError) -> StoreError:
    """The error for a failed write: a full disk said in plain words, anything else as it came."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"the disk holding {folder} is full; the pass stopped and nothing was lost "
                        "(mail not yet handled stays in the inbox). Free some space and it carries on")
    return StoreError(f"could not write the store ({exc}); the pass stopped and no mail was lost")
