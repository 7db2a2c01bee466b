"""Retry policy as an object: how long to wait before the next try, growing with each failure.

One policy, used for a letter the server would not take yet (minutes) and for a mailbox that cannot
be reached (seconds), so waiting is decided in one place and never by sleeps scattered about.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: `first`, then doubling, never more than `cap` (both in seconds)."""

    first: float
    cap: float
    factor: float = 2.0

    def delay(self, failures: int, asked: float | None = None) -> float:
        """Seconds to wait after `failures` failures in a row; a server's own `asked` wait wins, within the cap."""
        if asked is not None and asked > 0:
            return min(float(asked), self.cap)
        if failures <= 0:
            return 0.0
        return min(self.first * self.factor ** (failures - 1), self.cap)


# A letter the server would not take yet: 1, 2, 4 … minutes, at most an hour.
LETTER_RETRY = Backoff(first=60, cap=3600)
# Sending as a whole, when the server (not one letter) is the trouble: 1, 2, 4, 8, then every 15 minutes,
# so an account with a wrong password is not locked out by a login every pass.
SENDING_PAUSE = Backoff(first=60, cap=900)
# A mailbox that cannot be reached: 5, 10, 20 … seconds, at most five minutes, so it is back soon after the server.
MAILBOX_RETRY = Backoff(first=5, cap=300)
