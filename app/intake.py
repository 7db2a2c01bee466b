"""One intake pass: each waiting message is parsed, classified, handled and filed, one at a time.

    transport -> parse -> classify -> handler -> one store write -> move out of the inbox -> outbox

A message leaves the inbox only after its handling is durable. A message whose handling was cut off
three times (a crash, a kill) is set aside in failed/ for a person rather than retried forever.
A failure stops one message, never the pass: it goes to failed/, the log and the QA team's list.
"""
import hashlib
import logging
import re
import time
from contextlib import suppress
from typing import Callable

from app.oversize import answer_too_large, size_words, too_large
from app.context import Context
from core.clock import month_of
from core.errors import MalformedMessage, StoreError, TransportError
from inbox.mailbox import Incoming
from inbox.parse import parse_message

log = logging.getLogger("auditmail.intake")
MAX_ATTEMPTS = 3
SEND_EVERY = 0.25  # seconds; a pacing interval (time.monotonic), not a time anyone is told
CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def intake_pass(ctx: Context, should_stop: Callable[[], bool] = lambda: False) -> tuple[int, int]:
    """Handle every message waiting in the inbox; returns how many were dealt with and how many letters sent.

    The answers go out as the pass goes, at most SEND_EVERY seconds after their message was handled, so
    nobody waits for the rest of a month-end surge; in a surge they go in batches, each batch costing
    one flush of sent/ and one record of what went, not one per message.
    """
    handled = sent = 0
    last_sent = time.monotonic()
    try:
        for incoming in ctx.reader.waiting():
            if should_stop():
                break
            handle_one(ctx, incoming)
            handled += 1
            if time.monotonic() - last_sent >= SEND_EVERY:
                sent += ctx.postman.deliver_pending()
                last_sent = time.monotonic()
    except TransportError as exc:
        mailbox_failed = exc
    else:
        return handled, sent + ctx.postman.deliver_pending()
    # The mailbox failed reading or filing a message: the answers to those handled before it still go
    # now, as they did when each went at once, not after the mailbox is reconnected. Sent outside the
    # `except`, so a sending failure is not taken for this one (Postman reads an error's context).
    with suppress(StoreError):
        ctx.postman.deliver_pending()
    raise mailbox_failed


def handle_one(ctx: Context, incoming: Incoming) -> None:
    """Parse, classify and handle one message, then file it in processed/ or failed/."""
    if too_large(ctx, incoming.raw):
        # Never parsed: set aside untouched, and a sender on the roster told why (once).
        key, sender = answer_too_large(ctx, incoming)
        _set_aside(ctx, incoming, key, sender, f"too large to read ({size_words(ctx, incoming.raw)})")
        return
    try:
        mail = parse_message(incoming.raw, incoming.received_at)
    except MalformedMessage as exc:
        _set_aside(ctx, incoming, _raw_key(incoming.raw), None, exc.message)
        return
    ledger = ctx.ledger
    if ledger.is_handled(mail.key, mail.received_at):
        # Handled before a crash stopped us moving it: file it, never handle it twice.
        log.info("already handled message_id=%s; filed", mail.key)
        ctx.reader.processed(incoming)
        return
    if _handled_in_an_earlier_month(ledger, mail):
        # The same message again, weeks later (re-delivered, or replayed by someone who kept a copy of
        # a signed request): its Date still names the month it was handled in. Never handle it twice.
        log.warning("a copy of a message handled in an earlier month message_id=%s; filed", mail.key)
        with ctx.store.transaction():
            ledger.add_triage(month_of(mail.received_at), {
                "at": mail.received_at.isoformat(), "key": mail.key,
                "note": f"a copy of a message from {mail.from_addr} already handled in "
                        f"{month_of(mail.date_header)} arrived again; it was not handled twice"})
        ctx.reader.processed(incoming)
        return
    # Handling starts here: only from now on can this message be what kills the process.
    attempts = _attempts(ctx, mail.key, mail.received_at)
    if attempts > MAX_ATTEMPTS:
        _set_aside(ctx, incoming, mail.key, mail.from_addr, f"handling was interrupted {MAX_ATTEMPTS} times"
                   f" (bring it back with `auditmail retry`)")
        return
    try:
        classification = ctx.classifier.classify(mail)
        with ctx.store.transaction():
            decision = ctx.router.handle(mail, classification, ctx)
            for letter in decision.letters:
                ctx.postman.post(letter)
            month = month_of(mail.received_at)
            for note in decision.triage:
                ledger.add_triage(month, {"at": mail.received_at.isoformat(), "key": mail.key, "note": note})
            ledger.mark_handled(mail.key, mail.received_at, {
                "message_id": mail.message_id, "from": mail.from_addr, "kind": classification.kind.value,
                "outcome": decision.outcome, "refs": list(decision.refs or classification.references),
                "handled_at": ctx.clock.now().isoformat(),
            })
    except StoreError:
        # The store itself is failing: stop the pass, the message stays in the inbox. That is not
        # the message's fault, so the attempt is given back (if the store lets us write at all).
        _give_back_attempt(ctx, mail.key, mail.received_at, attempts)
        raise
    except Exception as exc:  # noqa: BLE001 - one bad message must never stop the loop
        # Nobody foresaw this failure (a bug, or mail no rule expected): the operator needs the traceback.
        _set_aside(ctx, incoming, mail.key, mail.from_addr, f"{type(exc).__name__}: {exc}", traceback=True)
        return
    log.info("handled message_id=%s kind=%s outcome=%s refs=%s", mail.key, classification.kind.value,
             decision.outcome, ",".join(decision.refs or classification.references) or "-")
    ctx.reader.processed(incoming)


