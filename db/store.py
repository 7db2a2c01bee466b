"""The store: a folder of TinyDB files, one writer at a time, every change made inside a transaction.

    data/
      manifest.json          what the store holds: its schema version and every file below
      roster.json            the people, as last imported
      outbox.json            mail stored but not yet sent (small: emptied as mail goes out)
      months/2026-11.json    one audit month's allocations, submissions, exemptions, slippage
      ledgers/2026-11.json   what happened that month: messages handled, mail sent, reminders, failures
      index.json             what is still in play: open items, each month's latest agreed date (db/index.py)
      wal.jsonl              changes committed but not yet folded into the files above (db/wal.py)
      spool/*.eml            letters still waiting at the last fold, one file each (db/spool.py)

A month's file stops changing once its month is over, so the cost of a write never grows with history.
Opening the store checks it (db/opening.py): a missing or damaged store stops the command before
anything is read from the inbox, rather than being taken for an empty one.
"""
from contextlib import contextmanager, suppress
from pathlib import Path

from tinydb import TinyDB
from tinydb.table import Table

from core.errors import StoreError, StoreUnusable
from db.backups import backup_taken, take_backup
from db.check import Damaged
from db.files import clear_leftovers, remove_durably
from db.kept import PAUSED, KeptBetweenPasses, unmark
from db.lock import FolderLock
from db.opening import (READER_ATTEMPTS, check_location, checked_manifest, create_folder, damage_message,
                        read_steadily, write_manifest)
from db.spool import Spool, folded_outbox
from db.journal import Journal, write_error
from db.storage import JournaledStorage
from db.wal import TrackedTable

MONTHLY = ("months/", "ledgers/")  # the files a purge may remove: never the roster or the outbox


