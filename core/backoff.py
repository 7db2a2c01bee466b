"""The retry policy as an object: how many tries, and how long to wait between them.

Transports hand it the operation; nobody else calls `time.sleep` to retry. Like exchangelib's
FaultTolerance, but bounded by a number of tries, so a daemon pass never hangs on a dead server.
"""
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator


@dataclass(frozen=True)
class Backoff:
    """Exponential waits (first, first*factor, ... capped at `longest`) for up to `tries` attempts in all."""

    tries: int = 5
    first: float = 0.5
    factor: float = 2.0
    longest: float = 30.0
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False, repr=False)

    def waits(self) -> Iterator[float]:
        """The wait before each retry (one fewer than `tries`)."""
        wait = self.first
        for _ in range(self.tries - 1):
            yield min(wait, self.longest)
            wait *= self.factor

    def total(self) -> float:
        """The longest the policy can spend waiting, in seconds."""
        return sum(self.waits())


# Nothing to wait for: tests and `doctor` want the first answer, not a patient one.
FAIL_FAST = Backoff(tries=1)
