"""Rolling backups of the store, and putting one back.

    backups/data-2026-11-30/   a whole copy of data/ as it was at that day's first pass (0700, files 0600),
                               its spool/ too: a restored store holds the letters it had not yet sent

A backup is taken while the store's lock is held and no commit is under way, so it is a consistent
state; it is checked (it must open as a valid store) before it gets its name. The newest
`backups_kept` are kept. A restore never deletes anything: the store it replaces is set aside.
"""
import os
import shutil
from pathlib import Path

from core.errors import StoreError, StoreUnusable
from db.files import fsync_folder, make_private_folder, write_private
from db.lock import FolderLock
from db.manifest import MANIFEST_NAME, Manifest
from db.spool import FOLDER as SPOOL, folded_outbox, spool_names
from db.verify import store_problem

PREFIX = "data-"


def backup_folders(backups: Path) -> list[Path]:
    """Every finished backup in `backups`, newest first."""
    if not Path(backups).is_dir():
        return []
    return sorted((p for p in Path(backups).iterdir() if p.is_dir() and p.name.startswith(PREFIX)), reverse=True)


def list_backups(backups: Path) -> list[tuple[Path, str | None]]:
    """Every backup, newest first, with what is wrong with it (None for a good one)."""
    return [(path, store_problem(path)) for path in backup_folders(backups)]


def newest_good_backup(backups: Path) -> Path | None:
    """The newest backup that opens as a valid store, or None."""
    return next((path for path in backup_folders(backups) if store_problem(path) is None), None)


def backup_taken(backups: Path, day: str) -> bool:
    """Whether the backup of London date `day` is already there."""
    return (Path(backups) / f"{PREFIX}{day}").exists()


def take_backup(folder: Path, manifest: Manifest, backups: Path, day: str, kept: int) -> Path | None:
    """Copy the store's files into backups/data-DAY, check the copy, rotate; None if DAY's backup exists.

    The caller holds the store's lock and has no commit open, so the files on disk are one consistent state.
    """
    target = Path(backups) / f"{PREFIX}{day}"
    if target.exists():
        return None
    partial = Path(backups) / f".{PREFIX}{day}.partial"
    make_private_folder(Path(backups))
    shutil.rmtree(partial, ignore_errors=True)
    try:
        copy_store(folder, manifest, partial)
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    problem = store_problem(partial)
    if problem:
        shutil.rmtree(partial, ignore_errors=True)
        raise StoreError(f"today's backup of {folder} failed its check ({problem}); it was not kept")
    os.replace(partial, target)
    fsync_folder(target.parent)
    for old in backup_folders(backups)[max(kept, 1):]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def copy_store(folder: Path, manifest: Manifest, target: Path) -> None:
    """Copy the data files a store's manifest lists, and the manifest, into a new private folder `target`."""
    make_private_folder(target)
    for name in sorted(manifest.files):
        write_private(target / f"{name}.json", (Path(folder) / f"{name}.json").read_bytes())
    write_private(target / MANIFEST_NAME, manifest.text().encode("utf-8"))
    _copy_spool(Path(folder), target)
    for sub in {target, *(p.parent for p in target.rglob("*.json"))}:
        fsync_folder(sub)


def restore_backup(backup: Path, folder: Path, stamp: str) -> Path | None:
    """Put `backup` in place of the store `folder`; the store it replaces is renamed aside (returned), not deleted."""
    problem = store_problem(backup)
    if problem:
        raise StoreUnusable(f"the backup {backup} cannot be restored: {problem}")
    folder = Path(folder)
    staging = folder.with_name(f".{folder.name}.restoring")
    shutil.rmtree(staging, ignore_errors=True)
    make_private_folder(staging)
    for source in sorted(Path(backup).rglob("*.json")):
        write_private(staging / source.relative_to(backup), source.read_bytes())
    _copy_spool(Path(backup), staging)
    for sub in {staging, *(p.parent for p in staging.rglob("*.json"))}:
        fsync_folder(sub)
    aside = None
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.before-restore-{stamp}")
        os.replace(folder, aside)
    try:
        os.replace(staging, folder)
    except OSError:
        if aside:
            os.replace(aside, folder)  # put the old store back rather than leave none
        raise
    fsync_folder(folder.parent)
    return aside


def _copy_spool(source: Path, target: Path) -> None:
    """Copy the files of the letters the store's outbox names as waiting (sent letters' files are not kept)."""
    names = sorted(spool_names(folded_outbox(source) or {}))
    if names:
        make_private_folder(target / SPOOL)
    for name in names:
        write_private(target / SPOOL / name, (source / SPOOL / name).read_bytes())
    if names:
        fsync_folder(target / SPOOL)


def copy_whole(folder: Path, target: Path, wait_seconds: float) -> None:
    """Copy a store folder as it is (its log and journal too) into `target`, for a dry run to work on.

    Copied while holding the store's writer lock, as a backup is: a daemon folding its log part-way
    through a file-by-file copy would leave some files before the fold and some after. The lock is
    held only for the copy (the daemon waits that long at most); nothing in the store is changed.
    """
    lock = FolderLock(folder)
    lock.acquire(wait_seconds)
    try:
        shutil.copytree(folder, target, ignore=shutil.ignore_patterns("daemon.lock", "store.lock", "*.tmp"))
    finally:
        lock.release()
