"""`purge --before YYYY-MM`: remove records and mail older than the retention period, and say what went.

What goes: the month files (allocations, submissions, exemptions, slippage) and ledgers of months
before the given one, and mail in the Maildirs processed/, failed/ and sent/ received (or sent)
before it. What stays: the roster, the outbox, the inbox (mail not yet handled), and every month
inside `[store] retention_months` — a purge inside the retention period is refused, so the
configuration is the one place the retention policy is written down. Backups age out on their own
after `[store] backups_kept` days.
"""
import logging
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from core.clock import Clock, month_of
from core.config import Config
from core.errors import AuditMailError, UsageError
from core.ids import month_of_message_id
from db.files import fsync_folder, private_by_default
from db.store import Store

log = logging.getLogger("auditmail.purge")
MAIL_FOLDERS = ("processed", "failed", "sent")
WAIT_FOR_STORE_SECONDS = 60


@dataclass
class Purged:
    """What a purge removed (or, in a dry run, would remove)."""

    before: str
    store: str                                                   # the store's folder name, e.g. "data"
    records: list[str] = field(default_factory=list)            # store files, e.g. "months/2018-11"
    mail: dict[str, list[str]] = field(default_factory=dict)     # Maildir folder -> message file names


def purge(config: Config, clock: Clock, before: str | None, *, dry_run: bool = False) -> Purged:
    """Remove the records and mail of months before `before` (default: what the retention period allows)."""
    before = checked_before(before, clock, config.retention_months)
    private_by_default()
    with Store(config.store_path, wait_seconds=WAIT_FOR_STORE_SECONDS, backups=config.backup_path) as store:
        purged = Purged(before, config.store_path.name, store.monthly_files_before(before))
        if not dry_run:
            store.purge_before(before)
    if config.transport == "maildir":
        for name in MAIL_FOLDERS:
            purged.mail[name] = _old_mail(config.maildir_path / name, before, dry_run)
    log.info("purged before %s: %d store files, %s mail%s", before, len(purged.records),
             sum(map(len, purged.mail.values())), " (dry run)" if dry_run else "")
    return purged


def checked_before(before: str | None, clock: Clock, retention_months: int) -> str:
    """The month to purge before: refused if it would reach the current or last month, or inside retention."""
    this_month = month_of(clock.now())
    limit = months_back(this_month, retention_months)
    if before is None:
        return limit
    before = before.strip()
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", before):
        raise UsageError(f"--before must be a month like 2019-01, not {before!r}")
    if before > months_back(this_month, 1):
        raise UsageError(f"the current and last month are never purged; --before can be at most "
                         f"{months_back(this_month, 1)}")
    if before > limit:
        raise UsageError(f"records from {months_back(before, 1)} are inside the retention period of "
                         f"{retention_months} months ([store] retention_months); the latest --before allowed is "
                         f"{limit}. Change the setting first if your information-governance officer agrees")
    return before


def months_back(month: str, count: int) -> str:
    """The month `count` months before `month` (YYYY-MM)."""
    year, number = map(int, month.split("-"))
    index = year * 12 + number - 1 - count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _old_mail(maildir, before: str, dry_run: bool) -> list[str]:
    removed = []
    for sub in ("new", "cur"):
        folder = maildir / sub
        if not folder.is_dir():
            continue
        for entry in os.scandir(folder):
            if entry.is_file() and _month_of_mail(entry) < before:
                removed.append(f"{sub}/{entry.name}")
                if not dry_run:
                    try:
                        os.unlink(entry.path)
                    except OSError as exc:
                        raise AuditMailError(f"cannot remove {entry.path}: {exc.strerror or exc}; what is listed "
                                             "before it was removed") from None
        if removed and not dry_run:
            fsync_folder(folder)
    return sorted(removed)


def _month_of_mail(entry: os.DirEntry) -> str:
    # Mail we sent is named after its Message-ID, which starts with when it was made; any other
    # Maildir message's time is its file's modification time: when the server received it.
    return month_of_message_id(f"<{entry.name}@") or month_of(
        datetime.fromtimestamp(entry.stat().st_mtime, timezone.utc))
