"""The shared mailbox over IMAP: the inbox read in receipt order, handled mail MOVEd to Processed or Failed.

- The receipt time is the server's INTERNALDATE, never the sender's Date:.
- A message is named by UIDVALIDITY/UID. If the server renumbers the inbox (a new UIDVALIDITY), an old
  name is not trusted: the message stays and the next pass meets it again, where the ledger knows it.
- MOVE where the server has it, else COPY + \\Deleted + UID EXPUNGE; both folders are created if absent.
- One connection for the reader's whole life; `wait_for_mail` IDLEs on it. A dropped connection is
  reopened following a Backoff policy; when that gives up, the caller gets a TemporaryFailure.
"""
import imaplib
import logging
import re
import time
from datetime import datetime, timezone
from typing import Callable, Iterator

from core.backoff import Backoff
from core.errors import PermanentFailure, TemporaryFailure, TransportError
from core.netdiag import tls_context
from inbox.imap_connection import (DROPPED, ImapSettings, Login, check, closed_on_failure, connect, folder_name,
                                   log_out, utf7)
from inbox.imap_idle import IdleDropped, idle
from inbox.mailbox import Incoming, TransportState

log = logging.getLogger("auditmail.imap")
# Without IDLE, ask the server this often whether mail came.
POLL_WITHOUT_IDLE = 5.0
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
META = re.compile(rb"UID (\d+)|INTERNALDATE \"([^\"]+)\"")


