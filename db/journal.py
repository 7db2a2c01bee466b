"""The journal behind the store's TinyDB files: how a transaction's writes reach the disk together.

Inside a transaction, writes are only staged. With a write-ahead log (db/wal.py, the service's
store), the Journal commits by appending the changed records to the log: one small fsync'd write,
whatever the size of the files. The files are brought up to date later by a fold: each changed
file is written atomically, then the log is removed; if the process dies part-way, the next opening
folds the log again (each change sets or removes a whole record, so folding twice gives the same
files). A store without a log (init, roster import) commits every changed file as one unit through
a journal file holding all new contents (written atomically), then each file, then the journal is
removed; opening the store replays a journal left by a crash, so several files change together or
not at all. A fold or commit that adds a file to the store also rewrites the manifest, last, so the
manifest lists every file there is (a fold cut short before it leaves a new file, which the next
opening checks and adds). Each file's TinyDB storage is db/storage.py.
"""
import errno
import json
import logging
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import DiskFull, StoreError, StoreUnusable
from db.check import Damaged, note_written, read_json, remember_checked
from db.files import dump, remove_durably, write_atomic
from db.manifest import Manifest, manifest_path, name_of
from db.spool import OUTBOX, Spool
from db.wal import FOLD_BYTES, WriteAheadLog, apply

if TYPE_CHECKING:
    from db.storage import JournaledStorage  # each file's storage, which attaches itself to the journal

JOURNAL_NAME = "journal.json"

log = logging.getLogger("auditmail.store")


