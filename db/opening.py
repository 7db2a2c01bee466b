"""Opening the store safely: never take a missing, mistyped or damaged store for an empty one.

Every problem is one StoreUnusable (exit 2) naming the file, what is wrong, and the newest good
backup, raised before anything is read from the inbox.

A reader (`status`, `report`) takes no lock, so the daemon may fold or purge while it opens. A fold
writes each file, then the manifest (when a file is new), then removes the log; a purge rewrites the
manifest, then deletes the files. A reader reads the manifest, lists the folder, checks the files,
then reads the log. Caught between two of those steps it could take a purged file for a missing one
(a false "damaged"), or read the manifest before a fold listed a new month file and the log after
the fold removed it, and so never see that file. Both changes rewrite the manifest, so a reader
compares the manifest before and after its opening and, if the daemon changed it meanwhile, opens
again (`read_steadily`). A fold that adds no file leaves the manifest alone and needs no second
look: the files are read from disk when first used, after the log, so they are at least as new.
"""
import logging
import os
from pathlib import Path
from typing import Callable

from core.errors import StoreUnusable
from db.backups import newest_good_backup
from db.check import Damaged, check_file, data_files, recall_checked, remember_checked
from db.files import make_private_folder, remove_durably, write_atomic
from db.manifest import Manifest, manifest_path, read_manifest

log = logging.getLogger("auditmail.store")
READER_ATTEMPTS = 3  # each retry needs the daemon to add a file or purge again within a reader's opening


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
            if manifest.purged_before:
                # Struck off by a purge that was stopped (a writer finishes it) or is still deleting
                # while a reader looks (the reader leaves them be): never part of the store again.
                struck = _struck_off(on_disk - manifest.files, manifest.purged_before)
                if writer:
                    for name in struck:
                        remove_durably(folder / f"{name}.json")
                on_disk -= struck
            missing = sorted(manifest.files - on_disk)
            if missing:
                raise Damaged(folder / f"{missing[0]}.json", "is listed in the store's manifest but missing")
            if on_disk - manifest.files:
                # For a reader this is most often a fold caught between writing a new file and listing it.
                (log.warning if writer else log.debug)(
                    "store %s: files not in its manifest, checked and %s: %s", folder,
                    "added" if writer else "read", ", ".join(sorted(on_disk - manifest.files)))
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


def read_steadily(folder: Path, opening: Callable[[], None]) -> None:
    """Run a reader's `opening` (manifest, files, then log) again while the manifest changes under it
    (module docstring); a refusal stands only when the manifest did not change meanwhile."""
    for attempt in range(1, READER_ATTEMPTS + 1):
        before = _manifest_bytes(folder)
        try:
            opening()
        except StoreUnusable:
            if attempt == READER_ATTEMPTS or _manifest_bytes(folder) == before:
                raise
            continue
        if _manifest_bytes(folder) == before:
            return
    # Still changing: what was read last is at most the latest fold's new file behind, never wrong.
    log.info("store %s changed during each of %d openings; read as last seen", folder, READER_ATTEMPTS)


def _manifest_bytes(folder: Path) -> bytes | None:
    try:
        return manifest_path(folder).read_bytes()
    except OSError:
        return None


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Replace the manifest on its own (adoption, purge); commits that add files write it through the journal."""
    from db.journal import write_error  # the one place a failed write is put into words

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


def _struck_off(unlisted: set[str], before: str) -> set[str]:
    """The files among `unlisted` that a purge of months before `before` struck off the manifest."""
    return {name for name in unlisted if "/" in name and name.split("/", 1)[1] < before}
