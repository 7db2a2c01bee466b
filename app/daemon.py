"""The daemon: one loop of (intake pass, scheduled work, delivery, sleep) until told to stop.

`schedule` only sets the rhythm. What a scheduled job does is derived from stored state and the
ledger of what was already done, so a daemon that was down at 09:00 does the 09:00 work once
when it comes back, never twice. SIGTERM and SIGINT let the current message finish, then stop.
"""
import logging
import signal
import threading
from typing import Callable

import schedule

from app.intake import intake_pass
from app.service import Service
from core.config import Config
from core.errors import StoreError, TransportError
from db.lock import FolderLock

log = logging.getLogger("auditmail.daemon")


def one_pass(service: Service, should_stop=lambda: False) -> dict:
    """Send what is waiting, handle the inbox, run due scheduled work, send again; returns counts."""
    sent = service.postman.deliver_pending()  # mail a crash left unsent goes first
    handled, answered = intake_pass(service, should_stop)
    sent += answered
    for job in service.scheduled:
        if should_stop():
            break
        job(service)
    sent += service.postman.deliver_pending()
    return {"handled": handled, "sent": sent}


class Daemon:
    """Runs a pass every `poll_seconds` until stopped by a signal or `stop()`.

    The store is opened for each pass and closed after it, so between passes the QA team can run
    `issue` or `roster import`; the daemon lock keeps a second daemon from starting at all.
    """

    def __init__(self, open_pass: Callable[[], Service], config: Config):
        self._open_pass = open_pass
        self._config = config
        self._stop = threading.Event()
        self._scheduler = schedule.Scheduler()
        self._scheduler.every(config.poll_seconds).seconds.do(self._guarded_pass)

    def stop(self, *_signal_args) -> None:
        """Ask the loop to finish the current message and stop."""
        if not self._stop.is_set():
            log.info("stop requested; finishing the current message")
        self._stop.set()

    def run(self) -> None:
        """Loop until stopped; the first pass runs at once."""
        lock = FolderLock(self._config.store_path, "daemon.lock")
        lock.acquire()
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("daemon started; polling every %d s", self._config.poll_seconds)
        try:
            self._guarded_pass()
            while not self._stop.is_set():
                self._scheduler.run_pending()
                self._stop.wait(timeout=min(1.0, max(0.05, self._scheduler.idle_seconds or 1.0)))
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            lock.release()
            log.info("daemon stopped")

    def _guarded_pass(self) -> None:
        # `schedule` lets a job's exception escape and kill the loop; a pass that fails on the store
        # or the transport is logged and tried again at the next poll instead.
        try:
            service = self._open_pass()
            try:
                counts = one_pass(service, self._stop.is_set)
            finally:
                service.close()
        except (StoreError, TransportError) as exc:
            log.error("pass stopped: %s; retrying at the next poll", exc.message)
            return
        except Exception as exc:  # noqa: BLE001 - a bug in scheduled work must not end the daemon
            log.error("pass stopped by an unexpected %s: %s; retrying at the next poll", type(exc).__name__, exc)
            return
        if counts["handled"] or counts["sent"]:
            log.info("pass: %(handled)d handled, %(sent)d sent", counts)