class ImapReader:
    """Reads `inbox_folder` and files mail into `processed_folder` and `failed_folder` on one IMAP connection."""

    def __init__(self, settings: ImapSettings, login: Login, state: TransportState, *,
                 retry: Backoff = Backoff(), context=None):
        self.settings, self._login, self._state, self.retry, self._context = settings, login, state, retry, context
        self._connection: imaplib.IMAP4 | None = None
        self._uidvalidity = ""
        self._seen_uid = 0  # the highest UID listed so far: anything above it is new mail

    # --- the connection ---------------------------------------------------------------------------

    def _open(self) -> imaplib.IMAP4:
        """Connect, make sure the folders exist, select the inbox and check its UIDVALIDITY."""
        if self._context is None and self.settings.security != "plain":
            self._context = tls_context()  # made once: loading the system's authorities takes a while
        connection = connect(self.settings, self._login, self._context)
        with closed_on_failure(connection, log_out, f"{self.settings.where} closed the connection while we set up"):
            existing = _folders(connection)
            for name in (self.settings.processed_folder, self.settings.failed_folder):
                if utf7(name) not in existing:
                    status, data = connection.create(folder_name(name))
                    if status != "OK" and b"ALREADYEXISTS" not in b" ".join(data):  # made meanwhile: fine
                        check((status, data), f"create the folder {name!r}")
                    log.info("created the IMAP folder %s", name)
            status, data = connection.select(folder_name(self.settings.inbox_folder))
            if status != "OK":
                raise PermanentFailure(f"the IMAP folder {self.settings.inbox_folder!r} does not exist or cannot be "
                                       f"opened (imap.inbox_folder): {data[0].decode(errors='replace')}")
            self._check_uidvalidity(connection)
        return connection

    def _check_uidvalidity(self, connection: imaplib.IMAP4) -> None:
        _, [value] = connection.response("UIDVALIDITY")
        self._uidvalidity = value.decode() if value else "0"
        key = f"imap/{self.settings.host}/{self.settings.username}/{self.settings.inbox_folder}/uidvalidity"
        before = self._state.get(key)
        if before is not None and before != self._uidvalidity:
            # Every UID we knew is void; what is still in the inbox is met again and the ledger knows it.
            log.warning("the IMAP server renumbered %s (UIDVALIDITY %s -> %s); its messages will be looked at again",
                        self.settings.inbox_folder, before, self._uidvalidity)
            self._seen_uid = 0
        self._state.put(key, self._uidvalidity)

    def _run(self, operation: Callable[[imaplib.IMAP4], object]):
        """Do `operation` on the open connection; if it dropped, reconnect following the retry policy and redo it."""
        waits = self.retry.waits()
        while True:
            try:
                if self._connection is None:
                    self._connection = self._open()
                return operation(self._connection)
            except (TemporaryFailure, *DROPPED) as exc:
                log_out(self._connection)
                self._connection = None
                wait = next(waits, None)
                if wait is None:
                    raise exc if isinstance(exc, TemporaryFailure) else TemporaryFailure(
                        f"lost the connection to {self.settings.where} and could not get it back: {exc}") from None
                log.warning("IMAP connection lost (%s); reconnecting in %.1f s", exc, wait,
                            exc_info=log.isEnabledFor(logging.DEBUG))
                self.retry.sleep(wait)

    # --- MailboxReader ----------------------------------------------------------------------------

    def waiting(self) -> Iterator[Incoming]:
        """The inbox's messages (not marked deleted), oldest INTERNALDATE first, each fetched when its turn comes."""
        listing, uidvalidity = self._run(lambda c: (_listing(c), self._uidvalidity))
        self._seen_uid = max([self._seen_uid, *(uid for uid, _ in listing)])
        for uid, received_at in sorted(listing, key=lambda item: (item[1], item[0])):
            raw = self._run(lambda c: _body(c, uid) if self._uidvalidity == uidvalidity else None)
            if raw is None:
                if self._uidvalidity != uidvalidity:
                    return  # renumbered meanwhile: the next pass lists the inbox afresh
                continue  # moved or deleted meanwhile (a person in a mail client)
            yield Incoming(raw, received_at, f"{uidvalidity}/{uid}")

    def processed(self, message: Incoming) -> None:
        """MOVE a handled message to the processed folder."""
        self._move(message, self.settings.processed_folder)

    def failed(self, message: Incoming, reason: str) -> None:
        """MOVE a message that could not be handled to the failed folder; the reason is in the log and the ledger."""
        self._move(message, self.settings.failed_folder)

    def _move(self, message: Incoming, folder: str) -> None:
        uidvalidity, uid = message.handle.split("/")

        def move(connection: imaplib.IMAP4) -> None:
            if self._uidvalidity != uidvalidity:
                log.warning("not moving %s: the inbox was renumbered; the next pass files it", message.handle)
                return
            target = folder_name(folder)
            command = "MOVE" if "MOVE" in connection.capabilities else "COPY"
            status, data = connection.uid(command, uid, target)
            if status != "OK" and b"TRYCREATE" in b" ".join(d for d in data if isinstance(d, bytes)):
                # Someone deleted the folder since we started: make it again, as we did at the start.
                check(connection.create(target), f"create the folder {folder!r}")
                status, data = connection.uid(command, uid, target)
            check((status, data), f"{command.lower()} a message to {folder!r}")
            if command == "MOVE":
                return
            check(connection.uid("STORE", uid, "+FLAGS.SILENT", r"(\Deleted)"), "mark a copied message deleted")
            if "UIDPLUS" in connection.capabilities:
                check(connection.uid("EXPUNGE", uid), "expunge a copied message")
            else:
                check(connection.expunge(), "expunge a copied message")

        self._run(move)

    # --- Mailbox ----------------------------------------------------------------------------------

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Return when new mail arrives (IDLE), after `seconds`, or within a second of `should_stop()` turning true."""
        deadline = time.monotonic() + seconds
        try:
            if self._run(self._new_mail_listed):
                return  # it came between the last pass and now
            if "IDLE" in self._run(lambda c: c.capabilities):
                self._run(lambda c: idle(c, max(0.0, deadline - time.monotonic()), should_stop))
                return
            next_poll = time.monotonic() + POLL_WITHOUT_IDLE
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
                if time.monotonic() >= next_poll:
                    if self._run(self._new_mail_listed):
                        return
                    next_poll += POLL_WITHOUT_IDLE
        except IdleDropped as exc:
            # Back to the caller at once: its next pass reconnects (with backoff) and looks at the inbox.
            log.warning("IMAP connection lost while waiting for mail (%s)", exc, exc_info=log.isEnabledFor(logging.DEBUG))
            self.close()
        except TransportError as exc:
            # The server stays away (or refuses us): the next pass says so plainly; until then wait, not spinning.
            log.warning("waiting for mail: %s", exc, exc_info=log.isEnabledFor(logging.DEBUG))
            self.close()
            while time.monotonic() < deadline and not should_stop():
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def _new_mail_listed(self, connection: imaplib.IMAP4) -> bool:
        """Whether the inbox holds a UID above the highest one listed so far (mail came between passes)."""
        data = check(connection.uid("SEARCH", None, f"UID {self._seen_uid + 1}:*"), "search the inbox")
        return any(int(uid) > self._seen_uid for uid in data[0].split())

    def folders(self) -> dict[str, int]:
        """How many messages the inbox, processed and failed folders hold (for `doctor`)."""
        def count(connection: imaplib.IMAP4) -> dict[str, int]:
            counts = {}
            for name in (self.settings.inbox_folder, self.settings.processed_folder, self.settings.failed_folder):
                data = check(connection.status(folder_name(name), "(MESSAGES)"), f"count the messages in {name!r}")
                counts[name] = int(re.search(rb"MESSAGES (\d+)", data[0]).group(1))
            return counts
        return self._run(count)

    def close(self) -> None:
        """Log out."""
        log_out(self._connection)
        self._connection = None


def _folders(connection: imaplib.IMAP4) -> set[str]:
    """The names of the folders the server lists, as it spells them (modified UTF-7, unquoted)."""
    names = set()
    for line in check(connection.list(), "list its folders"):
        if isinstance(line, bytes):
            match = re.search(rb'\) (?:"[^"]*"|NIL) "?((?:[^"\\]|\\.)*)"?$', line)
            if match:
                names.add(match.group(1).decode().replace('\\"', '"').replace("\\\\", "\\"))
    return names


def _listing(connection: imaplib.IMAP4) -> list[tuple[int, datetime]]:
    """(UID, INTERNALDATE) of each message in the selected folder not marked deleted."""
    uids = check(connection.uid("SEARCH", None, "UNDELETED"), "search the inbox")[0].split()
    if not uids:
        return []
    listing = []
    for line in check(connection.uid("FETCH", b",".join(uids).decode(), "(UID INTERNALDATE)"), "list the inbox"):
        found = dict(_meta(line if isinstance(line, bytes) else line[0]))
        if "uid" in found and "date" in found:
            listing.append((int(found["uid"]), internaldate(found["date"])))
    return listing


def _meta(line: bytes) -> Iterator[tuple[str, str]]:
    for uid, date in META.findall(line):
        yield ("uid", uid.decode()) if uid else ("date", date.decode())


def _body(connection: imaplib.IMAP4, uid: int) -> bytes | None:
    """The raw message, without setting \\Seen (so a dry run changes nothing); None when it is gone."""
    for part in check(connection.uid("FETCH", str(uid), "(BODY.PEEK[])"), "fetch a message"):
        if isinstance(part, tuple) and re.search(rb"UID %d\b" % uid, part[0]) and b"BODY[]" in part[0]:
            return part[1]
    return None


def internaldate(text: str) -> datetime:
    """An IMAP INTERNALDATE ("30-Nov-2026 23:58:00 +0000", day maybe space-padded) as a UTC datetime."""
    day, month, rest = text.strip().split("-", 2)
    # The month by our own table: strptime's %b follows the process's locale.
    parsed = datetime.strptime(f"{int(day):02d}-{MONTHS.index(month.title()) + 1:02d}-{rest}", "%d-%m-%Y %H:%M:%S %z")
    return parsed.astimezone(timezone.utc)
