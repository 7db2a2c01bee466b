"""One process per data folder: TinyDB has no locking of its own, so a second daemon must refuse to start."""
import os
from pathlib import Path

from core.errors import StoreLocked

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt


class FolderLock:
    """An exclusive lock on `folder/daemon.lock`, released when the process ends, even by a crash."""

    def __init__(self, folder: Path):
        self.path = folder / "daemon.lock"
        self._handle = None

    def acquire(self) -> None:
        """Take the lock or raise StoreLocked naming the process that holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")
        try:
            if fcntl:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise StoreLocked(
                f"another audit mailbox process (pid {holder}) is already using {self.path.parent}; "
                "stop it first, or point this one at a different store.path"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let another process use the folder."""
        if self._handle:
            self._handle.close()
            self._handle = None
