"""A letter built with the email package: the reference the byte-built letters are tested against.

The service writes every letter as bytes (mailer/letter_bytes.py); this build is what those bytes are
tested and measured against: with or without attachments, both must read the same in any mail client.
"""
from __future__ import annotations

from collections.abc import Sequence
from email.message import EmailMessage

from core.letter import OutgoingAttachment
from core.mail_policy import MAIL_POLICY
from core.text import valid_message_id
from mailer.letter_bytes import MESSAGE_POLICY


def letter_message(headers: Sequence[tuple[str, str]], text: str, html: str,
                   attachments: Sequence[OutgoingAttachment] = ()) -> EmailMessage:
    """`headers` in order, text and HTML alternatives (quoted-printable UTF-8), then the attachments."""
    msg = EmailMessage(policy=MESSAGE_POLICY)
    language = None
    for name, value in headers:
        if name == "Content-Language":
            language = value
        else:
            msg[name] = value
    # Quoted-printable keeps the stored copy in sent/ readable and survives any relay.
    msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
    msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
    inline = [a for a in attachments if a.inline_id]
    if inline:
        _attach_inline(msg.get_payload()[1], inline)  # the HTML part becomes multipart/related
    for attachment in attachments:
        if not attachment.inline_id:
            _attach(msg, attachment)  # turns multipart/alternative into multipart/mixed
    if language is not None:
        # Set last: turning a message multipart moves every Content-* header into the first part.
        msg["Content-Language"] = language
    return msg


def _attach(msg: EmailMessage, attachment: OutgoingAttachment) -> None:
    # Let the email package parse "text/calendar; method=PUBLISH" rather than splitting by hand.
    probe = EmailMessage(policy=MAIL_POLICY)
    probe["Content-Type"] = attachment.content_type
    if probe["Content-Type"].defects or "/" not in attachment.content_type.split(";")[0]:
        # The email package would quietly fall back to text/plain; a wrong type is a caller bug.
        raise ValueError(f"bad content type {attachment.content_type!r} for {attachment.filename}")
    maintype, subtype = probe.get_content_maintype(), probe.get_content_subtype()
    params = dict(probe["Content-Type"].params)
    msg.add_attachment(
        attachment.data,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        params=params or None,
    )


# --- images the HTML shows inline (<img src="cid:…">), e.g. the monthly report's charts ------------

def _attach_inline(html_part: EmailMessage, images: Sequence[OutgoingAttachment]) -> None:
    """Put each image beside the HTML in a multipart/related part, so Outlook shows it in place.

    text/plain stays the first alternative on its own: a client that shows text never sees the images.
    """
    for image in images:
        maintype, _, subtype = image.content_type.partition("/")
        if maintype != "image" or not subtype or ";" in subtype:
            raise ValueError(f"an inline part must be an image, not {image.content_type!r} ({image.filename})")
        cid = image.inline_id.strip().strip("<>")
        if not valid_message_id(f"<{cid}>"):
            raise ValueError(f"not a usable Content-ID: {image.inline_id!r}")
        html_part.add_related(image.data, maintype=maintype, subtype=subtype, cid=f"<{cid}>",
                              filename=image.filename, disposition="inline")
