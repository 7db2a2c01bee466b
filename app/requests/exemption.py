"""A new exemption request by email: placed against the letter's examples, acknowledged, routed.

It goes to the requester's Head of Service (or, when a Head of Service asks on a staff member's
behalf, or the requester's Head of Service is the Director, straight to the Director). The record
and the letter asking the first approver are the workflow's (`workflows/exemptions.py`).
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from app.handlers import answer
from app.plans import as_step_reads
from app.router import Decision
from core.clock import month_of
from db.items import ItemRepo
from db.months import MonthRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text
from inbox.signature import strip_signature, unwrap
from core.letter import Letter
from workflows import exemptions
from workflows.approvals import authentication_problem
from workflows.exemptions import State
from workflows.roster import Person

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

MAX_REASON = 2000  # the requester's words as passed on; a whole pasted history helps no approver


def handle_exemption(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Record the request, acknowledge it, and ask the first approver."""
    words = unwrap(strip_signature(newest_text(mail.text)))[:MAX_REASON]
    sender, people = c.person, ctx.people
    forged = authentication_problem(mail.headers, mail.from_addr)
    # Asking on someone's behalf implies the Head of Service's support, so it needs a trusted sender.
    requester = (None if forged else _on_behalf_of(ctx, sender, f"{mail.subject}\n{words}")) or sender
    repo = ItemRepo(ctx.store)
    reference = repo.next_reference(exemptions.KIND, month_of(mail.received_at))
    record = exemptions.new_request(reference, f"{mail.subject}\n{words}", words, requester, sender, mail.received_at,
                                    mail.message_id or mail.key, people.director,
                                    issued_at=lambda month: MonthRepo(ctx.store, month).issued_at())
    repo.add(record)
    record = as_step_reads(ctx, exemptions.KIND, record)
    letters = [_acknowledgement(ctx, mail, record, requester), exemptions.ask_letter(record, record["approver"], people)]
    triage = [f"{reference}: reason outside the letter's examples"] if record["outside_examples"] else []
    if forged:
        triage.append(f"{reference}: the request {forged}; treated as {sender.email}'s own, with no support implied")
    return Decision(outcome=f"exemption-{record['state']}", letters=letters, triage=triage, refs=(reference,))


def _on_behalf_of(ctx: Context, sender: Person, text: str) -> Person | None:
    """The staff member a Head of Service asks for ("for Ben", "on behalf of Aisha Patel", their address).

    Only a name after "for" or "on behalf of" counts, so "Aisha is covering my rota" is the Head of
    Service's own request; a first name shared by two of their staff names nobody.
    """
    if not sender.has("head_of_service"):
        return None
    staff = [p for p in ctx.roster.all() if p.head_of_service == sender.email and p.email != sender.email]
    named = []
    for person in staff:
        names = "|".join(re.escape(n) for n in (person.name, person.first_name))
        if person.email in text.lower() or re.search(rf"\b(for|on behalf of)\s+({names})\b", text, re.I):
            named.append(person)
    return named[0] if len(named) == 1 else None


def _acknowledgement(ctx: Context, mail: ParsedMail, record: dict, requester: Person) -> Letter:
    people = ctx.people
    letter = answer(mail, template="exemption/acknowledgement", kind="exemption-ack", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Your exemption request has been received", context={
                        "person_name": people.greeting(mail.from_addr), "reference": record["reference"],
                        "reason_label": record["reason_label"], "outside_examples": record["outside_examples"],
                        "months": exemptions.month_names(record["months"]),
                        "next_step": "director" if record["state"] == State.AWAITING_DIRECTOR else "hos",
                        "hos_name": people.name(record["hos"]) if record["hos"] else "",
                        "on_behalf_of": requester.name if record["on_behalf"] else "", "timing": record["timing"],
                        "received_at": mail.received_at})
    if record["on_behalf"]:
        # The staff member hears of a request made for them.
        return replace(letter, cc=[requester.email])
    return letter
