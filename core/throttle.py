"""A client-side rate limiter: at most so many requests in a sliding window, waiting when it is full.

The retry policy it works beside is core/backoff.py's Backoff. It does not read the wall clock: it
counts with `time.monotonic` and waits with an injected `sleep`, so tests can watch the waits, and a
frozen test clock (freezegun) never makes it spin.
"""
import threading
import time
from collections import deque
from typing import Callable


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
