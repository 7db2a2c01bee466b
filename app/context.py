"""The application context: configuration, clock, store, mailbox, composer and router, built once and passed around."""
import logging
import os
import shutil
from email import message_from_bytes, policy
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from app.backups import take_daily_backup
from app.handlers import not_automated, register_defaults
from app.router import Router
from app.transports import open_mailbox
from core.clock import Clock
from core.config import Config
from core.errors import ConfigError, StoreUnusable
from db.backups import copy_whole
from db.files import private_by_default
from db.opening import damage_message
from db.ledger import Ledger
from db.roster import RosterRepo
from db.store import Store
from inbox.classify import Classifier
from inbox.maildir import MaildirMailbox
from inbox.mailbox import Incoming, Mailbox, MailboxReader, MailSender
from mailer.compose import Composer
from workflows.items import People
from db.bank_holidays import bank_holidays_beside  # issue 11: the bank holidays cache
from workflows.calendar import WorkingCalendar
from app.postman import Postman

log = logging.getLogger("auditmail")
ScheduledJob = Callable[["Context"], None]


@dataclass
class Context:
    """Everything one running instance needs; built by `open_context`, closed with `close`."""

    config: Config
    clock: Clock
    store: Store
    reader: MailboxReader
    postman: Postman
    classifier: Classifier
    router: Router
    scheduled: list[ScheduledJob] = field(default_factory=list)
    _cleanup: Path | None = None
    _mailbox: Mailbox | None = None  # closed with the service when the service opened it

    @property
    def roster(self) -> RosterRepo:
        """The people on the roster."""
        return RosterRepo(self.store)

    @property
    def people(self) -> People:
        """The roster and the configured Director and delegates, as the rules take them."""
        directors = self.roster.with_role("director")
        return People({p.email: p for p in self.roster.all()},
                      director=directors[0].email if directors else self.config.letterhead.email,
                      delegates=dict(self.config.delegates))

    @property
    def ledger(self) -> Ledger:
        """The monthly ledgers."""
        return Ledger(self.store)

    # -- working days (issue 11): England's bank holidays from the store folder's cache -----------
    @property
    def calendar(self) -> WorkingCalendar:
        """Working days by the config's closure days and England's bank holidays, as the store folder's
        cache keeps them (db/bank_holidays.py): a warm cache spares the process importing `holidays`."""
        return WorkingCalendar(self.config.closure_days, bank_holidays_beside(os.path.abspath(self.store.folder)))

    def pause(self, *, fold: bool = False) -> None:
        """Between two passes of the daemon: let other writers in, keeping what the store read (db/kept.py)."""
        self.store.pause(fold=fold, sync=self.postman.sent_records_need_sync)

    def resume(self) -> bool:
        """Before the daemon's next pass: True when what was kept is still the truth; False when another
        writer changed the store meanwhile, and this service must be closed and opened afresh."""
        return self.store.resume(WAIT_FOR_STORE_SECONDS)

    def close(self) -> None:
        """Release the store (and remove a dry run's scratch copy)."""
        self.store.close()
        if self._mailbox:
            self._mailbox.close()
        if self._cleanup:
            shutil.rmtree(self._cleanup, ignore_errors=True)


# How long a command waits for the daemon's current pass (or another command) to finish writing.
WAIT_FOR_STORE_SECONDS = 60


def open_context(config: Config, clock: Clock, *, dry_run_output: Callable[[str], None] | None = None,
                 read_only: bool = False, wait_seconds: float = WAIT_FOR_STORE_SECONDS,
                 mailbox: Mailbox | None = None) -> Context:
    """Build the service from its configuration; with `dry_run_output`, nothing is changed or sent.

    `read_only` (for `status` and `report`) takes no lock, so it works while the daemon runs.
    `mailbox` is the daemon's long-lived connection; without it the service connects on first use
    (so `status` never connects) and closes it.
    """
    _check_folders(config)
    owns_mailbox = mailbox is None
    if mailbox is None:
        mailbox = MailboxOnFirstUse(config)
    reader: MailboxReader = mailbox
    sender: MailSender = mailbox
    store_path, cleanup = config.store_path, None
    if dry_run_output:
        # A dry run works on a scratch copy of the store and leaves the mailbox untouched,
        # so it shows exactly what a real pass would do and changes nothing.
        Store(config.store_path, writer=False, backups=config.backup_path).close()  # problems named as they are
        cleanup = Path(tempfile.mkdtemp(prefix="auditmail-dry-run-"))
        store_path = cleanup / "data"
        if config.store_path.exists():
            copy_whole(config.store_path, store_path, wait_seconds)
        reader = _ReadOnlyMailbox(mailbox)
        sender = _PrintingSender(dry_run_output)
    store = open_checked_store(config, store_path, read_only=read_only, wait_seconds=wait_seconds)
    composer = Composer(config.letterhead, config.mailbox_address, config.mailbox_name)
    postman = Postman(store, composer, sender, clock, config.max_answers_per_sender_per_day, config.max_send_attempts)
    roster, ledger = RosterRepo(store), Ledger(store)
    classifier = Classifier(config.mailbox_address, roster.get, ledger.sent_mail)
    router = Router(fallback=not_automated)
    register_defaults(router)
    ctx = Context(config, clock, store, reader, postman, classifier, router, _cleanup=cleanup,
                      _mailbox=mailbox if owns_mailbox else None)
    for register in _workflows():
        register(ctx)
    if not dry_run_output:
        ctx.scheduled.append(take_daily_backup)  # last: after the pass's own work, once a London day
    return ctx


