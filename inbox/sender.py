"""Who sent this? The address inside the one From header, and nothing else.

A display name is decoration a sender types freely: `"boss@council.example" <attacker@evil.example>` is
from the attacker, and so is a name whose RFC 2047 encoding hides a line break or an address. So the
From header is read in its raw, undecoded form, where an encoded word cannot pose as syntax: the
address is the one `<…>` outside quotes and comments, or, without angle brackets, the one bare
addr-spec. Anything that could be read two ways (two From headers, two addresses, `Name <a> <b>`)
names no sender with confidence and decides nothing.
"""
import re
from dataclasses import dataclass
from email.header import decode_header, make_header
from typing import Iterator

ADDR_SPEC = re.compile(r"^[^\s@<>()\[\],;:\"\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Mail systems' own names, which old servers write with no domain (`From: MAILER-DAEMON`): only ever bounces.
SYSTEM_SENDERS = ("mailer-daemon", "postmaster")


@dataclass(frozen=True)
class Sender:
    """The sender's address (lower-cased), display name, and why it is in doubt (None when it is not)."""

    address: str
    name: str
    doubt: str | None = None


def read_sender(raw_from_values: list[str]) -> Sender | None:
    """The sender from the raw values of every From header; None when no address can be found at all."""
    mailboxes = [m for value in raw_from_values for m in _mailboxes(_unfold(value))]
    found = [m for m in mailboxes if m.address]
    if not found:
        words = " ".join(raw_from_values).split()
        if len(raw_from_values) == 1 and len(words) == 1 and words[0].strip("<>").lower() in SYSTEM_SENDERS:
            return Sender(words[0].strip("<>").lower(), "")
        return None
    first = found[0]
    if len(raw_from_values) > 1:
        return Sender(first.address, first.name, "the message has more than one From header")
    if len(found) > 1:
        return Sender(first.address, first.name, "the From header names more than one address")
    if first.doubt:
        return first
    return Sender(first.address, first.name)


def _unfold(value: str) -> str:
    return re.sub(r"\r?\n[ \t]*", " ", value).strip()


def _mailboxes(value: str) -> list[Sender]:
    """Each comma-separated member of an address list; members without an address become part of a name."""
    members, names = [], []
    for member in _split_top_level(value, ","):
        sender = _mailbox(member)
        if sender.address or sender.doubt:
            if names:  # `Ellery, Marcus <m@x>` unquoted: the words before the comma are part of the name
                sender = Sender(sender.address, ", ".join(names + [sender.name]).strip(", "), sender.doubt)
                names = []
            members.append(sender)
        elif member.strip():
            names.append(_display(member))
    return members


def _mailbox(text: str) -> Sender:
    """One mailbox: `name <addr>`, `addr`, or `addr (comment)`."""
    angles = _angle_addresses(text)
    if len(angles) > 1:
        spec = _clean_spec(angles[0][1])
        return Sender(spec or "", "", "the From header has more than one <address>")
    if angles:
        start, inner, end = angles[0]
        spec = _clean_spec(inner)
        rest = (text[:start] + " " + text[end:]).strip()
        if spec is None:
            return Sender("", _display(rest), "the From address is not a valid address")
        if _angle_addresses(rest) or "<" in _outside_quotes(rest) or ">" in _outside_quotes(rest):
            return Sender(spec, _display(rest), "the From header has stray angle brackets")
        if "@" in _outside_quotes(rest):
            # `attacker@evil.example <boss@council>` unquoted: other readers (and DMARC checkers) may
            # take the first address, we would take the second; two readings decide nothing.
            return Sender(spec, _display(rest), "the From header has an address outside its <address>")
        return Sender(spec, _display(rest))
    bare = _strip_comments(text).strip()
    words = bare.split()
    if len(words) == 1 and (spec := _clean_spec(words[0])):
        return Sender(spec, _display(_comments(text)))
    if any("@" in word for word in words):
        return Sender("", "", "the From header is not one clear address")
    return Sender("", _display(bare))


def _top_level(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of each character outside quoted strings, comments and escapes."""
    depth, quoted, i = 0, False, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if quoted:
            quoted = ch != '"'
        elif depth:
            depth += {"(": 1, ")": -1}.get(ch, 0)
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth = 1
        else:
            yield i, ch
        i += 1


def _angle_addresses(text: str) -> list[tuple[int, str, int]]:
    """(start, inside, end) of each `<…>` outside quoted strings and comments."""
    found, start = [], None
    for i, ch in _top_level(text):
        if ch == "<" and start is None:
            start = i
        elif ch == ">" and start is not None:
            found.append((start, text[start + 1:i], i + 1))
            start = None
    return found


def _split_top_level(text: str, separator: str) -> list[str]:
    """Split on `separator` where it stands outside quotes, comments and angle brackets."""
    cuts, angle = [], False
    for i, ch in _top_level(text):
        angle = (angle or ch == "<") and ch != ">"
        if ch == separator and not angle:
            cuts.append(i)
    bounds = [-1, *cuts, len(text)]
    return [text[a + 1:b] for a, b in zip(bounds, bounds[1:])]


def _outside_quotes(text: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', "", _strip_comments(text))


def _strip_comments(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\((?:[^()\\]|\\.)*\)", " ", text)
    return text


def _comments(text: str) -> str:
    return " ".join(re.findall(r"\(((?:[^()\\]|\\.)*)\)", text))


def _clean_spec(inner: str) -> str | None:
    """The addr-spec inside angle brackets, lower-cased, or None when it is not one plain ASCII address.

    Source routes (`<@relay:a@b>`) are obsolete and read differently by different parsers; non-ASCII
    letters can lower-case into ASCII ones (the Kelvin sign into `k`) and pose as a colleague.
    """
    spec = _strip_comments(inner).strip()
    if spec.count("@") != 1 or not spec.isascii() or not ADDR_SPEC.match(spec):
        return None
    return spec.lower()


def _display(text: str) -> str:
    """A display name for letters and logs: encoded words decoded, quotes removed, control characters gone."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = re.sub(r"\\(.)", r"\1", text[1:-1])
    try:
        text = str(make_header(decode_header(text)))
    except Exception:  # a broken encoded word is shown as it was written
        pass
    return " ".join(CONTROL.sub(" ", text).split())
