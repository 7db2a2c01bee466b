"""A slippage notice by email: the Head of Service told, the QA team asked whether it has capacity.

A notice that reaches the mailbox after the deadline is answered that it is too late under the
policy, and the QA team is told.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.cycle.letters import bracketed
from app.handlers import answer, example_reference
from app.plans import load_audits
from app.router import Decision
from core.clock import month_of
from core.reference import month_of_reference
from db.items import ItemRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text
from inbox.signature import strip_signature, unwrap
from core.letter import Letter
from workflows import slippage
from workflows.audits import audits_in, row
from workflows.calendar import month_deadline
from workflows.exemption_reasons import add_months

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

MAX_WORDS = 2000


def handle_slippage(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Record a slippage notice and pass it on, or say it is too late."""
    auditor, people = c.person, ctx.people
    month, named, allocations = _slipping(ctx, c.references, mail, auditor.email)
    words = unwrap(strip_signature(newest_text(mail.text)))[:MAX_WORDS]
    if not allocations:
        letter = answer(mail, template="cycle/incomplete", kind="slippage-nothing", refs=named,
                        subject="Your slippage notice: no outstanding audit found", context={
                            "person_name": auditor.first_name, "received_at": mail.received_at, "recorded": [],
                            "examples": named, "problems": [
                                "no audit of yours that is still outstanding was found for this notice; "
                                f"please reply with the reference of the audit that may slip, e.g. [{example_reference(ctx, mail)}]"]})
        return Decision(outcome="slippage-nothing-outstanding", letters=[letter], triage=[
            f"slippage notice from {auditor.email} names no outstanding audit"])
    deadline = month_deadline(month)
    refs = [a["reference"] for a in allocations]
    if slippage.too_late(mail.received_at, allocations):
        return _too_late(ctx, mail, auditor, allocations, deadline)
    store = ItemRepo(ctx.store)
    reference = store.next_reference(slippage.KIND, month_of(mail.received_at))
    record = slippage.new_notice(reference, month, auditor.email, refs, words, mail.received_at,
                                 mail.message_id or mail.key)
    store.add(record)
    common = {"reference": reference, "allocations": [row(a) for a in allocations], "deadline": deadline}
    letters = [answer(mail, template="slippage/acknowledgement", kind="slippage-ack", refs=[reference, *refs],
                      subject=f"[{reference}] {bracketed(refs)} Your slippage notice has been received",
                      context={**common, "person_name": auditor.first_name, "received_at": mail.received_at,
                               "hos_name": people.name(auditor.head_of_service)})]
    if auditor.head_of_service:
        letters.append(Letter(template="slippage/to_hos", to=[auditor.head_of_service], kind="slippage-hos",
                              refs=[reference], subject=f"[{reference}] Slippage notice from {auditor.name} (for information)",
                              context={**common, "person_name": people.greeting(auditor.head_of_service),
                                       "auditor_name": auditor.name, "auditor_words": words}))
    letters.append(slippage.ask_qa_letter(record, allocations, people))
    return Decision(outcome="slippage-awaiting-qa", letters=letters, refs=(reference,))


def _too_late(ctx: Context, mail: ParsedMail, auditor, allocations: list[dict], deadline) -> Decision:
    refs = [a["reference"] for a in allocations]
    letters = [
        answer(mail, template="slippage/too_late", kind="slippage-too-late", refs=refs,
               subject=f"{bracketed(refs)} Your slippage notice came after the deadline",
               context={"person_name": auditor.first_name, "allocations": [row(a) for a in allocations], "deadline": deadline,
                        "received_at": mail.received_at}),
        Letter(template="slippage/too_late_qa", to=ctx.people.in_roster_order("qa"), kind="slippage-too-late-qa",
               refs=refs, subject=f"{bracketed(refs)} Slippage notice after the deadline from {auditor.name}",
               context={"salutation": "Colleagues", "auditor_name": auditor.name,
                        "allocations": [row(a) for a in allocations],
                        "deadline": deadline, "received_at": mail.received_at}),
    ]
    return Decision(outcome="slippage-too-late", letters=letters, refs=tuple(refs),
                    triage=[f"slippage notice after the deadline from {auditor.email}"])


def _slipping(ctx: Context, references, mail: ParsedMail, auditor: str) -> tuple[str, list[str], list[dict]]:
    """The audit month, the references named, and the allocations a notice is about.

    A notice names its audits, or else is about the auditor's outstanding audits of the month it
    arrived in, or (early in a month, when that month has none) of the month before.
    """
    named = audits_in(references)
    here = month_of(mail.received_at)
    months = [month_of_reference(named[0])] if named else [here, add_months(here, -1)]
    for month in months:
        audits = load_audits(ctx, [month])
        allocations = slippage.slipping_allocations(list(audits.allocations), dict(audits.submissions), auditor,
                                                    audits_in(named, month))
        if allocations:
            return month, named, allocations
    return months[0], named, []
