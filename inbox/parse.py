"""Turn the raw bytes of one incoming email into a ParsedMail, or reject it with MalformedMessage.

Outlook, Gmail, Apple Mail and mail servers all bend the standards a little. The email package is
lenient, so most damage shows up as odd values; where it raises, the error becomes MalformedMessage
naming the stage, never quoting the message.
"""

import hashlib
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime

from core.errors import MalformedMessage
from inbox.charsets import decode_bytes as _decode_bytes
from inbox.header_values import DecodedHeaders, undo_surrogates as _undo_surrogates
from inbox.html_text import html_to_text
from inbox.parse_policy import for_one_message
from inbox.sender import Sender, read_sender

# A header line starts with a field name and a colon (RFC 5322 section 2.2).
HEADER_LINE = re.compile(rb"^[\x21-\x39\x3b-\x7e]+[ \t]*:")
BRACKETED_ID = re.compile(r"<([^<>]+)>")
HEADER_END = re.compile(rb"\r?\n\r?\n")
FROM_LINE = re.compile(rb"(?im)^from[ \t]*:")
BARE_CR = re.compile(rb"\r(?!\n)")


@dataclass(frozen=True)
class Attachment:
    """A file that came with the message; only its description is kept, not its bytes."""

    filename: str
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class ParsedMail:
    """Everything later stages need from one email, decoded once."""

    key: str
    message_id: str | None
    from_addr: str
    from_name: str
    reply_to: tuple[str, ...]
    to: tuple[str, ...]
    cc: tuple[str, ...]
    subject: str
    date_header: datetime | None
    received_at: datetime
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    html: str | None
    attachments: tuple[Attachment, ...]
    content_type: str
    headers: Mapping[str, tuple[str, ...]] = field(hash=False)
    sender_doubt: str | None = None  # why From cannot be trusted to name one sender; such mail decides nothing

    def header(self, name: str) -> str | None:
        """The first value of a header (name is case-insensitive), or None when it is absent."""
        values = self.headers.get(name.lower(), ())
        return values[0] if values else None


def parse_message(raw: bytes, received_at: datetime) -> ParsedMail:
    """Parse one raw message; received_at is the mailbox's receipt time and is kept as given."""
    if received_at.tzinfo is None:
        raise ValueError("received_at must be timezone-aware")
    _check_header_block(raw)
    with _stage("reading the message structure"):
        msg = BytesParser(policy=for_one_message()).parsebytes(_repair_folding(raw))
        content_type = msg.get_content_type()
    with _stage("reading the headers"):
        headers = DecodedHeaders(msg.raw_items())
        # The sender comes from the raw From header, never from its decoded display name.
        sender = read_sender([_undo_surrogates(v) for n, v in msg.raw_items() if n.strip().lower() == "from"])
        if sender and _from_lines_hidden(raw):
            sender = Sender(sender.address, sender.name, "the message has more than one From header")
    if sender is None:
        raise MalformedMessage("no parseable From address")
    ids = _message_ids(headers.get("message-id", ()))
    with _stage("reading the body parts"):
        text, html, attachments = _read_body(msg)
    return ParsedMail(
        key=ids[0] if ids else "sha256:" + hashlib.sha256(raw).hexdigest(),
        message_id=ids[0] if ids else None,
        from_addr=sender.address,
        from_name=sender.name,
        sender_doubt=sender.doubt,
        reply_to=_addr_specs(headers.get("reply-to", ())),
        to=_addr_specs(headers.get("to", ())),
        cc=_addr_specs(headers.get("cc", ())),
        subject=" ".join(headers.get("subject", ("",))[0].split()),
        date_header=_date(headers.get("date", ())),
        received_at=received_at,
        in_reply_to=_message_ids(headers.get("in-reply-to", ())),
        references=_message_ids(headers.get("references", ())),
        text=text,
        html=html,
        attachments=attachments,
        content_type=content_type,
        headers=headers,
    )


@contextmanager
def _stage(what: str) -> Iterator[None]:
    """Turn any error the email package raises into MalformedMessage naming what we were doing."""
    try:
        yield
    except MalformedMessage:
        raise
    except Exception as exc:  # hostile input makes the email package raise many different types
        # Only the type name: an exception's text can quote the message, which may hold case details.
        raise MalformedMessage(f"{what} failed ({type(exc).__name__})") from exc


def _from_lines_hidden(raw: bytes) -> bool:
    """Whether the header block holds a From the parser may not see as we do: two From lines, or a bare CR.

    Mail servers and Python's parser disagree on `From :`, `From\t:` and lone carriage returns; what one
    reads as a second From header the other may read as body text.
    """
    head = HEADER_END.split(raw, 1)[0]
    return bool(BARE_CR.search(head)) or len(FROM_LINE.findall(head)) > 1


