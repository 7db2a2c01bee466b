"""The shapes of the crash harness's mail: our letters as repliers read them, samples re-aimed, headers rewritten.

Samples from tests/data answer November's letters; these helpers point them at this month's
audits and requests, give each copy its own Message-ID, and rewrite headers the way a forger would.
"""
import re
from datetime import datetime
from pathlib import Path

from app import demo_mail as shapes

DATA = Path(__file__).parents[1] / "data"
MAILBOX = "qa-audits@wexcombe.example"


class Letter:
    """One of our letters as the reply builders read it, its headers and text parsed once (parsing is slow)."""

    def __init__(self, message):
        self._headers = {name: str(message[name]) for name in ("From", "To", "Subject", "Date", "Message-ID")}
        self._text = message.get_body(("plain",)).get_content()

    def __getitem__(self, name: str) -> str:
        return self._headers[name]

    def get_body(self, _preference):
        return self

    def get_content(self) -> str:
        return self._text


def decision_mail(sender: str, reference: str, at: datetime, words: str) -> bytes:
    """A reply naming its request in the subject, without threading headers (as phones sometimes send)."""
    return shapes.new_email(sender, MAILBOX, f"RE: [{reference}] please reply", at, words)


def from_sample(name: str, reference: str, at: datetime) -> bytes:
    """A sample decision re-aimed at `reference`, with its own Message-ID and no threading headers."""
    raw = re.sub(rb"(EXM|SLP)-2026-12-\d{3}", reference.encode(), read_sample(name))
    return set_headers(raw, {"Message-ID": new_id(at), "In-Reply-To": None, "References": None})


def read_sample(name: str) -> bytes:
    """The bytes of a sample email under tests/data/."""
    return (DATA / name).read_bytes()


def fresh_id(raw: bytes, at: datetime) -> bytes:
    """The message with a Message-ID of its own."""
    return set_headers(raw, {"Message-ID": new_id(at)})


IDS = iter(range(10**9))


def new_id(at: datetime) -> str:
    """A Message-ID no other message of the mix has."""
    return f"<mix.{at.strftime('%Y%m%d%H%M%S')}.{next(IDS)}@mail.wexcombe.example>"


def with_from(raw: bytes, values: list[str]) -> bytes:
    """The message with its From header replaced by one header per value."""
    headers = b"".join(b"From: " + v.encode() + b"\r\n" for v in values)
    return re.sub(rb"(?m)^From: .*\r?\n(?:[ \t].*\r?\n)*", lambda _: headers, raw, count=1)


def set_headers(raw: bytes, values: dict[str, str | None]) -> bytes:
    """Replace (or, with None, remove) top-level headers, folded continuation lines included."""
    head, sep, body = re.split(rb"(\r?\n\r?\n)", raw, maxsplit=1) if re.search(rb"\r?\n\r?\n", raw) else (raw, b"", b"")
    for name in values:
        head = re.sub(rb"(?im)^" + re.escape(name.encode()) + rb":.*(?:\r?\n[ \t].*)*(?:\r?\n|$)", b"", head)
    new = b"".join(f"{k}: {v}\r\n".encode() for k, v in values.items() if v)
    return new + head + sep + body
