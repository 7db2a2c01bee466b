"""The policy one incoming message is parsed with: MAIL_POLICY, reading each header at most once.

The email package parses a header afresh every time it is read, and reading a part's type, charset,
disposition and filename reads Content-Type and Content-Disposition again and again: seven parses of
Content-Type for a plain reply, three quarters of the time parse_message took. The parsed header for
a given (name, raw value) is always the same, so each message keeps the ones it has read and reads
each only once. The cache lives and dies with the message: nothing read from one email is kept after it.
"""
from email.policy import EmailPolicy

from core.mail_policy import MAIL_POLICY


class ReadOncePolicy(EmailPolicy):
    """EmailPolicy whose header_fetch_parse answers a repeated (name, raw value) from a per-message cache."""

    read_headers: dict | None = None  # set per message by for_one_message(); a policy is otherwise immutable

    def header_fetch_parse(self, name, value):
        """The parsed header, as EmailPolicy gives it, parsed once per message."""
        cache = self.read_headers
        if cache is None or hasattr(value, "name"):
            return super().header_fetch_parse(name, value)
        key = (name, value)
        parsed = cache.get(key)
        if parsed is None:
            parsed = cache[key] = super().header_fetch_parse(name, value)
        return parsed


# MAIL_POLICY's settings (those it sets itself; the rest are EmailPolicy's defaults, as here).
_BASE = ReadOncePolicy(**vars(MAIL_POLICY))


def for_one_message() -> ReadOncePolicy:
    """A policy with an empty cache of its own, for parsing one message."""
    return _BASE.clone(read_headers={})
