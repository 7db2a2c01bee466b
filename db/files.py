"""Crash-safe, private file writing: write a new file, fsync it, rename it over the old one, fsync the folder.

After a crash at any instant the path holds either the whole old content or the whole new content.
Everything written here is readable by the service's user only (files 0600, folders 0700): the
store holds who audited which child's case, and how well.
"""
import json
import os
from pathlib import Path

from core.durable import fsync, fsync_folder  # noqa: F401 - db's callers import fsync_folder from here

TMP_SUFFIX = ".tmp"
FILE_MODE, FOLDER_MODE = 0o600, 0o700


def private_by_default() -> None:
    """Make every file and folder this process creates from now on private to its user (umask 077).

    Set once where a command starts, so files written by code outside this package (Maildirs,
    sent mail, reports) are private too, not only the ones written here with explicit modes.
    """
    os.umask(0o077)


def make_private_folder(folder: Path) -> Path:
    """Create `folder` and any missing parents as 0700; folders that already exist are left as they are."""
    folder = Path(folder)
    missing = []
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=FOLDER_MODE)
        except FileExistsError:
            continue  # made meanwhile by another process
        os.chmod(path, FOLDER_MODE)  # mkdir's mode is cut by the umask; say exactly what we mean
    return Path(missing[0]) if missing else folder


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old or the new content, never a mix."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """`write_atomic` for bytes; the new file is 0600 whatever the old one was."""
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        write_private(tmp, data)
        os.replace(tmp, path)
    except OSError:
        # A full disk must not be made fuller by half-written copies; the old file is intact.
        tmp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_private(path: Path, data: bytes) -> None:
    """Write a whole file, readable by this user only (0600), and fsync it; not atomic on its own."""
    make_private_folder(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), FILE_MODE)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, FILE_MODE)  # a file that was already there keeps its old mode through O_CREAT
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        fsync(fd)
    finally:
        os.close(fd)


def remove_durably(path: Path) -> None:
    """Delete a file and make the deletion itself durable."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_folder(path.parent)


def dump(data) -> str:
    """The one JSON spelling of stored data: stable key order, non-ASCII kept as is, compact.

    No indent: with one, Python's json falls back to its pure-Python encoder, many times slower,
    and a month's file is rewritten for every message. `python -m json.tool FILE` reads it nicely.
    """
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def clear_leftovers(folder: Path) -> None:
    """Remove half-written temporary files a crash left behind; the real files are intact by design."""
    if folder.exists():
        for tmp in folder.rglob("*" + TMP_SUFFIX):
            tmp.unlink(missing_ok=True)
