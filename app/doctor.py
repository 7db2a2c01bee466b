"""`auditmail doctor [--send-test ADDRESS]`: a checklist an IT team can act on, before the daemon runs.

    ok config /srv/audits/config.toml (transport imap)
    ok store /srv/audits/data (104 people on the roster)
    ok connected to imap imap.council.example:993, smtp smtp.council.example:587
    ok folder INBOX: 3 messages
    FAILED send test message to it@council.example: <the transport's plain diagnosis>

Each step is a `Check`; the first failure that makes the rest meaningless ends the list. The words
of a failure are the transport's own one-line diagnosis (wrong password, missing permission, unreachable
host, TLS problem, missing folder), so doctor says exactly what the daemon would log.
"""
import getpass
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from app.context import open_checked_store
from app.transports import open_mailbox
from core.clock import Clock
from core.config import Config, load_config
from core.errors import AuditMailError
from db.roster import RosterRepo
from inbox.mailbox import Mailbox
from inbox.maildir import FOLDERS
from mailer.compose import Composer

TEST_SUBJECT = "auditmail doctor: test message"


@dataclass(frozen=True)
class Check:
    """One line of the checklist."""

    ok: bool
    text: str

    def __str__(self) -> str:
        return f"{'ok' if self.ok else 'FAILED'} {self.text}"


def checks(config_path: Path, clock: Clock, send_test: str | None = None,
           connect: Callable[[Config], Mailbox] = open_mailbox) -> Iterator[Check]:
    """Check the config, connect, count each folder, and optionally send a test message; one Check per step."""
    try:
        config = load_config(config_path)
    except AuditMailError as exc:
        yield Check(False, f"config: {exc.message.removeprefix('config: ')}")
        return
    yield Check(True, f"config {config.source} (transport {config.transport})")
    yield _store(config)
    where = describe(config)
    problem = _maildir_problem(config)
    if problem:
        yield Check(False, f"connect to {where}: {problem}")
        return
    try:
        mailbox = connect(config)
    except (AuditMailError, OSError) as exc:
        yield Check(False, f"connect to {where}: {_diagnosis(exc)}")
        return
    try:
        # A transport may connect only when first used: counting the folders is the first real contact.
        try:
            counts = mailbox.folders()
        except (AuditMailError, OSError) as exc:
            yield Check(False, f"connect to {where}: {_diagnosis(exc)}")
            return
        yield Check(True, f"connected to {where}")
        for name, count in counts.items():
            yield Check(True, f"folder {name}: {count} message{'s' * (count != 1)}")
        if send_test:
            yield _send_test(mailbox, config, clock, send_test)
    finally:
        try:
            mailbox.close()
        except (AuditMailError, OSError):
            pass  # closing a connection that already failed tells IT nothing new


def describe(config: Config) -> str:
    """Where the configured mailbox is, in the words of its own config keys."""
    if config.transport == "imap":
        imap, smtp = config.settings("imap"), config.settings("smtp")
        return f"imap {imap['host']}:{imap['port']} as {imap['username']}, smtp {smtp['host']}:{smtp['port']}"
    if config.transport == "ews":
        ews = config.settings("ews")
        return f"ews {ews['service_endpoint'] or ews['server']} as {ews['username']} for {config.mailbox_address}"
    if config.transport == "graph":
        return f"graph {config.settings('graph')['endpoint']} for {config.mailbox_address}"
    return f"maildir {config.maildir_path}"


def _maildir_problem(config: Config) -> str | None:
    # Opening a maildir creates what is missing, so a mistyped `path` would quietly become a new,
    # empty mailbox the daemon watches forever. Doctor looks before it opens.
    if config.transport != "maildir":
        return None
    base = config.maildir_path
    for folder in (base, base / "inbox"):
        if not folder.is_dir():
            return (f"missing folder {folder} (check mailbox.path in {config.source.name}; "
                    "`auditmail init DIR` makes the folders)")
    for name in FOLDERS:
        for folder in (base / name, *(base / name / sub for sub in ("new", "cur", "tmp"))):
            if folder.exists() and not (folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)):
                return (f"folder {folder} is not writable by this user ({getpass.getuser()}); "
                        "the service moves and writes mail there")
    return None


def _store(config: Config) -> Check:
    """The store opens and passes every check the daemon makes before it reads the inbox."""
    try:
        store = open_checked_store(config, config.store_path, read_only=True, wait_seconds=0)
    except AuditMailError as exc:
        return Check(False, f"store {config.store_path}: {exc.message.removeprefix('config: ')}")
    try:
        people = len(RosterRepo(store).all())
    finally:
        store.close()
    return Check(True, f"store {config.store_path} ({people} people on the roster)")


def _send_test(mailbox: Mailbox, config: Config, clock: Clock, address: str) -> Check:
    """A real letter from the real composer, so it carries every header our letters carry."""
    composer = Composer(config.letterhead, config.mailbox_address, config.mailbox_name)
    message = composer.letter("doctor/test_message", to=[address], subject=TEST_SUBJECT, now=clock.now(), context={
        "salutation": "Colleague", "signatory_name": "The Quality Assurance Team",
        "signatory_title": config.letterhead.organisation})
    message_id = message["Message-ID"]
    try:
        refused = mailbox.send(message.as_bytes(), message_id, [address])
    except (AuditMailError, OSError) as exc:
        return Check(False, f"send test message to {address}: {_diagnosis(exc)}")
    if refused:
        return Check(False, f"send test message to {address}: the server refused the recipient {', '.join(refused)}")
    return Check(True, f"test message sent to {address} (Message-ID {message_id})")


def _diagnosis(exc: Exception) -> str:
    """The transport's one line; an operating-system error (a maildir on disk) as what and where."""
    if isinstance(exc, AuditMailError):
        return exc.message
    where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
    return f"{exc.strerror or type(exc).__name__}{where}"
