"""What a daemon's store keeps between passes, and how it knows the memory is still the truth.

The daemon opens its store once and, between passes, lets go of the writer lock so that `issue` or
`roster import` can get in (Store.pause / Store.resume). Every file it read stays parsed in memory,
and the log is not folded after every message: a pass with one message then reads nothing again.

Memory may only be trusted if nobody wrote while the lock was free. Every writer changes a file it
writes by replacing it (a new inode), appends to the log or removes it (opening a store folds the
log left in it), and rewrites the manifest when it adds or removes a file. So the stamps (inode,
size, mtime) of the log, the journal, the manifest and every file held in memory, noted as the lock
is let go and compared when it is taken again, tell whether anything the memory holds has changed.
A file not held in memory is read from disk when first asked for, so its changes need no stamp.
Any difference, and the store is opened afresh, as a command opens it.

Memory grows only with the files one stretch of passes reads: the daemon opens its store afresh
every hour or so (app/daemon.py), which also lets go of months no longer read.
"""
import os
from pathlib import Path

WATCHED = ("wal.jsonl", "journal.json", "manifest.json")

Stamp = tuple[int, int, int] | None


def stamp(path: Path) -> Stamp:
    """(inode, size, mtime in ns) of a file, or None when it is not there."""
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def stamps(folder: Path, files) -> dict[str, Stamp]:
    """The stamps of the store's own bookkeeping files and of each of `files` (names like "months/2026-11")."""
    names = [*WATCHED, *(f"{name}.json" for name in files)]
    return {name: stamp(folder / name) for name in names}

