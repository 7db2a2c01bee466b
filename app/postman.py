"""The postman joins the store, the composer and the sender: letters go into the durable outbox inside the handling transaction, and out later.

`post` is called while a transaction is open, so a letter is stored together with the state change
that caused it. `deliver_pending` sends what is due; a mail leaves the outbox only once its
transport has taken it, so after a crash unsent mail is sent (at least once, with the same Message-ID).

Sending never stalls: a letter the server will not take yet is retried with backoff while the others
go on; one refused for good, or not taken after `max_send_attempts` tries, is set aside for the QA
team (`status` lists it, `resend` sends it again). A recipient refused by the server is noted and the
letter counts as sent to the others. When the server itself is the trouble, sending as a whole pauses
(app/send_trouble.py).
"""
import logging
from datetime import datetime

from core.clock import Clock, month_of
from core.errors import PermanentFailure, TransportError
from db.ledger import Ledger
from db.outbox import OutboxRepo
from db.store import Store
from inbox.mailbox import MailSender
from mailer.compose import Composer
from app.send_trouble import SendingTrouble, _about
from core.letter import Letter

log = logging.getLogger("auditmail.outbox")


class Postman(SendingTrouble):
    """Composes letters into the outbox and delivers the outbox through the sending transport."""

    def __init__(self, store: Store, composer: Composer, sender: MailSender, clock: Clock, max_answers_per_day: int,
                 max_send_attempts: int = 8):
        self._store, self._composer, self._sender, self._clock = store, composer, sender, clock
        self._ledger = Ledger(store)
        self._max_answers = max_answers_per_day
        self._max_attempts = max_send_attempts

    @property
    def sent_records_need_sync(self) -> bool:
        """Whether the records of letters sent must be fsync'd when a pass ends, not only by the next commit.

        They are appended without an fsync (`_mark_sent`). Through a server, losing one to a power cut
        sends that letter a second time, so a pass makes them durable before it ends. The Maildir
        replaces the letter's file instead, so there the next commit (or the fold) is soon enough.
        """
        return not getattr(self._sender, "resends_replace", False)

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
        return self.keep(self.compose(letter))

    def compose(self, letter: Letter) -> dict:
        """The outbox record of one letter, composed but not stored (no store needed: it may run outside a
        transaction, so scheduled work can compose each letter on its own and store them all in one write).
        Not for answers: `post` applies their daily limit."""
        context = letter.context
        letterhead = self._composer.letterhead
        if letter.refs and "our_ref" not in context:
            # "Our Ref: IT/qa/AUD-2026-12-004", as a council letter about one matter carries.
            context = {"our_ref": letterhead.our_ref(letter.refs[0]), **context}
        if letterhead.email.lower() in (a.lower() for a in letter.to):
            # A letter to the Director is not signed by the Director.
            context = {"signatory_name": "The Quality Assurance Team", "signatory_title": letterhead.organisation,
                       **context}
        now = self._clock.now()
        message = self._composer.letter(
            letter.template, to=letter.to, subject=letter.subject, context=context, now=now, cc=letter.cc,
            in_reply_to=letter.in_reply_to, references=letter.references, attachments=letter.attachments,
        )
        return {
            "message_id": message["Message-ID"], "created_at": now.isoformat(), "kind": letter.kind,
            "to": list(letter.to), "cc": list(letter.cc), "subject": letter.subject, "refs": list(letter.refs),
            "raw": message.as_bytes(), "attempts": 0,
        }

    def keep(self, record: dict) -> str:
        """Store a composed letter in the outbox (inside the caller's transaction); its Message-ID."""
        OutboxRepo(self._store).add(record)
        return record["message_id"]

    def keep_all(self, records: list[dict]) -> None:
        """Store composed letters in the outbox (inside the caller's transaction), in one table write."""
        OutboxRepo(self._store).add(*records)

    def deliver_pending(self) -> int:
        """Send every letter that is due; returns how many went. One letter's failure never holds up the rest.

        A letter the server will not take yet waits (1, 2, 4 … minutes, or as long as the server asked)
        while the others go; one refused for good, or after `max_send_attempts` tries, is set aside for a
        person. When the server itself is the trouble (it cannot be reached, asks us to wait, two
        letters fail in a row, or it refuses two letters with the same words, as for a wrong
        password), all sending pauses (1, 2, 4 … 15 minutes), so nobody knocks on a closed door and
        no account is locked out by a login attempt at every pass.
        """
        outbox, now = OutboxRepo(self._store), self._clock.now()
        pause = outbox.paused()
        if pause and now < datetime.fromisoformat(pause["until"]):
            return 0
        sent, failures_in_a_row = 0, 0
        held: tuple[dict, str] | None = None  # refused for good; set aside once the next letter shows it was the letter
        taken: list[tuple[dict, list[str]]] = []  # taken by the transport, not yet recorded as sent
        try:
            for record in outbox.due(now):
                try:
                    refused = list(self._sender.send(outbox.raw(record), record["message_id"],
                                                     record["to"] + record["cc"]) or [])
                except PermanentFailure as exc:
                    self._record_sent(taken)  # first: recording a letter resumes sending, which may pause now
                    if held and held[1] == exc.message:
                        # Two letters refused in the same words: the account or server, not the letters.
                        self._pause([held[0], record], f"the server refuses every letter: {exc.message}")
                        return sent
                    self._flush(held)
                    held, failures_in_a_row = (record, exc.message), 0
                    continue
                except TransportError as exc:  # TemporaryFailure, or a transport that did not say which
                    self._record_sent(taken)
                    self._flush(held)
                    held = None
                    failures_in_a_row += 1
                    if self._retry_later(record, exc, failures_in_a_row):
                        return sent
                    continue
                self._flush(held)
                held, failures_in_a_row = None, 0
                everyone = {a.lower() for a in record["to"] + record["cc"]}
                if everyone and everyone <= {a.lower() for a in refused}:
                    self._set_aside(record, f"every recipient was refused ({', '.join(refused)})")
                    continue
                taken.append((record, refused))
                sent += 1
                if not hasattr(self._sender, "flush_sent"):
                    self._record_sent(taken)  # a server took it: recorded at once, as the kill window is a resend
            self._flush(held)
        finally:
            self._record_sent(taken)
        return sent

    def _record_sent(self, taken: list[tuple[dict, list[str]]]) -> None:
        """Record the letters the transport took as sent, after making them durable where it keeps them.

        The Maildir transport fsyncs each letter's file but leaves its name in sent/new to `flush_sent`:
        one folder fsync for the batch instead of one per letter. Safe against a power cut because the
        flush comes before the record is written at all: the record's log append is not fsync'd, but
        the kernel may still write it out at any moment, so "later, before the log's next fsync" would
        not be enough; "before the append" is. Whatever of the record reaches the disk, the letter's file
        and name are there already. A kill (not a power cut) after the send and before the record leaves
        the letter in the outbox: it goes again with the same Message-ID, into the same file name.
        A transport with no `flush_sent` (SMTP, EWS, Graph) has each letter recorded as soon as it is taken.
        """
        if not taken:
            return
        flush = getattr(self._sender, "flush_sent", None)
        if flush is not None:
            flush()  # if this fails, nothing is recorded: the letters stay in the outbox and go again
        self._mark_sent(taken)
        taken.clear()

    def _flush(self, held: tuple[dict, str] | None) -> None:
        if held:
            self._set_aside(held[0], f"refused by the server: {held[1]}")

    def _mark_sent(self, taken: list[tuple[dict, list[str]]]) -> None:
        """Out of the outbox and into the ledger in one write; a refused recipient goes on the QA team's list.

        The write is not fsync'd on its own: the next durable commit (the next message handled, or the
        end of the pass where `sent_records_need_sync`) carries it. A killed process keeps it; a power
        cut before then can only make the letters go again, with the same Message-IDs, which the
        transport was already allowed to do.
        """
        now = self._clock.now()
        with self._store.transaction(durable=False):
            outbox = OutboxRepo(self._store)
            outbox.remove(*(record["message_id"] for record, _ in taken))  # one removal for the batch
            for record, refused in taken:
                self._ledger.record_sent(record["message_id"], {
                    "sent_at": now.isoformat(), "kind": record["kind"], "to": record["to"],
                    "cc": record["cc"], "subject": record["subject"], "refs": record["refs"], "refused": refused,
                })
                for address in refused:
                    self._ledger.add_triage(month_of(now), {
                        "at": now.isoformat(), "key": record["message_id"], "refused": address,
                        "note": f"{address} was refused by the mail server for a letter ({record['kind']}) "
                                f"{_about(record)}; the other recipients had it (check the address on the roster)"})
            outbox.resume()
        for record, refused in taken:
            log.info("sent message_id=%s kind=%s refs=%s", record["message_id"], record["kind"],
                     ",".join(record["refs"]) or "-")
            for address in refused:
                log.warning("recipient refused message_id=%s address=%s", record["message_id"], address)
