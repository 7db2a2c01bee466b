"""A letter written straight as bytes: headers, then text and HTML as a multipart/alternative.

Nearly every letter is text plus HTML and nothing else. Building it through EmailMessage cost about
4 ms (each header parsed into the header registry, then folded again by the generator; the bodies
encoded by a pure-Python quoted-printable loop) against well under 1 ms for the Jinja2 render. The
bytes are the same message to any reader: same headers, same structure, same decoded text. A header
whose value is not plain printable ASCII on one short line (a non-ASCII name or subject) still goes
through the email policy, so RFC 2047 encoding and line-break refusal are exactly as before.
Letters with attachments keep the EmailMessage path (mailer/letter_message.py).
"""
from __future__ import annotations

import binascii
import random
import re
import sys
from collections.abc import Sequence
from email.message import EmailMessage

from core.mail_policy import MAIL_POLICY

# The default policy folds a header line at 78 characters by turning a long word into an RFC 2047
# encoded word; Exchange's Message-IDs are long words, and an encoded In-Reply-To breaks threading.
# RFC 5322 allows 998, and Message-IDs are never that long.
MAX_LINE = 998
MESSAGE_POLICY = MAIL_POLICY.clone(max_line_length=MAX_LINE)
# Plain printable ASCII words separated by single spaces: written as given, the way the policy would.
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")
# Written out in full by the email package's generator too; kept word for word.
_PART_HEAD = 'Content-Type: text/{subtype}; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n\n'


class ComposedLetter:
    """A composed letter: its bytes as they go out, its Message-ID, and the message a mail client would read.

    `as_bytes()` and `letter["Message-ID"]` cost nothing; any other header, or EmailMessage's reading
    methods (get_body, iter_parts, walk ...), read the bytes back once, as a recipient would.
    """

    __slots__ = ("message_id", "_raw", "_message")

    def __init__(self, raw: bytes, message_id: str, message: EmailMessage | None = None):
        self._raw = raw
        self.message_id = message_id
        self._message = message

    @classmethod
    def of_message(cls, message: EmailMessage) -> ComposedLetter:
        """Wrap a message built with the email package (letters with attachments)."""
        return cls(message.as_bytes(), str(message["Message-ID"]), message)

    def as_bytes(self) -> bytes:
        """The complete RFC 5322 message, "\\n" line endings, as the outbox stores it."""
        return self._raw

    @property
    def message(self) -> EmailMessage:
        """The letter as a mail client reads it, parsed from the bytes the first time it is asked for."""
        if self._message is None:
            from email.parser import BytesParser  # only tests and reports read letters back
            # With the composing policy, so a caller that writes it out again keeps long ids whole.
            self._message = BytesParser(policy=MESSAGE_POLICY).parsebytes(self._raw)
        return self._message

    def __getitem__(self, name: str):
        if name.lower() == "message-id":
            return self.message_id
        return self.message[name]

    def __contains__(self, name: str) -> bool:
        return name in self.message

    def __bytes__(self) -> bytes:
        return self._raw

    def __str__(self) -> str:
        return str(self.message)

    def get(self, name: str, default=None):
        """A header's value, or `default` when the letter has none."""
        return self.message.get(name, default)

    def __getattr__(self, name: str):
        # Callers that read a letter as an EmailMessage (get_body, get_content_type ...) keep working.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.message, name)


def alternative_letter(headers: Sequence[tuple[str, str]], text: str, html: str) -> ComposedLetter:
    """The letter as bytes: `headers` in order, then text/plain and text/html, quoted-printable UTF-8.

    `headers` must hold Message-ID; "Content-Language" is written after Content-Type, as before.
    """
    plain_body, html_body = _quoted_printable(text), _quoted_printable(html)
    boundary = _boundary(plain_body, html_body)
    head, language, message_id = [], None, None
    for name, value in headers:
        if name == "Content-Language":
            language = value
            continue
        if name == "Message-ID":
            message_id = value
        head.append(header_line(name, value))
    if message_id is None:
        raise ValueError("a letter needs a Message-ID")
    head.append(f'Content-Type: multipart/alternative; boundary="{boundary}"\n'.encode("ascii"))
    if language is not None:
        head.append(header_line("Content-Language", language))
    delimiter = f"--{boundary}\n".encode("ascii")
    raw = b"".join((
        *head, b"\n",
        delimiter, _PART_HEAD.format(subtype="plain").encode("ascii"), plain_body,
        b"\n", delimiter, _PART_HEAD.format(subtype="html").encode("ascii"), html_body,
        f"\n--{boundary}--\n".encode("ascii"),
    ))
    return ComposedLetter(raw, message_id)


def header_line(name: str, value: str) -> bytes:
    """One header as bytes ending in "\\n": plain ASCII as given, anything else folded by the email policy.

    The policy refuses a value with a line break (ValueError), as setting it on an EmailMessage did.
    """
    if len(name) + 2 + len(value) <= MAX_LINE and _PLAIN.match(value) and "=?" not in value:
        return f"{name}: {value}\n".encode("ascii")
    _, parsed = MESSAGE_POLICY.header_store_parse(name, value)
    return MESSAGE_POLICY.fold_binary(name, parsed)


def _quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable with "\\n" line ends, in C (binascii), for a text that ends with a line end.

    The lines are those the email package's set_content would have taken: any of CR, LF or CRLF ends one.
    """
    lines = text.encode("utf-8").splitlines()
    return binascii.b2a_qp(b"\n".join(lines) + b"\n", quotetabs=False, istext=True, header=False)


def _boundary(*bodies: bytes) -> str:
    """A boundary in the generator's style. Quoted-printable writes "=" as "=3D", so "==" cannot occur
    in a body; the check costs microseconds and keeps that argument from being the only guard."""
    while True:
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        if not any(boundary.encode("ascii") in body for body in bodies):
            return boundary
