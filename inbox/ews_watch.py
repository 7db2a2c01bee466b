"""Fast pickup on EWS: a streaming subscription on the inbox, held open by a background thread.

EWS streaming notifications (Exchange 2010 SP1 and later) push a NewMail event down a long-lived HTTP
response. A thread holds that response and raises a flag; `wait` returns as soon as the flag is up.
When the server does not offer streaming, or it keeps failing, `wait` says so and the mailbox polls.
The daemon's periodic pass stays the safety net either way: a lost notification delays mail, never loses it.
"""
import logging
import threading
import time
from typing import Callable

from core.ews import Diagnosis

log = logging.getLogger("auditmail.ews")
CONNECTION_MINUTES = 1   # each streaming connection lasts this long before it is renewed (EWS minimum)
MAX_FAILURES = 3         # in a row, before streaming is given up for polling


class NewMailWatch:
    """Holds one streaming subscription on the inbox; `wait` blocks until new mail or a time-out."""

    def __init__(self, inbox: Callable[[], object], diagnosis: Diagnosis):
        self._inbox = inbox
        self._diagnosis = diagnosis
        self._new_mail = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.available = True  # until the server shows it cannot stream

    def wait(self, seconds: float, should_stop: Callable[[], bool]) -> bool:
        """True when new mail arrived or the time is up; False when streaming is unavailable (poll instead)."""
        self._start()
        deadline = time.monotonic() + seconds
        while self.available and not should_stop():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if self._new_mail.wait(timeout=min(0.25, remaining)):
                self._new_mail.clear()
                return True
        return self.available

    def stop(self) -> None:
        """Ask the thread to end; it is a daemon thread, so a connection still open never holds up exit."""
        self._stopping.set()

    def _start(self) -> None:
        if self._thread is None and self.available:
            self._thread = threading.Thread(target=self._run, name="ews-streaming", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        from exchangelib.errors import ErrorInvalidSubscription, ErrorSubscriptionNotFound
        from exchangelib.properties import NewMailEvent

        subscription, failures = None, 0
        while not self._stopping.is_set():
            try:
                inbox = self._inbox()
                if subscription is None:
                    subscription = inbox.subscribe_to_streaming(event_types=[NewMailEvent.ELEMENT_NAME])
                for notification in inbox.get_streaming_events(subscription, connection_timeout=CONNECTION_MINUTES):
                    if any(isinstance(event, NewMailEvent) for event in notification.events):
                        self._new_mail.set()
                    if self._stopping.is_set():
                        return
                failures = 0
            except (ErrorInvalidSubscription, ErrorSubscriptionNotFound):
                subscription = None  # expired while we were away: subscribe again
            except Exception as exc:  # noqa: BLE001 - whatever goes wrong here, polling still finds the mail
                failures += 1
                reason = self._diagnosis.translate(exc, "streaming notifications").message
                if failures >= MAX_FAILURES or _unsupported(exc):
                    log.warning("new mail will be found by polling: %s", reason, exc_info=log.isEnabledFor(logging.DEBUG))
                    self.available = False
                    return
                log.info("streaming notifications interrupted (%s); reconnecting", reason,
                         exc_info=log.isEnabledFor(logging.DEBUG))
                subscription = None
                self._stopping.wait(2 ** failures)


def _unsupported(exc: Exception) -> bool:
    """The server cannot stream (too old, or streaming switched off): no point asking again."""
    from exchangelib.errors import ErrorInvalidRequest, ErrorInvalidServerVersion, ErrorInvalidSchemaVersionForMailboxVersion

    return isinstance(exc, (ErrorInvalidRequest, ErrorInvalidServerVersion, ErrorInvalidSchemaVersionForMailboxVersion))
