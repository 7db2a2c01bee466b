"""The daemon: one loop of (intake pass, scheduled work, delivery, wait for mail) until told to stop.

The mailbox is opened once and kept for the daemon's whole life (one login, one token cache, one
IDLE connection). The service around it (the store, what the store has read, the composer) is kept
from pass to pass too, but the store's writer lock is let go between passes, so the QA team can run
`issue` or `roster import` meanwhile: when another writer did, the service is opened afresh
(db/kept.py). The store's log is folded into its files by a pass with no mail to handle, so a month-end
stream of single messages never pays for rewriting the month. Between passes the daemon waits *on
the mailbox* (IDLE, streaming, or a look at the local folder), so new mail wakes it at once;
`poll_seconds` is the safety net.

`schedule` only sets the rhythm. Scheduled work runs at most once every `poll_seconds`: a pass woken
by mail in between handles the mail and sends, so each of a month-end stream of messages costs its
own handling, not a look at every reminder and request. What a scheduled job does is derived from stored state and the
ledger of what was already done, so a daemon that was down at 09:00 does the 09:00 work once
when it comes back, never twice. SIGTERM and SIGINT let the current message finish, then stop.

A mailbox that cannot be reached (at start or later) is logged in one line with the transport's own
diagnosis and tried again with backoff; the daemon never dies of it. A failure nobody foresaw (a bug,
a library's surprise) is logged with its traceback; a diagnosed one (a full disk, a lost connection)
in one line, with its traceback too when `[daemon] log_level = "DEBUG"`.
"""
import logging
import signal
import threading
import time
from contextlib import suppress
from typing import Callable

import schedule

from app.guarded import run_job
from app.intake import intake_pass
from app.context import Context
from app.transports import open_mailbox
from core.backoff import MAILBOX_RETRY, Backoff
from core.config import Config
from core.durable import NO_FSYNC_FOR_TESTS, fsync_skipped
from core.errors import AuditMailError, ConfigError, StoreError, StoreLocked, StoreUnusable, TransportError
from db.lock import FolderLock
from inbox.mailbox import Mailbox

log = logging.getLogger("auditmail.daemon")
REOPEN_SECONDS = 3600  # a kept service is opened afresh this often: memory never grows with the daemon's age


def one_pass(ctx: Context, should_stop=lambda: False, *, jobs: bool = True) -> dict:
    """Send what is waiting, handle the inbox, run due scheduled work (unless `jobs` is False), send again;
    returns counts."""
    sent = ctx.postman.deliver_pending()  # mail a crash left unsent goes first
    handled, answered = intake_pass(ctx, should_stop)
    sent += answered
    for job in ctx.scheduled if jobs else ():
        if should_stop():
            break
        run_job(ctx, job)  # a job that fails is logged and noted; the next job still runs
    sent += ctx.postman.deliver_pending()
    if ctx.postman.sent_records_need_sync:
        ctx.store.sync()  # the records of letters sent, left to the next commit, are durable when a pass ends
    return {"handled": handled, "sent": sent}