# -- opening the store: never a missing, mistyped or damaged one (db/opening.py) -------------------

def _check_folders(config: Config) -> None:
    """Refuse store.path or mailbox.path naming a file or a folder this user cannot write, in one line."""
    private_by_default()  # everything this process creates is readable by the service's user only
    folders = [("store.path", config.store_path)]
    if config.transport == "maildir":
        folders.append(("mailbox.path", config.maildir_path))
    for key, path in folders:
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path} is a file, not a folder", key=key)
        if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"the folder {path} cannot be written by this user; run the service as its owner",
                              key=key)
    if config.transport == "maildir":
        if not (config.maildir_path / "inbox").is_dir():
            # Opening a Maildir makes what is missing: a mistyped path would become a new, empty mailbox
            # that nobody writes to, watched for ever while the real one fills up.
            raise ConfigError(f"there is no mailbox at {config.maildir_path} (no inbox/ folder in it): check the "
                              "path; `auditmail init DIR` makes one", key="mailbox.path")
        try:
            MaildirMailbox(config.maildir_path)  # makes processed/ failed/ sent/ if missing
        except OSError as exc:
            raise ConfigError(f"cannot use {config.maildir_path}: {exc.strerror or exc}", key="mailbox.path") from None


def open_checked_store(config: Config, path: Path, *, read_only: bool, wait_seconds: float) -> Store:
    """The checked store, with a roster that has people in it and the configured Director among them."""
    store = Store(path, writer=not read_only, wait_seconds=wait_seconds, backups=config.backup_path,
                  logged=True)  # one small fsync'd append per transaction; files rewritten at a fold
    try:
        roster = RosterRepo(store)
        if not roster.all():
            raise StoreUnusable(damage_message(f"{config.store_path / 'roster.json'} has nobody in it (import a roster "
                                               "with `auditmail roster import CSV`, or restore)", config.backup_path))
        director = config.letterhead.email.strip().lower()
        if roster.get(director) is None:
            raise ConfigError(f"{director} is not on the roster ({config.store_path / 'roster.json'}): import a "
                              "roster that includes the Director, or correct director.email. Nothing was read "
                              "from the inbox", key="director.email")
    except BaseException:
        store.close()
        raise
    return store


def _workflows() -> list[Callable[[Context], None]]:
    """Each workflow's `register(ctx)`: its recognisers, handlers and scheduled jobs."""
    from app import cycle, requests  # imported here: the workflows build on the ctx, not the reverse
    from app import actions, digests  # remedial actions and digests (issue 9)
    from app import moderation  # issue 9: moderation requests and closing
    from app import reports  # the monthly QA report, sent when moderation closes (issue 9)

    # Moderation before requests: its closing runs before the one chase of every chased kind.
    return [cycle.register, moderation.register, requests.register, actions.register, reports.register,
            digests.register]


class MailboxOnFirstUse:
    """The configured mailbox, connected only when something first reads, sends or waits through it."""

    def __init__(self, config: Config):
        self._config = config
        self._mailbox: Mailbox | None = None

    @property
    def connected(self) -> bool:
        """Whether the mailbox was opened."""
        return self._mailbox is not None

    def __getattr__(self, name: str):
        if self._mailbox is None:
            self._mailbox = open_mailbox(self._config)
        return getattr(self._mailbox, name)

    def close(self) -> None:
        """Close the mailbox if it was ever opened."""
        if self._mailbox is not None:
            mailbox, self._mailbox = self._mailbox, None
            mailbox.close()


class _ReadOnlyMailbox:
    """A dry run's view of the mailbox: reads the inbox, moves nothing."""

    def __init__(self, mailbox: MailboxReader):
        self._mailbox = mailbox

    def waiting(self):
        return self._mailbox.waiting()

    def processed(self, message: Incoming) -> None:
        pass

    def failed(self, message: Incoming, reason: str) -> None:
        pass


class _PrintingSender:
    """A dry run's sender: shows each message instead of sending it."""

    def __init__(self, output: Callable[[str], None]):
        self._output = output

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        message = message_from_bytes(raw, policy=policy.default)
        body = message.get_body(("plain",))
        self._output(f"--- would send {message_id} to {', '.join(recipients)}\n"
                     f"Subject: {message['Subject']}\n\n{body.get_content() if body else ''}")
        return []
