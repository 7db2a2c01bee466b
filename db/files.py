"""Crash-safe file writing: write a new file, fsync it, rename it over the old one, fsync the folder.

After a crash at any instant the path holds either the whole old content or the whole new content.
"""
import json
import os
from pathlib import Path

TMP_SUFFIX = ".tmp"


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so that a crash leaves the old or the new content, never a mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + TMP_SUFFIX)
    try:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError:
        tmp.unlink(missing_ok=True)  # a half-written file on a full disk holds space the next try needs
        raise
    os.replace(tmp, path)
    fsync_folder(path.parent)


def remove_durably(path: Path) -> None:
    """Delete a file and make the deletion itself durable."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Flush a folder's entries so a rename or delete survives a power cut (a no-op where unsupported)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


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
