"""What kind of email is this? Fixed gates first, then recognisers that workflows register, in order.

Gates (never answered): a From that names no one sender with confidence, our own address, bounces,
auto-replies, senders outside the roster.
Recognisers (answered by the workflow that owns the kind): replies to something we sent about an
exemption or slippage item, new exemption requests, slippage notices, audit submissions.
Anything left is unclear and is answered with what could not be told.
"""
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Callable

from inbox.parse import ParsedMail
from inbox.reply import newest_text
from workflows.grades import has_grade_line
from workflows.registry import answered_by_reply, references_in as registered_references
from workflows.roster import Person


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
EXEMPTION_WORDS = re.compile(r"\bexempt(ion)?s?\b", re.I)
# Letters a reply to which is a submission (the kind recorded in the sent ledger starts with one).
SUBMISSION_THREADS = ("allocation", "reminder", "incomplete")
SLIPPAGE_WORDS = re.compile(r"\bslippage\b|\b(may|might|will|won'?t|cannot|can'?t)( not)? (make|meet|be able to meet) "
                            r"the (audit )?deadline\b", re.I)


@dataclass(frozen=True)
class Facts:
    """What classification knows beyond the message: the sender on the roster and our mail it answers."""

    person: Person | None
    thread: dict | None          # the ledger record of the mail of ours this replies to
    newest: str                  # the sender's new text, quoted history removed
    references: tuple[str, ...]  # item references found in the thread, subject and new text, in that order


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


Recogniser = Callable[[ParsedMail, Facts], Kind | None]


def references_in(*texts: str) -> list[str]:
    """Every item reference of a registered kind in the texts, upper-cased, first occurrence order."""
    return registered_references(*texts)


class Classifier:
    """Runs the gates, then each registered recogniser in order; the first that answers wins."""

    def __init__(self, mailbox_address: str, find_person: Callable[[str], Person | None],
                 find_sent: Callable[[str], dict | None]):
        self._mailbox = mailbox_address.lower()
        self._find_person = find_person
        self._find_sent = find_sent
        self._recognisers: list[Recogniser] = list(DEFAULT_RECOGNISERS)

    def register(self, recogniser: Recogniser, *, first: bool = False) -> None:
        """Add a recogniser; `first` puts it ahead of the others."""
        if first:
            self._recognisers.insert(0, recogniser)
        else:
            self._recognisers.append(recogniser)

    def classify(self, mail: ParsedMail) -> Classification:
        """Decide what kind of email `mail` is."""
        person = self._find_person(mail.from_addr)
        gate = self._gate(mail, person)
        if gate is Kind.AUTO_REPLY and person:
            # An out-of-office from someone we asked to decide matters to that request.
            facts = self._facts(mail, person)
            return Classification(gate, person, facts.references, facts.thread)
        if gate:
            return Classification(gate, person)
        facts = self._facts(mail, person)
        for recognise in self._recognisers:
            kind = recognise(mail, facts)
            if kind:
                return Classification(kind, person, facts.references, facts.thread)
        return Classification(Kind.UNCLEAR, person, facts.references, facts.thread, unclear_reasons(mail, facts))

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

    def _facts(self, mail: ParsedMail, person: Person) -> Facts:
        thread = None
        for message_id in (*mail.in_reply_to, *reversed(mail.references)):
            thread = self._find_sent(message_id)
            if thread:
                break
        newest = newest_text(mail.text)
        refs = references_in(" ".join(thread.get("refs", [])) if thread else "", mail.subject, newest)
        return Facts(person, thread, newest, tuple(refs))


def is_delivery_report(mail: ParsedMail) -> bool:
    """A delivery status notification (RFC 3464): multipart/report with report-type=delivery-status."""
    content_type = (mail.header("content-type") or "").lower()
    return mail.content_type == "multipart/report" and "delivery-status" in content_type


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


def _reply_about_item(mail: ParsedMail, facts: Facts) -> Kind | None:
    # A reply in an exemption or slippage thread is a decision, even though it says "exemption".
    thread_refs = (facts.thread or {}).get("refs", [])
    if answered_by_reply(thread_refs):
        return Kind.REPLY
    if answered_by_reply(references_in(mail.subject)):
        return Kind.REPLY
    return None


def _exemption(mail: ParsedMail, facts: Facts) -> Kind | None:
    return Kind.EXEMPTION if EXEMPTION_WORDS.search(mail.subject + "\n" + _opening(facts.newest)) else None


def _slippage(mail: ParsedMail, facts: Facts) -> Kind | None:
    return Kind.SLIPPAGE if SLIPPAGE_WORDS.search(mail.subject + "\n" + _opening(facts.newest)) else None


def _submission(mail: ParsedMail, facts: Facts) -> Kind | None:
    # A reply to an allocation letter, a reminder or a "details needed" answer is a submission;
    # so is any mail naming an audit (thread, subject or text) with a grade line. A "thank you" in
    # reply to a receipt or an alert is not: it names an audit but gives no grade.
    thread = facts.thread or {}
    if any(r.startswith("AUD") for r in thread.get("refs", [])) and thread.get("kind", "").startswith(SUBMISSION_THREADS):
        return Kind.SUBMISSION
    if any(r.startswith("AUD") for r in facts.references) and has_grade_line(facts.newest):
        return Kind.SUBMISSION
    if not thread and any(r.startswith("AUD") for r in references_in(mail.subject)):
        return Kind.SUBMISSION
    return None


def _reply_to_our_mail(mail: ParsedMail, facts: Facts) -> Kind | None:
    # Any other reply to something we sent (a thank-you for a receipt, a note on an alert): filed
    # for the QA team, never answered with "we could not understand you".
    return Kind.REPLY if facts.thread else None


def _opening(text: str, lines: int = 3) -> str:
    return "\n".join([line for line in text.splitlines() if line.strip()][:lines])


def unclear_reasons(mail: ParsedMail, facts: Facts) -> tuple[str, ...]:
    """What could not be told about an email no recogniser took, in words for its sender."""
    reasons = []
    if not facts.references:
        reasons.append("no audit reference in square brackets was found in the subject or the message")
    if not EXEMPTION_WORDS.search(mail.subject) and not SLIPPAGE_WORDS.search(mail.subject):
        reasons.append("the subject did not say whether this is an exemption request or a slippage notice")
    if not facts.newest:
        reasons.append("the message had no text of its own above the quoted history")
    return tuple(reasons)


DEFAULT_RECOGNISERS: tuple[Recogniser, ...] = (_reply_about_item, _exemption, _slippage, _submission,
                                               _reply_to_our_mail)
