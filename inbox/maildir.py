"""The embedded default transport: Maildirs on disk, no server needed.

    mailbox/inbox/      the shared mailbox (new/ cur/ tmp/)
    mailbox/processed/  handled mail, moved here only after its handling is durable
    mailbox/failed/     mail that could not be handled, untouched
    mailbox/sent/       every message the service sends, as a complete RFC 5322 file

A message's receipt time is its file's modification time, which a rename keeps.
"""
import hashlib
import logging
import os
import socket
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from core.errors import TemporaryFailure, TransportError
from core.durable import fsync, fsync_folder
from inbox.mailbox import Incoming, SetAside

log = logging.getLogger(__name__)
FOLDERS = ("inbox", "processed", "failed", "sent")


def make_maildir(folder: Path) -> Path:
    """Create a Maildir (new/ cur/ tmp/) if it is not there yet."""
    for sub in ("new", "cur", "tmp"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    return folder


def deliver(folder: Path, raw: bytes, *, name: str | None = None, received_at: datetime | None = None,
            sync_folder: bool = True) -> Path:
    """Put a message into a Maildir the standard way (tmp/ then new/); returns its path.

    The file is always fsync'd before the rename; with `sync_folder=False` the caller fsyncs new/ itself
    (once for many messages) before anything may rely on the new name being on the disk.
    """
    name = name or f"{time.time_ns()}.P{os.getpid()}R{os.urandom(4).hex()}.{socket.gethostname()}"
    tmp, final = folder / "tmp" / name, folder / "new" / name
    try:
        handle = open(tmp, "wb")
    except FileNotFoundError:
        make_maildir(folder)  # made only when missing: three mkdirs a letter were a tenth of a receipt's cost
        handle = open(tmp, "wb")
    with handle:
        handle.write(raw)
        handle.flush()
        fsync(handle.fileno())
    if received_at is not None:
        stamp = received_at.timestamp()
        os.utime(tmp, (stamp, stamp))
    try:
        os.replace(tmp, final)
    except FileNotFoundError:
        make_maildir(folder)  # new/ removed by hand while tmp/ stayed
        os.replace(tmp, final)
    if sync_folder:
        fsync_folder(final.parent)
    return final


class MaildirMailbox:
    """Reads the shared mailbox from `path/inbox` and files mail into processed/ and failed/; sends into sent/."""

    # A letter sent again, because the record that it went was lost to a power cut, lands in the same
    # file in sent/ (its name comes from the Message-ID): nobody gets it twice, so that record need
    # not be fsync'd on its own (Postman.sent_records_need_sync).
    resends_replace = True

    def __init__(self, path: Path):
        self.path = Path(path)
        self._listed: set[str] | None = None  # the inbox's messages as a pass last listed them (see wait_for_mail)
        self._sent_unsynced = False  # a letter renamed into sent/new whose name is not yet fsync'd (see send)
        self._read_in_sent: set[str] | None = None  # letters a mail client moved to sent/cur (see send)
        for name in FOLDERS:
            make_maildir(self.path / name)

    def waiting(self) -> Iterator[Incoming]:
        """Messages in inbox/new and inbox/cur, oldest receipt first."""
        inbox = self.path / "inbox"
        entries = []
        for sub in ("new", "cur"):
            for entry in os.scandir(inbox / sub):
                if entry.is_file() and not entry.name.startswith("."):
                    entries.append((entry.stat().st_mtime, f"{sub}/{entry.name}"))
        self._listed = {handle for _, handle in entries}
        for mtime, handle in sorted(entries):
            try:
                raw = (inbox / handle).read_bytes()
            except FileNotFoundError:
                continue  # moved by someone else meanwhile (e.g. a person in a mail client)
            yield Incoming(raw, datetime.fromtimestamp(mtime, timezone.utc), handle)

    def processed(self, message: Incoming) -> None:
        """Move a handled message to processed/cur.

        Not flushed to the disk: the store already holds the message as handled, so if a power cut
        undoes the move the message is found in inbox/ again and filed without being handled twice.
        """
        self._move(message, "processed", durable=False)

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled to failed/cur; the reason is in the log and the ledger."""
        self._move(message, "failed")

    def _move(self, message: Incoming, to: str, *, durable: bool = True) -> None:
        source = self.path / "inbox" / message.handle
        name = source.name if ":2," in source.name else source.name + ":2,"
        target = self.path / to / "cur" / name
        try:
            os.replace(source, target)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise TransportError(f"cannot move {message.handle} to {to}/: {exc}") from None
        if durable:
            fsync_folder(target.parent)

    # -- mail set aside, for `status` and `retry` ----------------------------------------------
    def set_aside(self) -> list[SetAside]:
        """The messages in failed/new and failed/cur, oldest receipt first."""
        found = []
        for sub in ("new", "cur"):
            for entry in os.scandir(self.path / "failed" / sub):
                if entry.is_file() and not entry.name.startswith("."):
                    info = entry.stat()
                    found.append(SetAside(f"{sub}/{entry.name}", datetime.fromtimestamp(info.st_mtime, timezone.utc),
                                          info.st_size))
        return sorted(found, key=lambda item: (item.received_at, item.name))

    def read_set_aside(self, item: SetAside) -> bytes:
        """The raw bytes of a message in failed/."""
        return (self.path / "failed" / item.name).read_bytes()

    def bring_back(self, item: SetAside) -> None:
        """Move a message from failed/ to inbox/new; a rename keeps its modification time, its receipt time."""
        source = self.path / "failed" / item.name
        base = source.name.split(":2,")[0]
        target = self.path / "inbox" / "new" / base
        if target.exists():
            target = target.with_name(f"{base}.retry{time.time_ns()}")
        try:
            os.replace(source, target)
        except OSError as exc:
            raise TransportError(f"cannot move {item.name} back to inbox/: {exc.strerror or exc}") from None
        fsync_folder(target.parent)
        fsync_folder(source.parent)

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Return as soon as inbox/ holds a message the last pass did not list, or after `seconds`.

        Compared with the pass's own listing, not with the folder as the wait begins: mail that landed
        while the pass ran (after it listed the inbox) wakes the daemon at once rather than waiting for
        the next poll. A message a pass listed but left (the store failing) wakes nothing, and news wakes
        the daemon once, so a pass that fails before reading the inbox is retried at the poll, not in a
        loop. A look every 0.25 s costs well under 1 ms of CPU a second (bench/bench_surge.py wake).
        """
        deadline = time.monotonic() + seconds
        known = self._listed if self._listed is not None else self._inbox_names()
        while True:
            names = self._inbox_names()
            if names - known:
                self._listed = names
                return
            left = deadline - time.monotonic()
            if left <= 0 or should_stop():
                return
            time.sleep(min(0.25, left))

    def _inbox_names(self) -> set[str]:
        inbox = self.path / "inbox"
        return {f"{sub}/{name}" for sub in ("new", "cur") for name in os.listdir(inbox / sub)
                if not name.startswith(".")}

    def folders(self) -> dict[str, int]:
        """How many messages each Maildir holds."""
        return {name: sum(1 for sub in ("new", "cur") for entry in os.scandir(self.path / name / sub)
                          if entry.is_file() and not entry.name.startswith(".")) for name in FOLDERS}

    def close(self) -> None:
        """Nothing to release (the folders are just files); a letter's name left unsynced is synced now."""
        self.flush_sent()

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Deliver into sent/; the file name comes from the Message-ID, so a resend after a crash replaces it.

        The file is fsync'd, but its name in sent/new is not yet: that is `flush_sent`, once for a whole
        batch of letters (one folder fsync instead of one per letter). Whoever records a letter as sent
        must call `flush_sent` first; the postman does (Postman._record_sent says why that is safe).
        """
        local = message_id.strip("<>").split("@")[0]
        # Our ids start with their UTC time, so sent/ lists in the order mail was written.
        name = local if local.replace(".", "").replace("-", "").isalnum() else hashlib.sha256(local.encode()).hexdigest()
        if name in self._moved_to_cur():
            # Sent before, and since marked read by a mail client serving this Maildir (sent/cur/NAME:2,S):
            # only a resend after a crash or power cut comes here. Written again it would be a second copy.
            log.info("already in sent/cur, not written again message_id=%s", message_id)
            return []
        try:
            deliver(self.path / "sent", raw, name=name, sync_folder=False)
        except OSError as exc:
            raise TemporaryFailure(f"cannot write to sent/: {exc}") from None
        self._sent_unsynced = True
        return []

    def flush_sent(self) -> None:
        """Make the names of the letters sent so far durable in sent/new: one folder fsync, if any went."""
        if self._sent_unsynced:
            try:
                fsync_folder(self.path / "sent" / "new")
            except OSError:
                self._read_in_sent = None  # these letters go again: sent/cur is looked at again first
                raise
            self._sent_unsynced = False

    def _moved_to_cur(self) -> set[str]:
        """The letters (by file name) a mail client moved from sent/new to sent/cur, listed once a process.

        A letter goes again only after a crash, a power cut or a failed flush, all before the first
        letters of a process (or of the pass after the failed flush): the list made then is enough,
        and this transport itself never writes to sent/cur, so it is empty unless a client reads sent/.
        """
        if self._read_in_sent is None:
            try:
                self._read_in_sent = {entry.split(":2,")[0] for entry in os.listdir(self.path / "sent" / "cur")}
            except FileNotFoundError:
                self._read_in_sent = set()
        return self._read_in_sent
