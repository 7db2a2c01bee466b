"""One writer per data folder at a time, and one daemon per data folder at all.

TinyDB has no locking of its own. Two locks, each an OS lock on a file (released by the kernel when
the process ends, even by a crash):
  store.lock   held by whoever is writing the store: the daemon during a pass, or a command such
               as `issue`; others wait their turn for a while, so the QA team can issue a month
               while the daemon runs;
  daemon.lock  held by `run` for its whole life, so a second daemon refuses to start.
"""
import errno
from contextlib import suppress
import os
import time
from pathlib import Path

from core.errors import DiskFull, StoreLocked, StoreUnusable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


class FolderLock:
    """An exclusive lock on one file in the data folder."""

    def __init__(self, folder: Path, name: str = "store.lock"):
        self.path = Path(folder) / name
        self._handle = None

    def acquire(self, wait_seconds: float = 0) -> None:
        """Take the lock, waiting up to `wait_seconds` for its holder; else raise StoreLocked naming it.

        The folder must exist: a lock never creates a store folder (a mistyped path would look like a new store).
        """
        try:
            handle = open(self.path, "a+", encoding="utf-8", opener=_private)
        except FileNotFoundError:
            raise StoreUnusable(f"there is no store at {self.path.parent}: check [store] path in the "
                                "configuration (mistyped?)") from None
        except OSError as exc:
            raise StoreUnusable(f"cannot use the store folder {self.path.parent}: {exc.strerror or exc}; "
                                "run the service as the user who owns it") from None
        deadline = time.monotonic() + wait_seconds
        while not _try_lock(handle):
            if time.monotonic() >= deadline:
                try:
                    handle.seek(0)
                    holder = handle.read().strip() or "unknown"
                except OSError:  # Windows: the holder's lock on the first byte forbids others to read it
                    holder = "unknown"
                handle.close()
                what = "audit mailbox daemon" if "daemon" in self.path.name else "audit mailbox process"
                raise StoreLocked(f"another {what} (pid {holder}) is using {self.path.parent}"
                                  + (f" and did not finish within {wait_seconds:g} s" if wait_seconds else "")
                                  + "; stop it first, or point this one at a different store.path")
            time.sleep(0.2)
        try:
            handle.seek(0)
            if handle.read() != str(os.getpid()):  # a daemon taking its lock back finds its own pid there
                handle.seek(0)
                handle.truncate()
                handle.write(str(os.getpid()))
                handle.flush()
        except OSError as exc:
            with suppress(OSError):  # closing flushes the same unwritten bytes, and fails the same way
                handle.close()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(f"the disk holding {self.path.parent} is full; nothing was changed. "
                               "Free some space and try again") from None
            raise StoreUnusable(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self._handle = handle

    def release(self, *, keep_note: bool = False) -> None:
        """Let the next process in. With `keep_note` (a daemon between passes, taking it back in a moment)
        its pid stays in the file; else the file is emptied."""
        if self._handle:
            if not keep_note:
                self._handle.seek(0)
                self._handle.truncate()  # no stale pid left behind to puzzle whoever looks
            self._handle.close()
            self._handle = None


def _private(path, flags):
    return os.open(path, flags, 0o600)


def _try_lock(handle) -> bool:
    try:
        if fcntl:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        return True
    except OSError:
        return False
