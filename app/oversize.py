"""Mail over the size limit ([mailbox] max_message_mb): never parsed, its sender told, once.

Parsing a 200 MB message takes gigabytes of memory, so only its header block is read: enough to
know who sent it and whether they are on the roster. Outsiders, auto-replies and bounces are not
answered; the message itself is set aside in failed/ by the caller, untouched.
"""
from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from app.handlers import answer
from core.clock import month_of
from core.errors import MalformedMessage
from core.text import one_line
from inbox.classify import NEVER_ANSWERED
from inbox.mailbox import Incoming
from inbox.parse import ParsedMail, parse_message

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.intake")
MEGABYTE = 1024 * 1024
# However long the headers of a hostile message, no more than this is read to find its sender.
HEADER_LIMIT = 256 * 1024
TOO_LARGE_SUBJECT = "Your email to the audit mailbox was too large to read"


def too_large(ctx: Context, raw: bytes) -> bool:
    """Whether a message is over the configured size limit."""
    return len(raw) > ctx.config.max_message_mb * MEGABYTE


def size_words(ctx: Context, raw: bytes) -> str:
    """"31.4 MB; the limit is 25 MB", for the log, the triage list and the letter."""
    return f"{len(raw) / MEGABYTE:.1f} MB; the limit is {ctx.config.max_message_mb} MB"


def headers_only(raw: bytes, received_at) -> ParsedMail:
    """The message parsed from its header block alone (the body is never read); MalformedMessage if it has none."""
    head = raw[:HEADER_LIMIT]
    ends = [i for i in (head.find(b"\r\n\r\n"), head.find(b"\n\n")) if i >= 0]
    if ends:
        head = head[:min(ends)]
    else:
        head = head[:head.rfind(b"\n") + 1] or head  # headers longer than the limit: whole lines only
    return parse_message(head.rstrip(b"\r\n") + b"\r\n\r\n", received_at)


def message_key(raw: bytes, received_at) -> str:
    """The key the ledger knows a message by (its Message-ID, else a hash of its bytes), from its headers only."""
    try:
        message_id = headers_only(raw, received_at).message_id
    except MalformedMessage:
        message_id = None
    return message_id or "sha256:" + hashlib.sha256(raw).hexdigest()


def answer_too_large(ctx: Context, incoming: Incoming) -> tuple[str, str | None]:
    """Tell a roster member their message was too large (once); returns its key and sender for the triage note."""
    try:
        mail = headers_only(incoming.raw, incoming.received_at)
    except MalformedMessage:
        return "sha256:" + hashlib.sha256(incoming.raw).hexdigest(), None
    key = mail.message_id or "sha256:" + hashlib.sha256(incoming.raw).hexdigest()
    month, done = month_of(incoming.received_at), f"too-large:{key}"
    if ctx.ledger.was_done(month, done):
        return key, mail.from_addr  # answered before (a crash, or `retry`): never twice
    c = ctx.classifier.classify(mail)
    with ctx.store.transaction():
        if c.kind not in NEVER_ANSWERED and c.person is not None:
            limit = ctx.config.max_message_mb
            ctx.postman.post(answer(mail, template="intake/too_large", kind="too-large",
                                        subject=TOO_LARGE_SUBJECT, context={
                                            "person_name": c.person.first_name, "subject": one_line(mail.subject),
                                            "received_at": incoming.received_at, "limit_mb": str(limit),
                                            "size_mb": f"{len(incoming.raw) / MEGABYTE:.1f}",
                                            # Attachments grow by a third when mailed (base64), and the text needs room.
                                            "attach_mb": str(max(1, int(limit * 0.7)))}))
        ctx.ledger.mark_done(month, done, ctx.clock.now())
    log.info("too large message_id=%s (%s); %s", one_line(key, 250), size_words(ctx, incoming.raw),
             "sender told" if c.person and c.kind not in NEVER_ANSWERED else "not answered")
    return key, mail.from_addr