class Journal:
    """Collects the writes of one transaction and commits them as one."""

    def __init__(self, folder: Path, *, read_only: bool = False, manifest: Manifest | None = None,
                 logged: bool = False, read_log: bool = True, spool: Spool | None = None):
        self.folder = folder
        self.path = folder / JOURNAL_NAME
        self.read_only = read_only
        self.manifest = manifest if manifest is not None else Manifest()
        self.active = False
        self.durable = True  # whether the open transaction's commit is fsync'd (see begin)
        self.logged = logged  # commits append to the write-ahead log; files change only at a fold
        self.wal = WriteAheadLog(folder)
        # What the log holds that the files do not, by file name: read when the journal is made (a
        # log left by a crash, or by the daemon while a reader looks) and laid over each file read.
        self.overlay: dict[str, list] = self.wal.read() if read_log else {}
        self._staged: dict[Path, "JournaledStorage"] = {}
        self._storages: list["JournaledStorage"] = []
        self._unfolded: dict[Path, "JournaledStorage"] = {}
        self.broken = False
        self._fold_again_at = 0  # after a failed fold, the log size at which a commit tries again
        # Letters still waiting when the outbox file is written go to the spool first (db/spool.py).
        self.spool = spool
        self._spilled: dict | None = None  # the outbox as last written, to tidy the spool by

    def attach(self, storage: "JournaledStorage") -> None:
        """Know a storage so a rolled-back transaction can reset its cache."""
        self._storages.append(storage)

    def detach_all(self) -> None:
        """Forget every storage: the storages refer to the journal, so this breaks the cycle on close."""
        self._storages, self._staged, self._unfolded = [], {}, {}

    def begin(self, *, durable: bool = True) -> None:
        """Start staging writes; with `durable=False` a logged commit is not fsync'd (db/wal.py says when that is safe)."""
        if self.active:
            raise StoreError("a store transaction is already open; transactions do not nest")
        if self.broken:
            raise self._broken_error()
        self.active, self._staged, self.durable = True, {}, durable

    def _broken_error(self) -> StoreError:
        # `broken` is True after a failed write, or says why in words (a paused store: db/kept.py).
        return StoreError(self.broken if isinstance(self.broken, str) else
                          "the store's log could not be read back after a failed write; reopen the store")

    def stage(self, storage: "JournaledStorage") -> None:
        """Remember that a file changed; its text is made once, at commit, however often it changed."""
        self._staged[storage.path] = storage

    def commit(self) -> None:
        """Make every staged write durable together."""
        if self.logged:
            self._commit_to_log()
            return
        try:
            staged = {path: self._text(storage.name, storage.read()) for path, storage in self._staged.items()}
            for storage in self._staged.values():
                storage.changes()  # written whole: forget which records changed
        finally:
            self._staged, self.active = {}, False
        self._write_files(staged)

    def _commit_to_log(self) -> None:
        try:
            changes = [change for storage in self._staged.values() for change in storage.changes()]
            staged = dict(self._staged)
        finally:
            self._staged, self.active = {}, False
        if not changes:
            return
        try:
            self.wal.append(changes, durable=self.durable)
        except OSError as exc:
            raise write_error(self.folder, exc) from None
        self._unfolded.update(staged)
        if self.wal.size > max(FOLD_BYTES, self._fold_again_at):
            # From here the commit stands, whatever the fold does: it is in the log, and a caller told it
            # failed would give back a message already handled. A fold cut short is finished by the next
            # fold (the log holds every change), at close or at the next opening.
            try:
                self.fold()
            except (StoreError, Damaged, OSError) as exc:
                self._fold_again_at = self.wal.size + FOLD_BYTES  # a failing disk is not rewritten every commit
                log.warning("store %s: the fold after a commit failed and is left for later (the commit "
                            "stands, in the log): %s", self.folder, exc)

    def pending_names(self) -> set[str]:
        """The files whose latest content is only in the log (some not yet on disk at all)."""
        return set(self.overlay) | {name for name in map(self._name, self._unfolded) if name}

    def fold(self) -> None:
        """Bring every file up to date with the log, as one unit, then remove the log.

        Raises Damaged if the log or a file it changes is damaged, OSError if the disk fails.
        """
        if not self.overlay and not self._unfolded and not self.wal.path.exists():
            return
        if self.broken:
            raise self._broken_error()
        texts = {path: self._text(storage.name, storage.read()) for path, storage in self._unfolded.items()}
        for name, changes in self.overlay.items():
            path = self.folder / f"{name}.json"
            if path not in texts:
                texts[path] = self._text(name, apply(path, name, read_json(path) if path.exists() else None, changes))
        # No journal: the log itself holds every change being folded and is removed only after every
        # file is written, so a fold cut short is finished by folding the log again at the next opening.
        # That needs the whole log durable first: a file written from a line never fsync'd would outlive it.
        try:
            self.wal.sync()
        except OSError as exc:
            raise write_error(self.folder, exc) from None
        self._write_files(texts, journal=False)
        self.wal.remove()
        self.overlay, self._unfolded, self._fold_again_at = {}, {}, 0
        # The files just written are known good: said in checked.json too, so the next process (`status`,
        # `report`, `once` from cron) does not read and check them again (db/check.py; only a cache).
        remember_checked(self.folder, self.manifest.files)

    def _write_files(self, staged: dict[Path, str], *, journal: bool = True) -> None:
        """Write whole files as one unit, with the manifest when a file is new to the store (`journal=False`
        when something else, the log, can finish the writes if they are cut short)."""
        listed = self.manifest.files | {name for name in map(self._name, staged) if name}
        if listed != self.manifest.files:
            staged[manifest_path(self.folder)] = self.manifest.text(listed)  # last: files first, then the list
        try:
            self.write_all(staged, journal=journal)
        except OSError as exc:
            # The caller reloads from disk; what reached the journal is replayed then.
            self._spilled = None
            raise write_error(self.folder, exc) from None
        self.manifest.files = listed
        for storage in self._storages:
            storage.committed(staged.get(storage.path))
        if self._spilled is not None:
            outbox, self._spilled = self._spilled, None
            with suppress(OSError):  # an orphan harms nothing; the next opening removes it
                self.spool.tidy(outbox)  # the files of letters sent since the last fold

    def _text(self, name: str | None, data) -> str:
        """A file's content as written; for the outbox, its waiting letters are first put in the spool."""
        if self.spool is not None and name == OUTBOX and isinstance(data, dict):
            try:
                self.spool.spill(data)
            except OSError as exc:
                raise write_error(self.folder, exc) from None
            self._spilled = data
        return dump(data)

    def write_all(self, staged: dict[Path, str], *, journal: bool = True) -> None:
        """Write several files as one unit (through the journal when there is more than one, unless told
        that the caller can finish them itself); the manifest, if there, comes last."""
        if not journal:
            self._apply(staged)
        elif len(staged) == 1:
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
        """Forget every staged write; caches go back to what is on disk (and, with a log, in it)."""
        self._staged, self.active = {}, False
        if self.logged or self.overlay:
            # The memory held committed changes not yet folded; the log on disk holds them all.
            try:
                self.overlay, self._unfolded = self.wal.read(), {}
            except (OSError, Damaged):
                self.broken = True  # nothing more is written or folded until the store is reopened
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


def write_error(folder: Path, exc: OSError) -> StoreError:
    """The error for a failed write: a full disk said in plain words, anything else as it came."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFull(f"the disk holding {folder} is full; the pass stopped and nothing was lost "
                        "(mail not yet handled stays in the inbox). Free some space and it carries on")
    return StoreError(f"could not write the store ({exc}); the pass stopped and no mail was lost")