def _check_header_block(raw: bytes) -> None:
    """Reject bytes that are empty or do not begin with a header line."""
    if not raw.strip():
        raise MalformedMessage("the message is empty")
    lines = raw.splitlines()
    if lines[0].startswith(b"From "):
        lines = lines[1:]  # an mbox envelope line is not a header but is harmless
    if not lines or not HEADER_LINE.match(lines[0]):
        raise MalformedMessage("the message has no header block")


def _repair_folding(raw: bytes) -> bytes:
    """Mend a header block in which a folded line lost its leading space, as some clients send.

    The parser would take such a line for the end of the headers and read every header after it
    (often From) as body text; a line that sits between two header lines is a continuation.
    """
    end = HEADER_END.search(raw)
    if not end:
        return raw
    head, sep, body = raw[:end.start()], raw[end.start():end.end()], raw[end.end():]
    lines = head.splitlines(keepends=True)
    mended = False
    for index in range(1, len(lines) - 1):
        line = lines[index]
        if line[:1] in (b" ", b"\t") or HEADER_LINE.match(line) or not line.strip():
            continue
        if any(HEADER_LINE.match(later) for later in lines[index + 1:]):
            lines[index] = b" " + line
            mended = True
    return b"".join(lines) + sep + body if mended else raw


def _addresses(values: tuple[str, ...]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) pairs; anything without local@domain is dropped."""
    # Re-parse the decoded text, which the default policy renders with names quoted where needed.
    pairs = [(name.strip(), addr.strip().lower()) for name, addr in getaddresses(list(values))]
    # Drops "Undisclosed recipients:;" (parsed as an empty address) and bare words.
    return [(name, addr) for name, addr in pairs if all(addr.rpartition("@")[::2])]


def _addr_specs(values: tuple[str, ...]) -> tuple[str, ...]:
    """Just the lower-cased addresses of an address header, in order."""
    return tuple(addr for _, addr in _addresses(values))


def _message_ids(values: tuple[str, ...]) -> tuple[str, ...]:
    """Message ids without angle brackets, in order; bare id@host words count when none are bracketed."""
    ids: list[str] = []
    for value in values:
        found = BRACKETED_ID.findall(value) or [word for word in value.split() if "@" in word]
        ids.extend("".join(found_id.split()) for found_id in found)
    return tuple(i for i in ids if i)


def _date(values: tuple[str, ...]) -> datetime | None:
    """The sender's Date: as an aware datetime; None when absent or unreadable."""
    try:
        parsed = parsedate_to_datetime(values[0])  # IndexError when there is no Date: at all
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # "-0000" means "zone unknown"; UTC is the honest reading of that.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _read_body(msg: EmailMessage) -> tuple[str, str | None, tuple[Attachment, ...]]:
    """Pick the readable text, the HTML body and the attachments from the leaf parts.

    Every inline text part counts, in order: Apple Mail sends text, image, text, PDF, text as
    separate parts of one message. A text part with nothing in it (sent beside an HTML part that
    holds the message) gives way to the HTML.
    """
    plain: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []
    for part in _leaf_parts(msg):
        if _is_attachment(part):
            attachments.append(_describe(part))
            continue
        content_type = part.get_content_type()
        # A multipart whose boundary never appears is left as one text blob by the parser.
        if content_type == "text/plain" or part.get_content_maintype() == "multipart":
            plain.append(_part_text(part))
        elif content_type == "text/html":
            html.append(_part_text(part))
    written = [p for p in plain if p.strip()]
    joined_plain = written[0] if len(written) == 1 else "\n\n".join(p.strip("\n") for p in written)
    joined_html = "\n".join(html) if html else None
    text = joined_plain or (html_to_text(joined_html) if joined_html is not None else "")
    return text, joined_html, tuple(attachments)


def _leaf_parts(part: EmailMessage) -> Iterator[EmailMessage]:
    """Leaf parts in order; an attached message/rfc822 is one leaf, never a source of body text."""
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for child in part.iter_parts():
            yield from _leaf_parts(child)
    else:
        yield part


def _is_attachment(part: EmailMessage) -> bool:
    """A part is a file when it says so or carries a filename (inline images included)."""
    return part.get_content_disposition() == "attachment" or bool(part.get_filename())


def _describe(part: EmailMessage) -> Attachment:
    """Name, type, decoded size and hash of an attachment."""
    data = _part_bytes(part)
    name = _undo_surrogates(part.get_filename() or "")
    return Attachment(name, part.get_content_type(), len(data), hashlib.sha256(data).hexdigest())


def _part_bytes(part: EmailMessage) -> bytes:
    """The decoded bytes of a part; an attached message counts as its own serialised bytes."""
    if part.is_multipart():
        return b"".join(inner.as_bytes() for inner in part.get_payload())
    return part.get_payload(decode=True) or b""


def _part_text(part: EmailMessage) -> str:
    """A text part as str with "\\n" line endings, whatever its charset claims."""
    text = _decode_bytes(_part_bytes(part), part.get_content_charset() or "us-ascii")
    return text.replace("\r\n", "\n").replace("\r", "\n")
