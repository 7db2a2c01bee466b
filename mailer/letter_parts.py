"""The parts of a letter written as bytes: text bodies, attachments, inline images, and multiparts around them.

A part is (head, body): its header lines, each ending "\\n", and its body. A multipart is a part too,
so a letter with a calendar entry is multipart/mixed around multipart/alternative and the .ics, and
the monthly report's HTML is multipart/related around the HTML and its charts, as the email package
built them. What a mail client needs and gets:

- boundaries that cannot occur in what they enclose: each part is quoted-printable (where "=" is
  always "=3D", so "==" never appears) or base64 (where "=" is only end padding, never "===" runs
  of fifteen), and every boundary is checked against the bytes it encloses anyway;
- attachments in base64, 76 characters a line (RFC 2045 6.8), with Content-Disposition: attachment
  (inline with a Content-ID for an image the HTML shows) and the filename in RFC 2231 form when it
  is not plain ASCII. The head of each attachment is written by the email package itself, once per
  distinct name and type (cached), so its parameter quoting and encoding are exactly the package's;
  only the body, the costly part per letter, is written here.

Line ends are "\\n", as everywhere in the outbox; the SMTP sender makes them CRLF on the wire.
"""
from __future__ import annotations

import base64
import binascii
import functools
import random
import sys
from collections.abc import Sequence
from email.message import EmailMessage

from core.letter import OutgoingAttachment
from core.mail_policy import MAIL_POLICY
from core.text import valid_message_id

# The default policy folds a header line at 78 characters by turning a long word into an RFC 2047
# encoded word; Exchange's Message-IDs are long words, and an encoded In-Reply-To breaks threading.
# RFC 5322 allows 998, and Message-IDs are never that long.
MAX_LINE = 998
MESSAGE_POLICY = MAIL_POLICY.clone(max_line_length=MAX_LINE)
Part = tuple[bytes, bytes]
# The head the email package writes for a text part, word for word.
_TEXT_HEAD = 'Content-Type: text/{subtype}; charset="utf-8"\nContent-Transfer-Encoding: quoted-printable\n'


def text_part(subtype: str, text: str) -> Part:
    """text/plain or text/html, UTF-8, quoted-printable (readable in sent/, safe through any relay)."""
    return _TEXT_HEAD.format(subtype=subtype).encode("ascii"), quoted_printable(text)


def attachment_part(attachment: OutgoingAttachment) -> Part:
    """A file to open or save (Content-Disposition: attachment), or, with an inline_id, an image the HTML shows."""
    head = _attachment_head(attachment.filename, attachment.content_type, attachment.inline_id)
    # encodebytes writes lines of 76 characters, each ending "\n", as RFC 2045 asks.
    return head, base64.encodebytes(attachment.data)


def multipart(subtype: str, parts: Sequence[Part]) -> Part:
    """multipart/`subtype` around `parts`, with a boundary found in none of them."""
    boundary = _boundary(parts)
    delimiter = f"--{boundary}\n".encode("ascii")
    pieces = []
    for head, body in parts:
        # The line end before each delimiter belongs to the delimiter (RFC 2046 5.1.1), not to the body.
        pieces += [delimiter, head, b"\n", body, b"\n"]
    pieces.append(f"--{boundary}--\n".encode("ascii"))
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n'.encode("ascii"), b"".join(pieces)


def quoted_printable(text: str) -> bytes:
    """UTF-8 quoted-printable with "\\n" line ends, in C (binascii), for a text that ends with a line end.

    The lines are those the email package's set_content would have taken: any of CR, LF or CRLF ends one.
    """
    # binascii encodes each line on its own (soft breaks, a "." alone, trailing spaces all depend on the
    # line only), so a line is encoded once and kept: most lines of a letter (the letterhead, the HTML's
    # styled table rows, the Director's paragraphs) are the same in every letter of a run. Encoding the
    # 9 kB HTML of an allocation letter cost ~0.16 ms; looking up its lines costs a fraction of that.
    return b"".join([_line_qp(line) for line in text.encode("utf-8").splitlines() or (b"",)])


@functools.lru_cache(maxsize=8192)
def _line_qp(line: bytes) -> bytes:
    """One line (without its end) quoted-printable, ending "\n"; the same bytes b2a_qp gives it in a whole text."""
    return binascii.b2a_qp(line + b"\n", quotetabs=False, istext=True, header=False)


def _boundary(parts: Sequence[Part]) -> str:
    """A boundary in the generator's style, checked against every byte it will enclose (a memchr-fast scan)."""
    while True:
        boundary = f"{'=' * 15}{random.randrange(sys.maxsize):019d}=="
        marker = boundary.encode("ascii")
        if not any(marker in head or marker in body for head, body in parts):
            return boundary


@functools.lru_cache(maxsize=256)
def _attachment_head(filename: str, content_type: str, inline_id: str | None) -> bytes:
    """The header lines of an attachment, as the email package writes them (refusing what it would refuse).

    Built on an empty stand-in once per distinct (filename, type, id): a month's 150 allocation letters
    share one .ics name and type, so the package's parsing and folding is paid once, not 150 times.
    """
    probe = EmailMessage(policy=MAIL_POLICY)
    probe["Content-Type"] = content_type
    if probe["Content-Type"].defects or "/" not in content_type.split(";")[0]:
        # The email package would quietly fall back to text/plain; a wrong type is a caller bug.
        raise ValueError(f"bad content type {content_type!r} for {filename}")
    maintype, subtype = probe.get_content_maintype(), probe.get_content_subtype()
    params = dict(probe["Content-Type"].params) or None
    part = EmailMessage(policy=MESSAGE_POLICY)
    if inline_id is None:
        part.set_content(b"", maintype=maintype, subtype=subtype, filename=filename, params=params)
    else:
        if maintype != "image" or params:
            raise ValueError(f"an inline part must be an image, not {content_type!r} ({filename})")
        cid = inline_id.strip().strip("<>")
        if not valid_message_id(f"<{cid}>"):
            raise ValueError(f"not a usable Content-ID: {inline_id!r}")
        part.set_content(b"", maintype=maintype, subtype=subtype, filename=filename, cid=f"<{cid}>",
                         disposition="inline")
    # MIME-Version belongs to the message, not its parts; the package adds it to a part on its own.
    return b"".join(MESSAGE_POLICY.fold_binary(name, value) for name, value in part.items()
                    if name != "MIME-Version")
