"""A new exemption request by email: placed against the letter's examples, acknowledged, routed.

It goes to the requester's Head of Service (or, when a Head of Service asks on a staff member's
behalf, or the requester's Head of Service is the Director, straight to the Director).
"""
import re
from dataclasses import replace
from datetime import datetime

from app.handlers import answer
from app.requests.people import director, first_name, month_names, name_of, rows
from app.router import Decision
from core.clock import month_of
from db.months import MonthRepo
from db.requests import RequestRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text
from inbox.signature import strip_signature, unwrap
from core.letter import Letter
from workflows import exemptions
from workflows.approvals import authentication_problem
from workflows.exemptions import State
from workflows.roster import Person

ASK = {State.AWAITING_HOS: "exemption/to_hos", State.AWAITING_DIRECTOR: "exemption/to_director"}
MAX_REASON = 2000  # the requester's words as passed on; a whole pasted history helps no approver


def handle_exemption(mail: ParsedMail, c: Classification, ctx) -> Decision:
    """Record the request, acknowledge it, and ask the first approver."""
    words = unwrap(strip_signature(newest_text(mail.text)))[:MAX_REASON]
    sender = c.person
    forged = authentication_problem(mail.headers, mail.from_addr)
    # Asking on someone's behalf implies the Head of Service's support, so it needs a trusted sender.
    requester = (None if forged else _on_behalf_of(ctx, sender, f"{mail.subject}\n{words}")) or sender
    on_behalf = requester is not sender
    month = month_of(mail.received_at)
    category, label, outside = exemptions.place_reason(f"{mail.subject}\n{words}")
    months = exemptions.months_named(f"{mail.subject}\n{words}", month)
    state = exemptions.first_state(requester.head_of_service, director(ctx), on_behalf)
    approver = director(ctx) if state is State.AWAITING_DIRECTOR else requester.head_of_service
    repo = RequestRepo(ctx.store)
    reference = repo.next_reference("EXM", month)
    record = {
        "reference": reference, "month": month, "requester": requester.email, "requested_by": sender.email,
        "on_behalf": on_behalf, "hos": requester.head_of_service, "reason": words, "reason_category": category,
        "reason_label": label, "outside_examples": outside, "months": months,
        # Timing is judged against the first month the request covers, which may be next month.
        "timing": exemptions.timing(mail.received_at, months[0], MonthRepo(ctx.store, months[0]).issued_at()),
        "received_at": mail.received_at.isoformat(), "message_id": mail.message_id or mail.key, "state": state.value,
        "approver": approver, "waiting_since": mail.received_at.isoformat(), "hos_comment": "",
        "history": [{"at": mail.received_at.isoformat(), "by": sender.email, "action": "requested",
                     "message_id": mail.message_id or mail.key, "comment": ""}],
    }
    if on_behalf:
        record["history"].append({"at": mail.received_at.isoformat(), "by": sender.email, "action": "supported",
                                  "message_id": mail.message_id or mail.key,
                                  "comment": "asked on the staff member's behalf"})
    repo.add(record)
    letters = [_acknowledgement(ctx, mail, record, requester), ask_letter(ctx, record, approver)]
    triage = [f"{reference}: reason outside the letter's examples"] if outside else []
    if forged:
        triage.append(f"{reference}: the request {forged}; treated as {sender.email}'s own, with no support implied")
    return Decision(outcome=f"exemption-{state.value}", letters=letters, triage=triage, refs=(reference,))


def _on_behalf_of(ctx, sender: Person, text: str) -> Person | None:
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


def affected_allocations(ctx, record: dict) -> list[dict]:
    """The requester's allocations in the months the request covers (those already issued)."""
    return [a for m in record["months"] for a in MonthRepo(ctx.store, m).allocations()
            if a["auditor"] == record["requester"]]


def ask_letter(ctx, record: dict, approver: str, delegate_for: str = "") -> Letter:
    """The letter asking an approver (or their delegate) to decide, in the request's thread."""
    state = State(record["state"])
    allocated = affected_allocations(ctx, record)
    context = {
        "person_name": first_name(ctx, approver), "reference": record["reference"],
        "requester_name": name_of(ctx, record["requester"]),
        "requester_service": (ctx.roster.get(record["requester"]) or Person("", "", (), "", "")).service,
        "reason": record["reason"], "reason_label": record["reason_label"],
        "outside_examples": record["outside_examples"], "months": month_names(record["months"]),
        "timing": record["timing"], "allocations": rows(allocated),
        # Only the months audits are listed for: "December 2026", not "December 2026 and January 2027".
        "allocated_months": month_names(sorted({a["month"] for a in allocated})),
        "received_at": datetime.fromisoformat(record["received_at"]), "delegate_for": delegate_for,
    }
    if state is State.AWAITING_DIRECTOR:
        context |= {"hos_name": name_of(ctx, record["hos"]), "hos_comment": record["hos_comment"],
                    "on_behalf": record["on_behalf"]}
    options = exemptions.OPTIONS[state]
    return Letter(template=ASK[state], to=[approver], kind=f"exemption-ask:{state.value}",
                  refs=[record["reference"]], context=context,
                  subject=f"[{record['reference']}] Exemption request from {context['requester_name']}: "
                          f"please reply {options}")


def _acknowledgement(ctx, mail: ParsedMail, record: dict, requester: Person) -> Letter:
    letter = answer(mail, template="exemption/acknowledgement", kind="exemption-ack", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Your exemption request has been received", context={
                        "person_name": first_name(ctx, mail.from_addr), "reference": record["reference"],
                        "reason_label": record["reason_label"], "outside_examples": record["outside_examples"],
                        "months": month_names(record["months"]),
                        "next_step": "director" if record["state"] == State.AWAITING_DIRECTOR else "hos",
                        "hos_name": name_of(ctx, record["hos"]) if record["hos"] else "",
                        "on_behalf_of": requester.name if record["on_behalf"] else "", "timing": record["timing"],
                        "received_at": mail.received_at})
    if record["on_behalf"]:
        # The staff member hears of a request made for them.
        return replace(letter, cc=[requester.email])
    return letter

