"""The shared mailbox over Exchange Web Services (exchangelib): on-premises Exchange, or Exchange Online while allowed.

Reading: the inbox's items oldest receipt first, each fetched as its raw MIME (so the same parser serves
every transport) with `datetime_received` as the receipt time. Handled mail is moved to the processed
folder, failed mail to the failed folder; both live beside the inbox (under the mailbox's top folder,
msgfolderroot) and are created when missing. Sending is a MailSender handed in (mailer/ews.py), sharing
the same Account. New mail is noticed through a streaming subscription, with polling behind it.
"""
import logging
import time
from datetime import datetime, timezone
from typing import Callable, Iterator

from core.ews import Diagnosis
from core.errors import TransportError
from inbox.ews_watch import NewMailWatch
from inbox.mailbox import Incoming, MailSender

log = logging.getLogger("auditmail.ews")
POLL_EVERY = 15  # seconds between looks at the inbox's count when streaming is not available
PAGE = 100       # items listed per FindItem request


class EwsMailbox:
    """The Mailbox protocol over one exchangelib Account (built by app/transports.py)."""

    def __init__(self, account, *, processed_folder: str, failed_folder: str, sender: MailSender,
                 diagnosis: Diagnosis, close: Callable[[], None] = lambda: None, streaming: bool = True):
        self._account = account
        self._names = {"processed": processed_folder, "failed": failed_folder}
        self._sender = sender
        self._diagnosis = diagnosis
        self._close = close
        self._inbox_folder = None
        self._targets: dict = {}
        self._watch = NewMailWatch(self._inbox, diagnosis) if streaming else None

    # --- reading ---------------------------------------------------------------------------------

    def waiting(self) -> Iterator[Incoming]:
        """The inbox's messages, oldest receipt first, each with its raw MIME and `datetime_received`."""
        from exchangelib.errors import ErrorItemNotFound

        calls = self._diagnosis.calls
        with calls("listing the inbox"):
            inbox = self._inbox()
            query = inbox.all().order_by("datetime_received").only("datetime_received")
            query.page_size = PAGE
            listed = [(item.id, item.changekey) for item in query]
        for item_id, changekey in listed:
            with calls("reading a message"):
                item = next(iter(self._account.fetch(ids=[(item_id, changekey)], folder=inbox,
                                                     only_fields=["mime_content", "datetime_received"])))
            if isinstance(item, ErrorItemNotFound):
                continue  # moved meanwhile (e.g. by a person in Outlook)
            if isinstance(item, Exception):
                raise self._diagnosis.translate(item, "reading a message")
            if item.mime_content is None or item.datetime_received is None:
                log.warning("item %s has no MIME content or receipt time; left in the inbox", item_id[-12:])
                continue
            yield Incoming(_bytes(item.mime_content), _utc(item.datetime_received), item_id)

    def processed(self, message: Incoming) -> None:
        """Move a handled message to the processed folder."""
        self._move(message, "processed")

    def failed(self, message: Incoming, reason: str) -> None:
        """Move a message that could not be handled to the failed folder, untouched."""
        self._move(message, "failed")

    def _move(self, message: Incoming, to: str) -> None:
        from exchangelib.errors import ErrorItemNotFound

        action = f"moving a message to {self._names[to]}"
        with self._diagnosis.calls(action):
            results = self._account.bulk_move(ids=[(message.handle, None)], to_folder=self._target(to))
        for result in results:
            if isinstance(result, ErrorItemNotFound):
                return  # already gone from the inbox: nothing left to move
            if isinstance(result, Exception):
                raise self._diagnosis.translate(result, action)

    # --- folders ---------------------------------------------------------------------------------

    def _inbox(self):
        if self._inbox_folder is None:
            self._inbox_folder = self._account.inbox  # GetFolder on the distinguished id, in the shared mailbox
        return self._inbox_folder

    def _target(self, which: str):
        """The processed or failed folder under the mailbox's top folder, created if it is missing."""
        if which not in self._targets:
            from exchangelib.folders import FolderCollection, Messages

            name = self._names[which]
            top = self._account.msg_folder_root  # the inbox's parent: "Top of Information Store"
            found = [f for f in FolderCollection(account=self._account, folders=[top]).find_folders(depth="Shallow")
                     if not isinstance(f, Exception) and f.name == name]
            if found:
                self._targets[which] = found[0]
            else:
                folder = Messages(parent=top, name=name, folder_class="IPF.Note")  # a mail folder, as Outlook makes
                folder.save()
                log.info("created the folder %s in %s", name, self._account.primary_smtp_address)
                self._targets[which] = folder
        return self._targets[which]

    def folders(self) -> dict[str, int]:
        """How many messages the inbox, the processed and the failed folder hold (for `doctor`)."""
        with self._diagnosis.calls("counting the folders"):
            inbox = self._inbox()
            inbox.refresh()
            counts = {"Inbox": inbox.total_count}
            for which in ("processed", "failed"):
                folder = self._target(which)
                folder.refresh()
                counts[self._names[which]] = folder.total_count
        return counts

    # --- waiting and sending ---------------------------------------------------------------------

    def wait_for_mail(self, seconds: float, should_stop: Callable[[], bool]) -> None:
        """Return when new mail arrives (streaming notification), `seconds` pass, or `should_stop()` is true."""
        deadline = time.monotonic() + seconds
        if self._watch is not None and self._watch.wait(seconds, should_stop):
            return
        self._poll(deadline, should_stop)  # streaming unavailable: look at the inbox's count now and then

    def _poll(self, deadline: float, should_stop: Callable[[], bool]) -> None:
        before = self._count()
        next_look = time.monotonic() + POLL_EVERY
        while time.monotonic() < deadline and not should_stop():
            time.sleep(min(0.25, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= next_look:
                next_look = time.monotonic() + POLL_EVERY
                now = self._count()
                if now is not None and before is not None and now != before:
                    return
                before = before if before is not None else now  # the server was away when we started

    def _count(self) -> int | None:
        try:
            with self._diagnosis.calls("looking for new mail"):
                inbox = self._inbox()
                inbox.refresh()
                return inbox.total_count
        except TransportError as exc:
            log.debug("could not look for new mail: %s", exc.message, exc_info=True)  # the next pass reports it
            return None

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Send through the EWS sender sharing this Account."""
        return self._sender.send(raw, message_id, recipients)

    def close(self) -> None:
        """Stop the streaming subscription and close the connections."""
        if self._watch is not None:
            self._watch.stop()
        self._close()


def _utc(value) -> datetime:
    """exchangelib's EWSDateTime as a plain tz-aware UTC datetime."""
    return datetime.fromtimestamp(value.timestamp(), tz=timezone.utc)


def _bytes(mime) -> bytes:
    return mime if isinstance(mime, bytes) else str(mime).encode("utf-8")

