"""Opening the store safely: never take a missing, mistyped or damaged store for an empty one.

Every problem is one StoreUnusable (exit 2) naming the file, what is wrong, and the newest good
backup, raised before anything is read from the inbox.
"""
import logging
import os
from pathlib import Path

from core.errors import StoreUnusable
from db.backups import newest_good_backup
from db.check import Damaged, check_file, data_files, recall_checked, remember_checked
from db.files import make_private_folder, remove_durably, write_atomic
from db.manifest import Manifest, manifest_path, read_manifest

log = logging.getLogger("auditmail.store")


def check_location(folder: Path, *, create: bool, writer: bool = True) -> None:
    """Refuse a store path that names a file, a folder that does not exist (unless creating), or one we cannot use."""
    if folder.exists() and not folder.is_dir():
        raise StoreUnusable(f"{folder} is a file, not a folder: [store] path in the configuration must name "
                            "the store's folder")
    if not folder.exists():
        if create:
            return
        raise StoreUnusable(f"there is no store at {folder}: check [store] path in the configuration (mistyped?); "
                            "a new store is made only by `auditmail init DIR` or `auditmail roster import CSV`. "
                            "Nothing was read from the inbox")
    if not os.access(folder, (os.R_OK | os.W_OK | os.X_OK) if writer else (os.R_OK | os.X_OK)):
        raise StoreUnusable(f"the store folder {folder} cannot be {'written' if writer else 'read'} by this user "
                            f"(uid {os.getuid() if hasattr(os, 'getuid') else '?'}): run the service as the "
                            "user who owns it, or give that user the folder")


def create_folder(folder: Path) -> None:
    """Make a new store's folder, private to the service's user."""
    try:
        make_private_folder(folder)
    except OSError as exc:
        raise StoreUnusable(f"cannot create the store folder {folder}: {exc.strerror or exc}") from None


def checked_manifest(folder: Path, *, create: bool, writer: bool, backups: Path | None) -> Manifest:
    """The store's manifest, after checking that every file it lists is there and sound.

    A store from before manifests (files but no manifest.json) is adopted: its manifest is built
    from the files there, each checked first. Files present but not listed are checked and adopted
    too, except those an interrupted purge had already struck off, which are removed now.
    """
    try:
        manifest, on_disk, changed = read_manifest(folder), set(data_files(folder)), False
        if manifest is None:
            if not on_disk:
                if create:
                    return Manifest()  # written with the first commit, together with the roster
                raise StoreUnusable(f"{folder} holds no store (no manifest.json, no roster, no months): check "
                                    "[store] path in the configuration; a new store is made only by "
                                    "`auditmail init DIR` or `auditmail roster import CSV`. Nothing was read "
                                    "from the inbox")
            manifest, changed = Manifest(set(on_disk)), True
            log.warning("store %s has no manifest (written before manifests existed); built one from its "
                        "%d files", folder, len(on_disk))
        else:
            if writer and manifest.purged_before:
                on_disk -= _finish_purge(folder, on_disk - manifest.files, manifest.purged_before)
            missing = sorted(manifest.files - on_disk)
            if missing:
                raise Damaged(folder / f"{missing[0]}.json", "is listed in the store's manifest but missing")
            if on_disk - manifest.files:
                log.warning("store %s: files not in its manifest, checked and added: %s", folder,
                            ", ".join(sorted(on_disk - manifest.files)))
                manifest.files |= on_disk
                changed = True
        recall_checked(folder)  # what an earlier process proved and nothing has changed since is not re-read
        rechecked = [name for name in sorted(manifest.files) if check_file(folder, name)]
    except Damaged as exc:
        raise StoreUnusable(damage_message(str(exc), backups)) from None
    if changed and writer:
        write_manifest(folder, manifest)
    if rechecked and writer:
        remember_checked(folder, manifest.files)
    return manifest


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest on its own (adoption, purge); commits that add files write it through the journal."""
    from db.storage import write_error  # the one place a failed write is put into words

    try:
        write_atomic(manifest_path(folder), manifest.text())
    except OSError as exc:
        raise write_error(folder, exc) from None


def damage_message(problem: str, backups: Path | None) -> str:
    """One line: what is wrong, that nothing was taken in, and the newest good backup to restore."""
    line = f"the store cannot be used: {problem}. Nothing was read from the inbox"
    if backups is None:
        return line
    good = newest_good_backup(backups)
    if good is None:
        return f"{line}; no good backup was found in {backups}: ask IT to restore the store folder"
    return f"{line}; the newest good backup is {good} (put it back with `auditmail restore --from {good.name}`)"


def _finish_purge(folder: Path, unlisted: set[str], before: str) -> set[str]:
    """Remove files a purge struck off the manifest but was stopped before deleting; returns their names."""
    done = {name for name in unlisted if "/" in name and name.split("/", 1)[1] < before}
    for name in done:
        remove_durably(folder / f"{name}.json")
    return done
