"""The handlers every deployment has: mail never answered, unclear mail, and kinds no workflow claims yet."""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from app.router import Decision, Router
from core.clock import month_of
from core.text import one_line
from db.months import MonthRepo
from inbox.classify import Classification, Kind
from inbox.parse import ParsedMail
from core.letter import Letter
from workflows.registry import AUDIT_PREFIX

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

UNCLEAR_SUBJECT = "Your email to the audit mailbox: what we need from you"


def register_defaults(router: Router) -> None:
    """Register the handlers for the gates (never answered) and for unclear mail."""
    for kind in (Kind.AUTO_REPLY, Kind.BOUNCE, Kind.OWN):
        router.register(kind, note_only)
    router.register(Kind.OUTSIDER, outsider)
    router.register(Kind.DOUBTFUL_SENDER, doubtful_sender)
    router.register(Kind.UNCLEAR, unclear)


def note_only(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Auto-replies, bounces and our own mail: recorded, never answered."""
    triage = [f"bounce from {mail.from_addr}: a letter could not be delivered"] if c.kind is Kind.BOUNCE else []
    return Decision(outcome=f"ignored-{c.kind.value}", triage=triage)


def outsider(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Mail from outside the roster: never answered, listed for the QA team."""
    # The subject tells the QA team whether a partner agency or a parent wrote (capped, on one line).
    subject = one_line(mail.subject, OUTSIDER_SUBJECT_LIMIT) or "(no subject)"
    return Decision(outcome="triage-outsider",
                    triage=[f"mail from {mail.from_addr}, who is not on the roster, subject: {subject}"])


OUTSIDER_SUBJECT_LIMIT = 150


def doubtful_sender(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Mail whose From could name more than one sender: never answered, decides nothing, listed for the QA team."""
    return Decision(outcome="triage-doubtful-sender", triage=[
        f"mail whose sender cannot be told for certain ({mail.sender_doubt}; first address {mail.from_addr}): "
        "nothing in it was acted on"])


def unclear(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Mail from a roster member the service could not understand: say what was missing, and list it."""
    letter = answer(mail, template="intake/unclear", kind="unclear", subject=UNCLEAR_SUBJECT, context={
        "person_name": c.person.first_name, "subject": one_line(mail.subject), "problems": list(c.reasons),
        "received_at": mail.received_at, "example_reference": example_reference(ctx, mail),
    })
    return Decision(outcome="answered-unclear", letters=[letter],
                    triage=[f"unclear mail from {mail.from_addr}: " + "; ".join(c.reasons)])


def example_reference(ctx: Context, mail: ParsedMail) -> str:
    """The sender's own audit reference this month, or the shape of one ("AUD-2026-12-…"), for examples."""
    month = month_of(mail.received_at)
    own = [a["reference"] for a in MonthRepo(ctx.store, month).allocations() if a["auditor"] == mail.from_addr]
    return own[0] if own else f"{AUDIT_PREFIX}-{month}-…"


def not_automated(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """A kind no workflow handles yet: the QA team deals with it by hand, and the sender is told so."""
    letter = answer(mail, template="intake/passed_on", kind="passed-on",
                    subject=f"Received: your {c.kind.value} email", context={
                        "person_name": c.person.first_name, "what": c.kind.value, "received_at": mail.received_at,
                        "references": list(c.references)})
    return Decision(outcome=f"passed-on-{c.kind.value}", letters=[letter],
                    triage=[f"{c.kind.value} from {mail.from_addr} needs handling by hand"], refs=c.references)


def answer(mail: ParsedMail, *, template: str, kind: str, subject: str, context: dict, refs=()) -> Letter:
    """A letter back to the sender, threaded under their message and counted towards their daily limit."""
    return threaded_under(mail, Letter(template=template, to=[mail.from_addr], subject=subject, context=context,
                                       kind=kind, refs=tuple(refs)))


def threaded_under(mail: ParsedMail, letter: Letter) -> Letter:
    """`letter` as an answer to `mail`: threaded under it, and counted towards its sender's daily limit."""
    references = list(mail.references) + ([mail.message_id] if mail.message_id else [])
    return replace(letter, in_reply_to=mail.message_id, references=references[-10:], answer_to=mail.from_addr)
