"""Small helpers for text that came from outside: what a sender wrote, what a CSV holds.

Anything of a sender's that goes into a letter, a subject or a log line passes through these, so
a hostile message cannot make the service echo megabytes, NUL bytes or terminal escapes back out.
"""
import re
import unicodedata

ELLIPSIS = "\u2026"
# What one quoted value (a grade line, a subject, a name) may take up in a letter.
QUOTE_LIMIT = 500
# Bidirectional overrides and isolates: invisible, and able to make "evil.example" read as something else.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")
# RFC 5322 msg-id: <left@right>, printable ASCII with no spaces or brackets. Real ones are well under 250.
_ID_PART = r"[\x21-\x3b\x3d\x3f\x41-\x7e]+"  # printable ASCII less space, "<", ">" and "@"
MESSAGE_ID = re.compile(rf"^<{_ID_PART}@{_ID_PART}>$|^{_ID_PART}@{_ID_PART}$")
MAX_MESSAGE_ID = 250


def is_control(ch: str) -> bool:
    """Whether a character is one no person typed: C0/C1 controls, DEL, bidi overrides."""
    return (unicodedata.category(ch) == "Cc") or ch in BIDI_CONTROLS


def has_control(text: str, allow: str = "") -> bool:
    """Whether `text` holds a control character other than those in `allow`."""
    return any(is_control(ch) and ch not in allow for ch in text)


def printable(text: str, limit: int | None = QUOTE_LIMIT) -> str:
    """`text` with control characters removed (line breaks and tabs kept) and cut to `limit` characters with "…"."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if limit is not None and len(text) > limit * 4:
        text = text[:limit * 4]  # never scan megabytes to keep a few hundred characters
    text = "".join(ch for ch in text if ch in "\n\t" or not is_control(ch))
    return shorten(text, limit)


def one_line(text: str, limit: int | None = QUOTE_LIMIT) -> str:
    """`text` as one line (any run of white space becomes one space), printable, at most `limit` characters."""
    if limit is not None and len(text) > limit * 4:
        text = text[:limit * 4]
    return shorten(" ".join(printable(text, None).split()), limit)


def shorten(text: str, limit: int | None) -> str:
    """`text` cut to at most `limit` characters, the last being "…" when anything was cut."""
    if limit is None or len(text) <= limit:
        return text
    return text[:max(0, limit - 1)].rstrip() + ELLIPSIS


def valid_message_id(value: str) -> bool:
    """Whether `value` is a Message-ID we may repeat in In-Reply-To/References (with or without brackets)."""
    value = value.strip()
    return 0 < len(value) <= MAX_MESSAGE_ID and bool(MESSAGE_ID.match(value))
