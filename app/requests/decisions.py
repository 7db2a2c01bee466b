"""Replies about an item answered by reply, and answerers' out-of-office: routed to the kind that owns it.

Which reference a reply is about comes from the thread first, then the bracketed reference; the
generic handler (`app/replies.py`) checks, reads and acts on it the same way for every kind.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.handlers import answer, example_reference
from app.plans import apply_plan, as_step_reads
from app.replies import handle_item_reply
from app.router import Decision
from db.items import ItemRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from workflows.answers import Intent
from workflows.approvals import authentication_problem, away
from workflows.items import Answer, ItemKind
from workflows.registry import answered_by_reply, kind_of, references_in

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def handle_reply(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """A reply about an item answered by reply; any other reply to our mail is filed for the QA team."""
    reference = next(iter(answered_by_reply(c.references)), None)
    kind = kind_of(reference) if reference else None
    if kind is None or kind.step is None:
        # A "thank you" for a receipt, a note on an alert: nothing to decide, nobody to answer.
        about = ", ".join(c.references) or (c.thread or {}).get("kind", "our mail")
        return Decision(outcome="reply-filed", refs=c.references,
                        triage=[f"a reply from {mail.from_addr} about {about} (filed, not answered)"])
    record = ItemRepo(ctx.store).get(reference)
    if record is None:
        return _unknown(ctx, mail, c, reference)
    unsure = _other_item_in_subject(mail, c, reference) or _outside_our_thread(kind, c, reference)
    return handle_item_reply(ctx, mail, c, record, kind, unsure=unsure)


def _outside_our_thread(kind: ItemKind, c: Classification, reference: str) -> str | None:
    """Why a reply naming `reference` only by its subject cannot decide an item that must be answered in our thread."""
    if not kind.answered_in_thread or reference in (c.thread or {}).get("refs", []):
        return None
    return (f"only a reply to our own email about {reference} can decide it, and this one answered another "
            "message: please reply to this email")


def _other_item_in_subject(mail: ParsedMail, c: Classification, reference: str) -> str | None:
    """Why a reply is in doubt when it answers our letter about one item while its subject names another
    (an old email reused for a new answer, a subject edited by hand): which was meant cannot be told,
    and a "Done" must never close the wrong child's action."""
    in_thread = answered_by_reply((c.thread or {}).get("refs", []))
    named = [r for r in answered_by_reply(references_in(mail.subject)) if r not in in_thread]
    if reference not in in_thread or not named:
        return None
    return (f"the email you answered is about {reference} but your subject names {', '.join(named)}, so which "
            f"one you meant could not be told; please reply to the email about the one you mean")


def handle_auto_reply(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """An out-of-office: never answered; from a waiting answerer, noted and sent on to their delegate."""
    reference = next((r for r in c.references if (k := kind_of(r)) is not None and k.chased), None)
    record = ItemRepo(ctx.store).get(reference) if reference else None
    kind = kind_of(reference) if reference else None
    if record is None or kind.is_final(record):
        return Decision(outcome="ignored-auto_reply")
    if mail.from_addr not in kind.answerers(record, ctx.people) or authentication_problem(mail.headers, mail.from_addr):
        # Only a genuine out-of-office from the answerer sends their item on; a forged one changes nothing.
        return Decision(outcome="ignored-auto_reply", refs=(reference,))
    notice = Answer(sender=mail.from_addr, received_at=mail.received_at, message_id=mail.message_id or mail.key,
                    intent=Intent.UNCLEAR)
    return apply_plan(ctx, away(kind, as_step_reads(ctx, kind, record), notice, ctx.people))


def _unknown(ctx: Context, mail: ParsedMail, c: Classification, reference: str) -> Decision:
    letter = answer(mail, template="intake/unclear", kind="unclear", subject="Your email to the audit mailbox: what we need from you",
                    context={"person_name": c.person.first_name, "subject": mail.subject, "received_at": mail.received_at,
                             "example_reference": example_reference(ctx, mail),
                             "problems": [f"{reference} is not a reference the audit mailbox has issued"]})
    return Decision(outcome="unknown-reference", letters=[letter], triage=[f"unknown reference {reference} from {mail.from_addr}"])