def _handled_in_an_earlier_month(ledger, mail) -> bool:
    if mail.message_id is None or mail.date_header is None:
        return False
    sent = mail.date_header
    return month_of(sent) < month_of(mail.received_at) and ledger.is_handled(mail.key, sent)


def _attempts(ctx: Context, key: str, received_at) -> int:
    """Count this attempt first, so a message that kills the process is not retried forever.

    Not fsync'd on its own: a killed process keeps it, and the handling's own commit makes it durable.
    Only a power cut can lose it, and then the message is only tried once more (db/wal.py).
    """
    with ctx.store.transaction(durable=False):
        return ctx.ledger.count_attempt(key, received_at)


def _give_back_attempt(ctx: Context, key: str, received_at, attempts: int) -> None:
    try:
        with ctx.store.transaction(durable=False):
            ctx.ledger.set_attempts(key, received_at, attempts - 1)
    except StoreError:
        pass  # the count stays one too high; three such failures still only set it aside for `retry`


def _set_aside(ctx: Context, incoming: Incoming, key: str, sender: str | None, reason: str, *,
               traceback: bool = False) -> None:
    """Move a message to failed/ with a triage note; this must succeed whatever the message is called or holds.

    `traceback`: called while handling an unforeseen exception, whose traceback goes into the log.
    """
    name, reason = _readable(incoming.handle), _readable(reason)
    log.error("failed message_id=%s file=%s: %s", _readable(key), name, reason, exc_info=traceback)
    try:
        with ctx.store.transaction():
            month = month_of(incoming.received_at)
            # A crash between this note and the move below brings the message back: note it once.
            if not any(t.get("failed") == name and t.get("key") == _readable(key) for t in ctx.ledger.triage(month)):
                ctx.ledger.add_triage(month, {
                    "at": incoming.received_at.isoformat(), "key": _readable(key), "failed": name,
                    "note": f"could not be handled and was moved to failed/ ({reason})" + (f"; from {sender}" if sender else ""),
                })
    except StoreError:
        raise  # the store itself is failing: the message stays in the inbox and the pass stops
    except Exception:  # noqa: BLE001 - the note is lost, never the message, and never the rest of the inbox
        log.exception("could not note failed message file=%s in the triage list", name)
    ctx.reader.failed(incoming, reason)


def _readable(text: str) -> str:
    """Text safe to store and log on one line: undecodable bytes shown as U+FFFD, control characters as '?'."""
    try:
        data = text.encode("utf-8", "surrogateescape")  # a file name's raw bytes, as the OS gave them
    except UnicodeEncodeError:
        data = text.encode("utf-8", "replace")
    return CONTROL.sub("?", data.decode("utf-8", "replace"))


def _raw_key(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()
