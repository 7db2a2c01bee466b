"""The postman: letters go into the durable outbox inside the handling transaction, and out later.

`post` is called while a transaction is open, so a letter is stored together with the state change
that caused it. `deliver_pending` sends what is stored; a mail leaves the outbox only once its
transport has taken it, so after a crash unsent mail is sent, once.
"""
import base64
import logging
from dataclasses import dataclass, field
from typing import Sequence

from core.clock import Clock, month_of
from core.errors import TransportError
from db.ledger import Ledger
from db.outbox import OutboxRepo
from db.store import Store
from inbox.mailbox import MailSender
from mailer.compose import Composer, OutgoingAttachment

log = logging.getLogger("auditmail.outbox")


@dataclass(frozen=True)
class Letter:
    """A letter a workflow decided to send, before it is composed."""

    template: str
    to: Sequence[str]
    subject: str
    context: dict
    kind: str                          # what it is, for the ledger: "unclear", "receipt", "reminder"…
    refs: Sequence[str] = ()           # the items it is about, so replies to it can be matched
    cc: Sequence[str] = ()
    in_reply_to: str | None = None
    references: Sequence[str] = ()
    answer_to: str | None = None       # the sender it answers; counts towards their daily limit
    attachments: Sequence[OutgoingAttachment] = field(default=())


class Postman:
    """Composes letters into the outbox and delivers the outbox through the sending transport."""

    def __init__(self, store: Store, composer: Composer, sender: MailSender, clock: Clock, max_answers_per_day: int):
        self._store, self._composer, self._sender, self._clock = store, composer, sender, clock
        self._ledger = Ledger(store)
        self._max_answers = max_answers_per_day

    def post(self, letter: Letter) -> str | None:
        """Store one letter for sending (inside the caller's transaction); its Message-ID, or None if held back."""
        now = self._clock.now()
        if letter.answer_to:
            day = self._clock.london_today().isoformat()
            if self._ledger.answers_today(letter.answer_to, day) >= self._max_answers:
                # A correspondent (or a loop with another robot) must not be able to start a mail storm.
                log.warning("answer held back: daily limit of %d reached for %s", self._max_answers, letter.answer_to)
                self._ledger.add_triage(month_of(now), {
                    "at": now.isoformat(), "key": letter.kind,
                    "note": f"a {letter.kind} letter to {letter.answer_to} about {', '.join(letter.refs) or 'their email'} "
                            f"was held back: they already had {self._max_answers} automatic answers today"})
                return None
            self._ledger.count_answer(letter.answer_to, day)
        context = letter.context
        letterhead = self._composer.letterhead
        if letter.refs and "our_ref" not in context:
            # "Our Ref: IT/qa/AUD-2026-12-004", as a council letter about one matter carries.
            context = {"our_ref": letterhead.our_ref(letter.refs[0]), **context}
        if letterhead.email.lower() in (a.lower() for a in letter.to):
            # A letter to the Director is not signed by the Director.
            context = {"signatory_name": "The Quality Assurance Team", "signatory_title": letterhead.organisation,
                       **context}
        message = self._composer.letter(
            letter.template, to=letter.to, subject=letter.subject, context=context, now=now, cc=letter.cc,
            in_reply_to=letter.in_reply_to, references=letter.references, attachments=letter.attachments,
        )
        message_id = message["Message-ID"]
        OutboxRepo(self._store).add({
            "message_id": message_id, "created_at": now.isoformat(), "kind": letter.kind,
            "to": list(letter.to), "cc": list(letter.cc), "subject": letter.subject, "refs": list(letter.refs),
            "raw": base64.b64encode(message.as_bytes()).decode("ascii"), "attempts": 0,
        })
        return message_id

    def deliver_pending(self) -> int:
        """Send every stored letter; returns how many went. A transport failure leaves the rest for the next pass."""
        sent = 0
        for record in OutboxRepo(self._store).pending():
            try:
                self._sender.send(base64.b64decode(record["raw"]), record["message_id"], record["to"] + record["cc"])
            except TransportError as exc:
                with self._store.transaction():
                    attempts = OutboxRepo(self._store).note_failure(record["message_id"], exc.message)
                log.error("send failed message_id=%s attempt=%d: %s", record["message_id"], attempts, exc.message)
                break  # the transport is likely down; try again next pass rather than hammer it
            with self._store.transaction():
                OutboxRepo(self._store).remove(record["message_id"])
                self._ledger.record_sent(record["message_id"], {
                    "sent_at": self._clock.now().isoformat(), "kind": record["kind"], "to": record["to"],
                    "cc": record["cc"], "subject": record["subject"], "refs": record["refs"],
                })
            log.info("sent message_id=%s kind=%s refs=%s", record["message_id"], record["kind"], ",".join(record["refs"]) or "-")
            sent += 1
        return sent
