"""A letter written straight as bytes: headers, then text and HTML as a multipart/alternative, then any attachments.

Building a letter through EmailMessage cost about 4 ms (each header parsed into the header registry,
then folded again by the generator; the bodies encoded by a pure-Python quoted-printable loop, an
attachment's base64 likewise) against well under 1 ms for the Jinja2 render. The bytes are the same
message to any reader: same headers, same structure, same decoded text, same attachments. A header
whose value is not plain printable ASCII on one short line (a non-ASCII name or subject) still goes
through the email policy, so RFC 2047 encoding and line-break refusal are exactly as before. The parts
themselves (attachments, inline images, boundaries) are written in mailer/letter_parts.py.
mailer/letter_message.py keeps the EmailMessage build, as the reference the bytes are tested against.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from email.message import EmailMessage

from core.letter import OutgoingAttachment
from mailer.letter_parts import MAX_LINE, MESSAGE_POLICY, attachment_part, multipart, text_part

__all__ = ["ComposedLetter", "MAX_LINE", "MESSAGE_POLICY", "composed_letter", "header_line"]
# Plain printable ASCII words separated by single spaces: written as given, the way the policy would.
_PLAIN = re.compile(r"[\x21-\x7e]+(?: [\x21-\x7e]+)*\Z")


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


def composed_letter(headers: Sequence[tuple[str, str]], text: str, html: str,
                    attachments: Sequence[OutgoingAttachment] = ()) -> ComposedLetter:
    """The letter as bytes: `headers` in order, then text/plain and text/html, quoted-printable UTF-8,
    then `attachments`, in the shape the email package gave them:

        multipart/mixed                  only when there are files to attach
            multipart/alternative
                text/plain
                text/html, or multipart/related of text/html and its inline images
            each file, base64

    `headers` must hold Message-ID; "Content-Language" is written after Content-Type, as before.
    """
    html_part = text_part("html", html)
    inline = [attachment_part(a) for a in attachments if a.inline_id]
    if inline:
        # Beside the HTML alone, so a client that shows the plain text never sees the images.
        html_part = multipart("related", [html_part, *inline])
    body = multipart("alternative", [text_part("plain", text), html_part])
    files = [attachment_part(a) for a in attachments if not a.inline_id]
    if files:
        body = multipart("mixed", [body, *files])
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
    head.append(body[0])
    if language is not None:
        head.append(header_line("Content-Language", language))
    return ComposedLetter(b"".join((*head, b"\n", body[1])), message_id)


def header_line(name: str, value: str) -> bytes:
    """One header as bytes ending in "\\n": plain ASCII as given, anything else folded by the email policy.

    The policy refuses a value with a line break (ValueError), as setting it on an EmailMessage did.
    """
    if len(name) + 2 + len(value) <= MAX_LINE and _PLAIN.match(value) and "=?" not in value:
        return f"{name}: {value}\n".encode("ascii")
    _, parsed = MESSAGE_POLICY.header_store_parse(name, value)
    return MESSAGE_POLICY.fold_binary(name, parsed)
