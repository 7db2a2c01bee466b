"""When the mail server will not take a letter: wait and retry it, pause all sending, or set it aside.

A part of the Postman (app/postman.py), kept here beside the rules it follows: a letter the server
will not take yet waits its backoff while the others go; one refused for good, or not taken after
`max_send_attempts` tries, is set aside for the QA team; when the server itself is the trouble (it
cannot be reached, asks us to wait, or refuses two letters in a row), sending as a whole pauses.
"""
import logging
import socket
from datetime import timedelta

from core.backoff import LETTER_RETRY, SENDING_PAUSE
from core.clock import month_of
from core.errors import TransportError
from db.outbox import OutboxRepo

log = logging.getLogger("auditmail.outbox")


class SendingTrouble:
    """The Postman's answers to a transport's failures; it uses the postman's store, clock, ledger and limits."""

    def _retry_later(self, record: dict, exc: TransportError, failures_in_a_row: int) -> bool:
        """Note a temporary failure (the letter waits its backoff, or is set aside after too many tries);
        True when sending should pause because the server, not this letter, is the trouble."""
        now = self._clock.now()
        message_id = record["message_id"]
        retry_after = getattr(exc, "retry_after", None)
        if _unreachable(exc):
            # Not counted against the letter: a weekend outage must not set every letter aside.
            self._pause([record], f"the mail server cannot be reached: {exc.message}")
            return True
        attempts = record.get("attempts", 0) + 1
        if attempts >= self._max_attempts:
            self._set_aside(record, f"not taken after {attempts} tries; last: {exc.message}")
        else:
            next_at = now + timedelta(seconds=LETTER_RETRY.delay(attempts, retry_after))
            with self._store.transaction():
                OutboxRepo(self._store).note_failure(message_id, exc.message, next_at)
            log.warning("send failed message_id=%s attempt=%d, next try %s: %s", message_id, attempts,
                        next_at.isoformat(timespec="seconds"), exc.message)
        if retry_after or failures_in_a_row >= 2:
            self._pause([], f"the server asked us to wait: {exc.message}" if retry_after
                        else f"two letters in a row were not taken: {exc.message}", retry_after)
            return True
        return False

    def _pause(self, records: list[dict], reason: str, retry_after: float | None = None) -> None:
        """Hold all sending for a while; the letters that showed it keep their place, with the error noted."""
        now = self._clock.now()
        with self._store.transaction():
            outbox = OutboxRepo(self._store)
            for record in records:
                outbox.note_failure(record["message_id"], reason, None, counts=False)
            failures = (outbox.paused() or {}).get("failures", 0) + 1
            until = now + timedelta(seconds=SENDING_PAUSE.delay(failures, retry_after))
            outbox.pause(until, reason, failures)
        log.warning("sending paused until %s: %s", until.isoformat(timespec="seconds"), reason)

    def _set_aside(self, record: dict, reason: str) -> None:
        """Take a letter out of the sending queue and put it on the QA team's list."""
        now = self._clock.now()
        with self._store.transaction():
            OutboxRepo(self._store).set_aside(record["message_id"], reason, now)
            self._ledger.add_triage(month_of(now), {
                "at": now.isoformat(), "key": record["message_id"], "set_aside": True,
                "note": f"a letter ({record['kind']}) {_about(record)} to {', '.join(record['to'] + record['cc'])} "
                        f"was set aside, not sent: {reason}; `auditmail resend {record['message_id']}` sends it again"})
        log.error("letter set aside message_id=%s kind=%s refs=%s: %s", record["message_id"], record["kind"],
                  ",".join(record["refs"]) or "-", reason)


def _about(record: dict) -> str:
    return f"about {', '.join(record['refs'])}" if record["refs"] else "(no reference)"


# Failures underneath a TemporaryFailure that mean the server could not be reached at all.
NETWORK_ERRORS = (ConnectionError, TimeoutError, socket.gaierror)


def _unreachable(exc: BaseException) -> bool:
    """Whether the failure is about reaching the server (refused, timed out, no such host), not about the letter."""
    cause = exc.__cause__ or exc.__context__
    for _ in range(10):  # a chain is short; a loop in it must not hang us
        if cause is None:
            return False
        if isinstance(cause, NETWORK_ERRORS):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
