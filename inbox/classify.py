"""What kind of email is this? Fixed gates first, then the recognisers the workflows own, in their order.

Gates (never answered): a From that names no one sender with confidence, our own address, bounces,
auto-replies, senders outside the roster.
Recognisers (`workflows.registry.RECOGNISERS`, answered by the workflow that owns the kind): replies
about an item answered by reply, new exemption requests, slippage notices, audit submissions, other
replies to our mail. Anything left is unclear and is answered with what could not be told.
"""
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from inbox.parse import ParsedMail
from inbox.reply import newest_text
from workflows.exemptions import EXEMPTION_WORDS
from workflows.items import Seen
from workflows.registry import RECOGNISERS, references_in as registered_references
from workflows.roster import Person
from workflows.slippage import SLIPPAGE_WORDS


class Kind(StrEnum):
    SUBMISSION = "submission"
    EXEMPTION = "exemption"
    SLIPPAGE = "slippage"
    REPLY = "reply"
    AUTO_REPLY = "auto_reply"
    BOUNCE = "bounce"
    OUTSIDER = "outsider"
    DOUBTFUL_SENDER = "doubtful_sender"  # From could be read as more than one sender: decides nothing
    OWN = "own"
    UNCLEAR = "unclear"


NEVER_ANSWERED = {Kind.AUTO_REPLY, Kind.BOUNCE, Kind.OUTSIDER, Kind.OWN, Kind.DOUBTFUL_SENDER}
# Exchange writes "Automatic reply:" in the recipient's language.
AUTO_SUBJECT = re.compile(r"^(automatic reply|auto[- ]?reply|auto[- ]?response|out of (the )?office"
                          r"|automatische antwort|r[ée]ponse automatique|automatisch antwoord|risposta automatica"
                          r"|respuesta autom[áa]tica|autosvar|automatisk svar|odpowied[źz] automatyczna"
                          r"|ateb awtomatig)\b", re.I)
BOUNCE_SUBJECT = re.compile(r"^(undeliverable|undelivered mail|delivery status notification|"
                            r"mail delivery (failed|failure)|returned mail|failure notice)\b", re.I)
BOUNCE_SENDERS = ("mailer-daemon", "postmaster")
PRECEDENCE_AUTO = {"bulk", "junk", "list", "auto_reply"}


@dataclass(frozen=True)
class Classification:
    """The verdict: a kind, the sender, the references it concerns, and why."""

    kind: Kind
    person: Person | None
    references: tuple[str, ...] = ()
    thread: dict | None = None
    reasons: tuple[str, ...] = field(default=())

    @property
    def answerable(self) -> bool:
        """Whether the service may ever write back to the sender about this message."""
        return self.kind not in NEVER_ANSWERED


def references_in(*texts: str) -> list[str]:
    """Every item reference of a registered kind in the texts, upper-cased, first occurrence order."""
    return registered_references(*texts)


class Classifier:
    """Runs the gates, then each of the workflows' recognisers in order; the first that answers wins."""

    def __init__(self, mailbox_address: str, find_person: Callable[[str], Person | None],
                 find_sent: Callable[[str], dict | None]):
        self._mailbox = mailbox_address.lower()
        self._find_person = find_person
        self._find_sent = find_sent

    def classify(self, mail: ParsedMail) -> Classification:
        """Decide what kind of email `mail` is."""
        person = self._find_person(mail.from_addr)
        gate = self._gate(mail, person)
        if gate is Kind.AUTO_REPLY and person:
            # An out-of-office from someone we asked to decide matters to that request.
            seen = self._seen(mail)
            return Classification(gate, person, seen.references, seen.thread)
        if gate:
            return Classification(gate, person)
        seen = self._seen(mail)
        for recognise in RECOGNISERS:
            kind = recognise(seen)
            if kind:
                return Classification(Kind(kind), person, seen.references, seen.thread)
        return Classification(Kind.UNCLEAR, person, seen.references, seen.thread, unclear_reasons(seen))

    def _gate(self, mail: ParsedMail, person: Person | None) -> Kind | None:
        if mail.sender_doubt:
            return Kind.DOUBTFUL_SENDER
        if mail.from_addr == self._mailbox:
            return Kind.OWN
        # A delivery report is a bounce whatever else it says; after that, an out-of-office is
        # looked for before the weaker bounce signs, because Exchange sends its automatic replies
        # from a null sender too, and the approver-away handling must see them.
        if is_delivery_report(mail):
            return Kind.BOUNCE
        if is_auto_reply(mail):
            return Kind.AUTO_REPLY
        if is_bounce(mail):
            return Kind.BOUNCE
        if person is None:
            return Kind.OUTSIDER
        return None

    def _seen(self, mail: ParsedMail) -> Seen:
        thread = None
        for message_id in (*mail.in_reply_to, *reversed(mail.references)):
            thread = self._find_sent(message_id)
            if thread:
                break
        newest = newest_text(mail.text)
        refs = references_in(" ".join(thread.get("refs", [])) if thread else "", mail.subject, newest)
        return Seen(mail.subject, newest, thread, tuple(refs))


def is_delivery_report(mail: ParsedMail) -> bool:
    """A delivery status notification (RFC 3464): multipart/report with report-type=delivery-status."""
    # The parsed type first: only a multipart/report is worth decoding its Content-Type again.
    if mail.content_type != "multipart/report":
        return False
    return "delivery-status" in (mail.header("content-type") or "").lower()


def is_bounce(mail: ParsedMail) -> bool:
    """A delivery failure: a DSN, mail from a mailer daemon or postmaster, or a bounce subject.

    A null Return-Path is no sign at all: Exchange sends its out-of-office replies that way.
    """
    if is_delivery_report(mail):
        return True
    # A bare "MAILER-DAEMON" with no domain is how some servers sign their reports.
    return mail.from_addr.split("@")[0] in BOUNCE_SENDERS or bool(BOUNCE_SUBJECT.match(mail.subject))


def is_auto_reply(mail: ParsedMail) -> bool:
    """An out-of-office or other machine answer (RFC 3834 and the headers Exchange and others add).

    X-MS-Exchange-Inbox-Rules-Loop alone is not one: it marks mail an inbox rule forwarded or
    redirected, and a shared mailbox fed by such a rule would otherwise drop every real email.
    """
    auto = (mail.header("auto-submitted") or "no").strip().lower()
    if auto != "no":
        return True
    if mail.header("x-auto-response-suppress"):
        return True
    if any(mail.header(h) for h in ("x-autoreply", "x-autorespond", "x-auto-reply")):
        return True
    if (mail.header("precedence") or "").strip().lower() in PRECEDENCE_AUTO:
        return True
    if mail.content_type == "multipart/report":  # read receipts (disposition-notification)
        return True
    return bool(AUTO_SUBJECT.match(mail.subject))


def unclear_reasons(seen: Seen) -> tuple[str, ...]:
    """What could not be told about an email no recogniser took, in words for its sender."""
    reasons = []
    if not seen.references:
        reasons.append("no audit reference in square brackets was found in the subject or the message")
    if not EXEMPTION_WORDS.search(seen.subject) and not SLIPPAGE_WORDS.search(seen.subject):
        reasons.append("the subject did not say whether this is an exemption request or a slippage notice")
    if not seen.newest:
        reasons.append("the message had no text of its own above the quoted history")
    return tuple(reasons)