class Daemon:
    """Runs a pass whenever mail may have arrived, and at least every `poll_seconds`, until stopped.

    `open_pass(mailbox)` opens the service for one pass around the daemon's own mailbox;
    `connect(config)` opens the mailbox (app.transports.open_mailbox).
    """

    def __init__(self, open_pass: Callable[[Mailbox], Context], config: Config, *,
                 connect: Callable[[Config], Mailbox] = open_mailbox, retry: Backoff = MAILBOX_RETRY):
        self._open_pass, self._config, self._connect, self._retry = open_pass, config, connect, retry
        self._stop = threading.Event()
        self._mailbox: Mailbox | None = None
        self._failures = 0  # mailbox failures in a row; a pass that goes through resets it
        self._ever_connected = False
        self._service: Context | None = None  # kept between passes, paused (see `_open_service`)
        self._service_mailbox: Mailbox | None = None
        self._service_opened = 0.0
        self._jobs_due = 0.0  # time.monotonic() from which a pass runs the scheduled work again
        self._scheduler = schedule.Scheduler()
        self._pass_job = self._scheduler.every(config.poll_seconds).seconds.do(self._guarded_pass)

    def stop(self, *_signal_args) -> None:
        """Ask the loop to finish the current message and stop."""
        if not self._stop.is_set():
            log.info("stop requested; finishing the current message")
        self._stop.set()

    def run(self) -> None:
        """Loop until stopped; the first pass runs as soon as the mailbox is open."""
        lock = FolderLock(self._config.store_path, "daemon.lock")
        lock.acquire()
        previous = {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        log.info("daemon started; transport %s, checking at least every %d s",
                 self._config.transport, self._config.poll_seconds)
        if fsync_skipped():
            log.warning("fsync is off (%s, for the test suite only): a power cut could lose mail", NO_FSYNC_FOR_TESTS)
        try:
            while not self._stop.is_set():
                if self._mailbox is None:
                    if self._open_mailbox():
                        self._pass_job.run()  # whatever arrived while we were away, at once
                    continue
                self._scheduler.run_pending()
                if self._mailbox is not None:  # the pass may have lost it
                    self._wait_for_mail()
        finally:
            self._close_service(fold=True)
            self._close_mailbox()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            lock.release()
            log.info("daemon stopped")

    def _open_mailbox(self) -> bool:
        """Connect; on failure log the diagnosis once and wait out the backoff. True when connected."""
        try:
            self._mailbox = self._connect(self._config)
        except AuditMailError as exc:
            if isinstance(exc, ConfigError) and not self._ever_connected:
                raise  # a wrong configuration at start is for the person starting us, with exit code 2
            self._lost("cannot open the mailbox", exc.message)
            return False
        except Exception as exc:  # noqa: BLE001 - a library's surprise must not end the daemon either
            self._lost("cannot open the mailbox", f"{type(exc).__name__}: {exc}", surprise=True)
            return False
        if self._failures:
            log.info("mailbox open again after %d failed attempt%s", self._failures, "s" * (self._failures != 1))
        self._ever_connected = True
        return True

    def _wait_for_mail(self) -> None:
        """Wait on the mailbox until mail may have arrived or the next pass is due; run a pass if woken early."""
        idle = self._scheduler.idle_seconds
        if idle is None or idle <= 0:
            return
        try:
            self._mailbox.wait_for_mail(idle, self._stop.is_set)
        except TransportError as exc:
            self._lost("lost the mailbox while waiting", exc.message)
            return
        if not self._stop.is_set() and (self._scheduler.idle_seconds or 0) > 0:
            self._pass_job.run()  # woken before the poll was due: mail may have arrived

    def _guarded_pass(self) -> None:
        # `schedule` lets a job's exception escape and kill the loop; a pass that fails on the store
        # is logged and tried again at the next poll, one that fails on the mailbox reconnects.
        try:
            ctx = self._open_service()
            try:
                jobs = time.monotonic() >= self._jobs_due
                counts = one_pass(ctx, self._stop.is_set, jobs=jobs)
                if jobs:
                    self._jobs_due = time.monotonic() + self._config.poll_seconds
                ctx.pause(fold=not counts["handled"])  # a pass with no mail folds the log
            except BaseException:
                self._close_service()  # whatever failed, the next pass starts from the disk
                raise
        except TransportError as exc:
            self._lost("pass stopped: the mailbox failed", exc.message)
            return
        except (StoreUnusable, ConfigError) as exc:
            # A damaged store or a roster without the configured Director will not mend itself: stop, so
            # that a supervisor (systemd) and the operator notice, rather than leave mail unanswered.
            log.error("stopping: %s", exc.message, exc_info=log.isEnabledFor(logging.DEBUG))
            self.stop()
            return
        except StoreError as exc:
            log.error("pass stopped: %s; retrying at the next poll", exc.message,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            return
        except Exception as exc:  # noqa: BLE001 - a bug in scheduled work must not end the daemon
            log.error("pass stopped by an unexpected %s: %s; retrying at the next poll", type(exc).__name__, exc,
                      exc_info=True)
            return
        self._failures = 0
        if counts["handled"] or counts["sent"]:
            log.info("pass: %(handled)d handled, %(sent)d sent", counts)

    def _open_service(self) -> Context:
        """The service for this pass: the one kept from the last pass while nobody else wrote the store
        and it is on the same mailbox connection, else a fresh one."""
        if self._service is not None:
            fresh = (self._service_mailbox is self._mailbox
                     and time.monotonic() - self._service_opened < REOPEN_SECONDS)
            try:
                kept = fresh and self._service.resume()
            except StoreLocked:
                self._close_service()  # `issue` or an import is still writing: the next poll tries again
                raise
            except AuditMailError:
                kept = False  # opened afresh below, which names what is wrong as any opening does
            if kept:
                return self._service
            self._close_service()
        self._service = self._open_pass(self._mailbox)
        self._service_mailbox, self._service_opened = self._mailbox, time.monotonic()
        return self._service

    def _close_service(self, *, fold: bool = False) -> None:
        """Let go of the kept service; with `fold` (the daemon stopping) its log is folded first, if the
        store can be had at once (else the next opening folds it)."""
        service, self._service = self._service, None
        if service is None:
            return
        if fold and service.store.paused:
            with suppress(AuditMailError):
                service.store.resume(0)  # had again: closing folds; else the next opening folds the log
        service.close()

    def _lost(self, what: str, diagnosis: str, *, surprise: bool = False) -> None:
        """One log line with the diagnosis, drop the connection, and wait the backoff before reconnecting.

        Called while the failure is being handled: a `surprise` (not a failure we diagnosed) always
        carries its traceback, a diagnosed one only when the log level is DEBUG.
        """
        self._failures += 1
        delay = self._retry.delay(self._failures)
        log.error("%s: %s; trying again in %d s (attempt %d)", what, diagnosis, round(delay), self._failures,
                  exc_info=surprise or log.isEnabledFor(logging.DEBUG))
        self._close_mailbox()
        self._stop.wait(delay)

    def _close_mailbox(self) -> None:
        if self._mailbox is not None:
            mailbox, self._mailbox = self._mailbox, None
            with suppress(Exception):  # it may be the very thing that broke
                mailbox.close()

