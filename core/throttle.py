"""How a client waits: a retry policy with a bounded total wait, and a client-side rate limiter.

Objects, not sleeps scattered about (exchangelib's FaultTolerance is the model): the HTTP client asks
the policy "how long before the next try, if at all?" and the limiter "may I send now?".
Neither reads the wall clock: both count with `time.monotonic` and wait with an injected `sleep`,
so tests can watch the waits, and a frozen test clock (freezegun) never makes them spin.
"""
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class RetryPolicy:
    """Retry a throttled or failed request a few times, never waiting more than `max_total_wait` in all.

    A server's Retry-After is obeyed exactly; without one the wait doubles from `first_backoff`.
    When the next wait would overrun the budget the policy gives up, and the caller reports a
    TemporaryFailure carrying the server's Retry-After, so the outbox or the next pass tries later.
    """

    max_attempts: int = 5
    max_total_wait: float = 60.0
    first_backoff: float = 1.0
    max_backoff: float = 30.0

    def wait_before_retry(self, attempt: int, waited: float, retry_after: float | None) -> float | None:
        """Seconds to wait before try `attempt + 1` (attempt counts from 1), or None to give up."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None:
            wait = max(0.0, retry_after)
        else:
            wait = min(self.max_backoff, self.first_backoff * 2 ** (attempt - 1))
        if waited + wait > self.max_total_wait:
            return None
        return wait


# No retries: for `doctor`, which should say what is wrong at once.
FAIL_FAST = RetryPolicy(max_attempts=1, max_total_wait=0.0)


class RateLimiter:
    """At most `limit` requests in any `per_seconds` window (a sliding window), waiting when it is full.

    Thread-safe; one instance per mailbox, shared by everything that talks to that mailbox.
    """

    def __init__(self, limit: int, per_seconds: float, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.per_seconds = limit, per_seconds
        self._sleep, self._clock = sleep, clock
        self._sent: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self, cost: int = 1) -> float:
        """Wait until `cost` more requests fit in the window; returns the seconds waited."""
        with self._lock:
            # Never earlier than the last request: a clock that stands still (frozen in tests) moves by our sleeps.
            now = max(self._clock(), self._sent[-1] if self._sent else float("-inf"))
            self._forget_before(now - self.per_seconds)
            waited = 0.0
            while len(self._sent) + cost > self.limit and self._sent:
                # The window frees a slot when its oldest request ages out.
                wait = self._sent[0] + self.per_seconds - now
                if wait > 0:
                    self._sleep(wait)
                    waited += wait
                # Count the wait as time passed even if the clock did not move (a frozen test clock).
                now = max(self._clock(), now + max(wait, 0.0))
                self._sent.popleft()
                self._forget_before(now - self.per_seconds)
            self._sent.extend([now] * cost)
            return waited

    def _forget_before(self, instant: float) -> None:
        while self._sent and self._sent[0] <= instant:
            self._sent.popleft()
