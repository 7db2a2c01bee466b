"""Header values of an incoming message, decoded as the service reads them: lazily, and only once.

RFC 2047 words and raw 8-bit bytes are decoded through the email policy's header parsers. A value
those parsers would give back unchanged (plain ASCII without an encoded word, in an unstructured
header such as Subject or References, or a single plain <id@host> Message-ID) is taken as it is:
the parsers cost more than the rest of reading a reply, and most of the values a reply carries are
of that kind. tests/reliability/test_parse_once.py checks that both ways give the same text.
"""
import re
from collections.abc import Mapping
from email.header import decode_header, make_header
from email.headerregistry import UnstructuredHeader

from core.mail_policy import MAIL_POLICY
from inbox.charsets import decode_bytes

FOLD = re.compile(r"\r?\n(?=[ \t])")
PLAIN_VALUE = re.compile(r"[\x20-\x7e\t]*\Z")
SURROGATE = re.compile("[\udc80-\udcff]")  # a raw 8-bit byte, as the parser keeps it (surrogateescape)
_ATOMS = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+"
PLAIN_MESSAGE_ID = re.compile(rf"<{_ATOMS}@{_ATOMS}>\Z")


class DecodedHeaders(Mapping):
    """Lower-case header name to decoded values in order; each header is decoded the first time it is read.

    Decoding costs more than the rest of parsing, and a message carries dozens of headers (Received,
    DKIM, ARC ...) of which the service reads about ten: the rest are kept raw and never decoded.
    """

    def __init__(self, raw_items):
        self._raw: dict[str, list[tuple[str, str]]] = {}
        for name, value in raw_items:
            self._raw.setdefault(name.lower(), []).append((name, value))
        self._decoded: dict[str, tuple[str, ...]] = {}

    def __getitem__(self, key: str) -> tuple[str, ...]:
        values = self._decoded.get(key)
        if values is None:
            values = self._decoded[key] = tuple(_safely_decoded(name, value) for name, value in self._raw[key])
        return values

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _safely_decoded(name: str, raw: str) -> str:
    # Decoded after parsing, outside its error handling: hostile bytes give U+FFFD, never an exception.
    try:
        return decode_value(name, raw)
    except Exception:  # noqa: BLE001
        return raw.encode("utf-8", "replace").decode("utf-8", "replace")


def decode_value(name: str, raw: str) -> str:
    """A header's raw value as text: unfolded, RFC 2047 words and 8-bit bytes decoded."""
    value = FOLD.sub("", undo_surrogates(raw))
    if _parsed_unchanged(name, value):
        return value
    return parse_and_decode(name, value)


def parse_and_decode(name: str, value: str) -> str:
    """Decode through the header parsers; fall back step by step rather than fail."""
    try:
        return str(MAIL_POLICY.header_fetch_parse(name, value))
    except Exception:  # the structured header parsers can raise on odd input; try the plain decoder
        try:
            return str(make_header(decode_header(value)))
        except Exception:
            return value


def _parsed_unchanged(name: str, value: str) -> bool:
    """Whether the header parsers would return `value` as it is (plain ASCII, nothing to decode)."""
    if "=?" in value or not PLAIN_VALUE.match(value):
        return False
    if name.lower() == "message-id":
        return bool(PLAIN_MESSAGE_ID.match(value))
    return issubclass(MAIL_POLICY.header_factory[name], UnstructuredHeader)


def undo_surrogates(value: str) -> str:
    """Raw 8-bit header bytes arrive as surrogate escapes; read them as UTF-8, else windows-1252."""
    if value.isascii() or not SURROGATE.search(value):  # a test of each character was 0.1 ms a message
        return value
    return decode_bytes(value.encode("utf-8", "surrogateescape"), "utf-8")
