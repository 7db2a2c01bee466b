"""The daily backup (a scheduled job of every pass) and `restore`, which puts a backup back.

The backup is taken inside the pass, while the pass holds the store's lock and between two
commits, so it is one consistent state; its name is the London date, so there is one a day however
often the daemon polls, and a daemon that was down takes it at its first pass back.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from core.config import Config
from core.errors import StoreError, StoreLocked, UsageError
from db.backups import backup_taken, list_backups, restore_backup
from db.files import private_by_default
from db.lock import FolderLock

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.backup")
NEWEST = "newest"


def take_daily_backup(ctx: Context) -> None:
    """Scheduled: today's checked copy of the store into [store] backup_path, unless it is already there."""
    if not backup_taken(ctx.config.backup_path, ctx.clock.london_today().isoformat()):
        # The letters this pass stored go first: sent, they are neither spooled nor copied (db/spool.py).
        ctx.postman.deliver_pending()
    try:
        made = ctx.store.back_up(ctx.config.backup_path, ctx.clock.london_today().isoformat(),
                                     ctx.config.backups_kept)
    except StoreError as exc:
        # Mail keeps flowing without today's backup; the next pass tries again, loudly.
        log.error("backup not taken: %s; trying again at the next pass", exc.message,
                  exc_info=log.isEnabledFor(logging.DEBUG))  # diagnosed (a full disk): the traceback on request
        return
    if made:
        log.info("backup taken: %s (the newest %d are kept)", made, ctx.config.backups_kept)


def backups_table(config: Config) -> list[str]:
    """One line per backup, newest first, saying whether it is good (for `restore` without --from)."""
    found = list_backups(config.backup_path)
    if not found:
        return [f"no backups in {config.backup_path} yet (one is taken at the first pass of each day)"]
    lines = [f"backups in {config.backup_path}, newest first:"]
    lines += [f"  {path.name}  {'good' if problem is None else 'DAMAGED: ' + problem}" for path, problem in found]
    return lines


def restore(config: Config, name: str, stamp: str, *, dry_run: bool = False) -> tuple[Path, Path | None]:
    """Put the backup `name` (or the newest good one, for "newest") in place of the store.

    Refused while the daemon runs. The store it replaces is renamed aside, never deleted.
    Returns (the backup restored, where the replaced store now is).
    """
    backup = _chosen(config, name)
    folder = config.store_path
    if dry_run:
        return backup, None
    private_by_default()
    locks = []
    try:
        if folder.is_dir():
            for lock_name, wait in (("daemon.lock", 0), ("store.lock", 60)):
                lock = FolderLock(folder, lock_name)
                try:
                    lock.acquire(wait)
                except StoreLocked as exc:
                    raise StoreLocked(f"cannot restore while the store is in use: {exc.message}") from None
                locks.append(lock)
        aside = restore_backup(backup, folder, stamp)
    except OSError as exc:
        raise StoreError(f"the restore of {backup} did not finish ({exc.strerror or exc}); the store was "
                         "not replaced") from None
    finally:
        for lock in reversed(locks):
            lock.release()
    log.info("store restored from %s; the replaced store is in %s", backup, aside)
    return backup, aside


def _chosen(config: Config, name: str) -> Path:
    found = list_backups(config.backup_path)
    if name == NEWEST:
        good = [path for path, problem in found if problem is None]
        if not good:
            raise UsageError(f"there is no good backup in {config.backup_path} to restore")
        return good[0]
    for path, problem in found:
        if path.name == name or str(path) == name:
            if problem:
                raise UsageError(f"the backup {path.name} is damaged ({problem}); choose another")
            return path
    raise UsageError(f"there is no backup {name!r} in {config.backup_path}; `restore` without --from lists them")
