"""What a daemon's store keeps between passes, and how it knows the memory is still the truth.

The daemon opens its store once and, between passes, lets go of the writer lock so that `issue` or
`roster import` can get in (Store.pause / Store.resume). Every file it read stays parsed in memory,
and the log is not folded after every message: a pass with one message then reads nothing again.

Memory may only be trusted if nobody wrote while the lock was free. Two signs, both checked:
- The mark: a file `kept.tmp` in the store folder, made as the lock is first let go and kept until
  the store is closed. Every writer opening the store removes every `*.tmp` in it
  (db/files.clear_leftovers) before it reads or writes anything, so a mark still there when the lock
  is taken again proves no writer opened the store meanwhile, whatever the file system does with
  inode numbers and timestamps. It is not made and removed at every pass: making a file cost 0.5 ms
  here, a twentieth of a pass with one message.
- The stamps (inode, size, mtime) of the log, the journal, the manifest and every file held in
  memory: every writer changes a file it writes by replacing it (a new inode), appends to the log or
  removes it, and rewrites the manifest when it adds or removes a file. They alone are not enough:
  inode numbers are reused (on ext4 a file replaced twice often has its first inode back), and on a
  file system with coarse timestamps (a second: ext4 with small inodes, many network shares) two
  writes in one tick leave the mtime as it was. They still catch a change made other than through
  a store (a hand edit, a copy put back).
A file not held in memory is read from disk when first asked for, so its changes need no stamp.
Any difference, and the store is opened afresh, as a command opens it.

Memory grows only with the files one stretch of passes reads: the daemon opens its store afresh
every hour or so (app/daemon.py), which also lets go of months no longer read.
"""
import os
from pathlib import Path

from core.errors import StoreError
from db.files import FILE_MODE, TMP_SUFFIX

WATCHED = ("wal.jsonl", "journal.json", "manifest.json")
MARK = "kept" + TMP_SUFFIX  # removed by any writer opening the store: db/files.clear_leftovers

Stamp = tuple[int, int, int] | None
PAUSED = "the store is paused between the daemon's passes (its lock let go for other writers); resume it first"


def stamp(path: Path | str) -> Stamp:
    """(inode, size, mtime in ns) of a file, or None when it is not there."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def stamps(folder: Path, files) -> dict[str, Stamp]:
    """The stamps of the store's own bookkeeping files and of each of `files` (names like "months/2026-11")."""
    names, home = [*WATCHED, *(f"{name}.json" for name in files)], os.fspath(folder)
    return {name: stamp(os.path.join(home, name)) for name in names}  # strings: twice a pass, no Paths


def mark(folder: Path) -> None:
    """Leave the mark (as the lock is let go), unless it is there from an earlier pause. Not fsync'd:
    after a power cut the daemon opens afresh anyway."""
    path = os.path.join(os.fspath(folder), MARK)
    if not os.path.exists(path):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))


def still_marked(folder: Path) -> bool:
    """Whether the mark left by `mark` is still there: no writer opened the store since."""
    return (Path(folder) / MARK).exists()


def unmark(folder: Path) -> None:
    """Remove the mark (the store closed, or found changed): not left for whoever looks in the folder."""
    try:
        os.unlink(Path(folder) / MARK)
    except FileNotFoundError:
        pass


class KeptBetweenPasses:
    """The daemon's side of the Store (db/store.py): `pause` between passes, `resume` before the next.

    A part of Store, kept here beside the stamps and the mark it relies on; it uses the store's lock,
    journal and open files.
    """

    @property
    def paused(self) -> bool:
        """Whether the store is between a daemon's passes (`pause`), its writer lock let go."""
        return self._paused is not None

    def pause(self, *, fold: bool = False, sync: bool = True) -> None:
        """Between two passes of a daemon: make every commit durable (folding the log too, with `fold`),
        let other writers in, and keep in memory what was read (db/kept.py). `resume` takes it back.

        With `sync=False` commits made with `durable=False` are left to the next fsync'd one, for a caller
        whose such commits may be lost to a power cut (the daemon's records of letters into a Maildir)."""
        if self._lock is None or self._journal.active or self._paused is not None or self._journal.broken:
            raise StoreError("only a store open for writing, outside any transaction, can be paused (a store whose "
                             "log could not be read back is closed and opened again instead)")
        if sync:
            self.sync()
        if fold:
            self._fold()
        noted = stamps(self.folder, self._dbs)
        mark(self.folder)  # gone at `resume` if any writer opened the store meanwhile (db/kept.py)
        self._marked = True
        self._paused = noted
        # No write without the lock: until `resume` finds the memory still the truth (for good if it
        # is not), the store is as one opened read-only (no transaction, fold, backup or purge), and a
        # write through a kept table is refused by its journal before it changes the memory.
        self._journal.broken = PAUSED
        self._lock.release(keep_note=True)  # the daemon's pid stays in the file: the next pass writes it again
        self._lock, self._lock_let_go = None, self._lock

    def resume(self, wait_seconds: float = 0) -> bool:
        """Take the writer lock again after `pause`. True when nobody wrote meanwhile (the mark is still
        there and the stamps unchanged: db/kept.py), so what was kept is still the truth; False when
        someone did: everything kept is let go, and the store is closed, to be opened afresh."""
        if self._paused is None:
            raise StoreError("the store was not paused")
        lock = self._lock_let_go
        lock.acquire(wait_seconds)
        try:
            kept = still_marked(self.folder) and stamps(self.folder, self._dbs) == self._paused
            if not kept:
                unmark(self.folder)  # made again at the next pause, for the store opened afresh
        except BaseException:
            lock.release()  # still paused: the next pass tries again; meanwhile others get in
            raise
        if kept:
            self._paused, self._journal.broken, self._lock = None, False, lock
            return True
        lock.release()
        self._dbs.clear()
        self._journal.detach_all()
        return False