class Store(KeptBetweenPasses):
    """The data folder: opens files on demand, replays an interrupted commit, holds the one-writer lock.

    Only `create=True` (init, roster import) may start a store where there is none; every other
    opening of a missing or empty folder is refused, so a mistyped `[store] path` consumes nothing.
    `backups` is where backups are kept, to name the newest good one when the store is damaged.
    With `logged=True` a transaction is one small append to the write-ahead log (db/wal.py), and the
    files are rewritten once, at the fold: when the store closes, or sooner if the log grows.
    """

    def __init__(self, folder: Path, *, writer: bool = True, wait_seconds: float = 0, create: bool = False,
                 backups: Path | None = None, logged: bool = False):
        self.folder = Path(folder)
        self.backups = backups
        self.logged = logged
        self.spool = Spool(self.folder)
        check_location(self.folder, create=create, writer=writer)
        if create:
            create_folder(self.folder)
        self._lock = FolderLock(self.folder) if writer else None
        if self._lock:
            self._lock.acquire(wait_seconds)
        try:
            if writer:
                Journal(self.folder, read_log=False).replay()
                clear_leftovers(self.folder)
            def read_manifest_and_log() -> None:
                self.manifest = checked_manifest(self.folder, create=create, writer=writer, backups=backups)
                self._journal = self._new_journal(read_only=not writer)
            if writer:
                read_manifest_and_log()
                self._fold()  # what a crashed process logged becomes part of the files, checked
            else:
                read_steadily(self.folder, read_manifest_and_log)  # no lock: the daemon may fold meanwhile
            self._check_spool(tidy=writer)
        except BaseException:
            self.close()
            raise
        self._dbs: dict[str, TinyDB] = {}
        self._listings: dict[str, tuple] = {}  # files(prefix), while the manifest and the log list the same
        self._paused: dict | None = None  # between a daemon's passes: the stamps noted as the lock was let go
        self._marked = False  # this store left the mark (db/kept.py), to be removed when it closes

    def _new_journal(self, *, read_only: bool = False) -> Journal:
        """A journal over the files, with the log's changes read (and checked) as an overlay."""
        try:
            return Journal(self.folder, read_only=read_only, manifest=self.manifest, logged=self.logged,
                           spool=self.spool)
        except Damaged as exc:
            raise StoreUnusable(damage_message(str(exc), self.backups)) from None

    def _fold(self) -> None:
        try:
            self._journal.fold()
        except Damaged as exc:
            raise StoreUnusable(damage_message(str(exc), self.backups)) from None
        except OSError as exc:
            raise write_error(self.folder, exc) from None

    def _check_spool(self, *, tidy: bool) -> None:
        """Every waiting letter the folded outbox names has its spool file (damage otherwise); a writer
        also removes files no letter names (sent, or left by a crash between a fold and its tidying)."""
        try:
            outbox = folded_outbox(self.folder)
            if tidy:
                self.spool.tidy(outbox)
                self.spool.check(outbox)
                return
            for _ in range(READER_ATTEMPTS):
                try:
                    return self.spool.check(outbox)
                except Damaged:
                    # A reader may have read the outbox just before the daemon folded a sent letter away:
                    # damage only if the outbox still names the missing file when read again.
                    again = folded_outbox(self.folder)
                    if again == outbox:
                        raise
                    outbox = again
            self.spool.check(outbox)
        except Damaged as exc:
            raise StoreUnusable(damage_message(str(exc), self.backups)) from None
        except OSError as exc:
            raise write_error(self.folder, exc) from None

    def fold(self) -> None:
        """Write what the log holds into the files and empty the log (between transactions)."""
        if self._lock is None or self._journal.active:
            raise StoreError(PAUSED if self.paused else "the store must be open for writing, outside any transaction")
        self._fold()

    def table(self, file: str, name: str) -> Table:
        """A table in one of the store's files, e.g. table("months/2026-11", "allocations")."""
        db = self._dbs.get(file)
        if db is None:
            path = self.folder / f"{file}.json"
            db = self._dbs[file] = TinyDB(path, self._journal, storage=JournaledStorage)
            db.table_class = TrackedTable  # each write says which records it changed, for the log
        return db.table(name)

    def files(self, prefix: str) -> list[str]:
        """The names of the files under a folder of the store, e.g. files("months") -> ["months/2026-11"]."""
        # The manifest lists every file on disk (checked at opening, kept by every fold and purge), so
        # a pass that asks many times never lists the folder: years of months cost a set, not a glob.
        # Kept per prefix while the manifest's set (replaced, never changed in place, by a fold or a purge)
        # and the files only in the log are the same: a daemon's jobs ask many times a pass.
        pending = self._journal.pending_names()
        kept = self._listings.get(prefix)
        if kept is None or kept[0] is not self.manifest.files or kept[1] != pending:
            names = sorted(n for n in self.manifest.files | pending if n.startswith(prefix + "/"))
            kept = self._listings[prefix] = (self.manifest.files, pending, names)
        return list(kept[2])

    def has_file(self, file: str) -> bool:
        """Whether the store holds a file (on disk, or so far only in the log), e.g. has_file("ledgers/2026-11")."""
        return (self.folder / f"{file}.json").exists() or file in self._journal.pending_names()

    @property
    def writable(self) -> bool:
        """Whether this store was opened for writing (it holds the writer lock)."""
        return self._lock is not None

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open: writes made now become part of it."""
        return self._journal.active

    def file_stamp(self, file: str) -> tuple[int, int, int] | None:
        """(inode, size, mtime) of a file as folded, or None when it is missing or the log changes it."""
        if file in self._journal.pending_names():
            return None
        try:
            stat = (self.folder / f"{file}.json").stat()
        except OSError:
            return None
        return stat.st_ino, stat.st_size, stat.st_mtime_ns

    @contextmanager
    def transaction(self, *, durable: bool = True):
        """Everything written inside the block becomes durable together, or not at all.

        With `durable=False` (a logged store only) the block is committed for certain against a killed
        process, and made durable by the next durable commit, `sync` or the fold: for records whose loss
        in a power cut can only repeat safe work (db/wal.py).
        """
        if self._lock is None:
            raise StoreError(PAUSED if self.paused else "this store was opened read-only")
        if self._journal.path.exists():
            # A commit that failed part-way left its journal: finish it before anything newer is
            # written, or replaying it later would overwrite the newer writes.
            self._reload()
        self._journal.begin(durable=durable)
        try:
            yield self
            self._journal.commit()
        except BaseException:
            self._journal.rollback()
            with suppress(StoreError):
                # If the disk is still failing, the journal stays and is finished at the next open.
                self._reload()
            raise

    def sync(self) -> None:
        """Make every commit so far durable (after commits made with `durable=False`)."""
        try:
            self._journal.wal.sync()
        except OSError as exc:
            raise write_error(self.folder, exc) from None

    def back_up(self, backups: Path, day: str, kept: int) -> Path | None:
        """Take the backup of London date `day` unless it exists (db/backups.py); returns its folder, or None."""
        if backup_taken(backups, day):
            return None  # no fold just for this: letters stored this pass are sent, not spooled, first
        self._writable_between_transactions()
        try:
            return take_backup(self.folder, self.manifest, backups, day, kept)
        except OSError as exc:
            raise write_error(Path(backups), exc) from None

    def monthly_files_before(self, month: str) -> list[str]:
        """The month and ledger files of months before `month` (YYYY-MM), e.g. ["ledgers/2018-12", ...]."""
        return sorted(name for name in self.manifest.files
                      if name.startswith(MONTHLY) and name.split("/", 1)[1] < month)

    def purge_before(self, month: str) -> list[str]:
        """Remove every month and ledger file of months before `month`; returns their names.

        The manifest is rewritten first (saying how far the purge goes), then the files are deleted:
        a crash in between leaves files the next opening recognises as purged and removes.
        """
        self._writable_between_transactions()
        names = self.monthly_files_before(month)
        self.manifest.files = self.manifest.files - set(names)  # a new set: files() knows the list changed
        self.manifest.purged_before = max(month, self.manifest.purged_before or month)
        write_manifest(self.folder, self.manifest)
        self._dbs.clear()
        for name in names:
            remove_durably(self.folder / f"{name}.json")
        return names

    def _writable_between_transactions(self) -> None:
        if self._lock is None or self._journal.active:
            raise StoreError(PAUSED if self.paused else "the store must be open for writing, outside any transaction")
        if self._journal.path.exists() or self._journal.broken:
            self._reload()  # finish a half-done commit first: a copy or a purge must see one whole state
        self._fold()

    def _reload(self) -> None:
        """Forget every cached file and read the truth from disk, finishing a half-done commit first.

        After a failed commit the memory may hold writes the disk does not (or the reverse); TinyDB's
        tables also cache query results and ids. Re-reading is the one way to be sure.
        """
        self._dbs.clear()
        Journal(self.folder, read_log=False).replay()
        self.manifest = checked_manifest(self.folder, create=True, writer=True, backups=self.backups)
        old, self._journal = self._journal, self._new_journal()
        # A table taken before (a repo kept through a loop) would write through the old journal, whose
        # log object has the old log's length: its append would cut the new log back (losing commits)
        # or pad it with NULs (a torn tail). Such a write is refused instead.
        old.broken = True
        self._fold()

    def close(self) -> None:
        """Fold the log into the files (the end of a pass) and release the writer lock.

        A paused store does not fold: another writer may have changed the files since, and the lock
        was let go already. Its log stays for the next opening to fold."""
        if self._lock and hasattr(self, "_journal") and not self._journal.active and not getattr(self, "_paused", None):
            with suppress(StoreError, OSError):
                self._fold()  # if the disk is failing, the log stays and is folded at the next open
        if getattr(self, "_marked", False):
            self._marked = False  # closed twice, a store must not take away the mark of one opened since
            with suppress(OSError):
                unmark(self.folder)  # not left for whoever looks in the folder (the next writer would remove it)
        if hasattr(self, "_dbs"):
            self._dbs.clear()
        if hasattr(self, "_journal"):
            self._journal.detach_all()  # no cycle keeps a closed pass's data alive
        if self._lock:
            self._lock.release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
