"""The retry policy as an object: how many tries, how long between them, and how long in all.

One policy for every kind of waiting — a letter the server would not take yet (minutes), a mailbox
that cannot be reached (seconds), an IMAP reconnect, a throttled Graph request — so waiting is
decided in one place and never by sleeps scattered about (exchangelib's FaultTolerance is the model).
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass(frozen=True)
class Backoff:
    """Exponential waits: `first`, then times `factor`, never more than `cap` seconds each.

    `tries` bounds the attempts of one operation and `budget` (when set) the seconds it may spend
    waiting in all, so a pass never hangs on a dead or throttling server.
    """

    first: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    tries: int = 5
    budget: float | None = None
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def delay(self, failures: int, asked: float | None = None) -> float:
        """Seconds to wait after `failures` failures in a row; a server's own `asked` wait wins, within the cap."""
        if asked is not None and asked > 0:
            return min(float(asked), self.cap)
        if failures <= 0:
            return 0.0
        return min(self.first * self.factor ** (failures - 1), self.cap)

    def waits(self) -> Iterator[float]:
        """The wait before each retry of one operation (one fewer than `tries`)."""
        for failures in range(1, self.tries):
            yield self.delay(failures)

    def total(self) -> float:
        """The longest one operation can spend waiting, in seconds."""
        return sum(self.waits())

    def wait_before_retry(self, attempt: int, waited: float, retry_after: float | None) -> float | None:
        """Seconds to wait before try `attempt + 1` (counting from 1), or None to give up.

        A server's Retry-After is obeyed exactly, however long; giving up instead is for the budget to say.
        """
        if attempt >= self.tries:
            return None
        wait = max(0.0, retry_after) if retry_after is not None else self.delay(attempt)
        if self.budget is not None and waited + wait > self.budget:
            return None
        return wait


# A letter the server would not take yet: 1, 2, 4 … minutes, at most an hour.
LETTER_RETRY = Backoff(first=60, cap=3600)
# Sending as a whole, when the server (not one letter) is the trouble: 1, 2, 4, 8, then every 15 minutes,
# so an account with a wrong password is not locked out by a login every pass.
SENDING_PAUSE = Backoff(first=60, cap=900)
# A mailbox that cannot be reached: 5, 10, 20 … seconds, at most five minutes, so it is back soon after the server.
MAILBOX_RETRY = Backoff(first=5, cap=300)
# A throttled or failed HTTP request (Graph): up to 5 tries and a minute of waiting in all.
REQUEST_RETRY = Backoff(first=1, cap=30, tries=5, budget=60)
# Nothing to wait for: tests and `doctor` want the first answer, not a patient one.
FAIL_FAST = Backoff(tries=1, budget=0)
