"""Exemption requests: via the Head of Service, decided by the Director, case by case.

    awaiting_hos ──Support──▶ awaiting_director ──Approve──▶ approved
         │                            │
         └──Decline──▶ declined        └──Reject──▶ rejected

A Head of Service asking on a staff member's behalf starts at awaiting_director (support implied);
so does anyone whose Head of Service is the Director. Nothing is ever decided on a timeout.
"""
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Callable

from core.clock import LONDON
from core.letter import Letter
from core.reference import month_of_reference as reference_month
from workflows import audits
from workflows.answers import Intent
from workflows.calendar import last_day, month_name
from workflows.exemption_reasons import (EXEMPTION_WORDS, OTHER_LABEL, REASONS, add_months,  # noqa: F401
                                         months_named, opening, place_reason)
from workflows.items import Answer, Change, ItemKind, People, Plan, Reading, Seen, audits_of


class State(StrEnum):
    AWAITING_HOS = "awaiting_hos"
    AWAITING_DIRECTOR = "awaiting_director"
    APPROVED = "approved"
    REJECTED = "rejected"
    DECLINED = "declined"


TRANSITIONS = {
    (State.AWAITING_HOS, Intent.YES): State.AWAITING_DIRECTOR,
    (State.AWAITING_HOS, Intent.NO): State.DECLINED,
    (State.AWAITING_DIRECTOR, Intent.YES): State.APPROVED,
    (State.AWAITING_DIRECTOR, Intent.NO): State.REJECTED,
}
OPTIONS = {State.AWAITING_HOS: "Support or Decline", State.AWAITING_DIRECTOR: "Approve or Reject"}
VERBS = {State.AWAITING_DIRECTOR: "supported", State.DECLINED: "declined",
         State.APPROVED: "approved", State.REJECTED: "rejected"}
FINAL = {State.APPROVED, State.REJECTED, State.DECLINED}
ASK = {State.AWAITING_HOS: "exemption/to_hos", State.AWAITING_DIRECTOR: "exemption/to_director"}


def timing(received_at: datetime, month: str, issued_at: str | None) -> str:
    """"before-issue", "after-issue" or "last-week" (the final seven days of the month, London time)."""
    local = received_at.astimezone(LONDON).date()
    if local.strftime("%Y-%m") == month and local > last_day(month) - timedelta(days=7):
        return "last-week"
    if issued_at is None or received_at < datetime.fromisoformat(issued_at):
        return "before-issue"
    return "after-issue"


def first_state(requester_hos: str, director: str, on_behalf: bool) -> State:
    """Where a new request starts: with the Head of Service, or straight with the Director."""
    if on_behalf or not requester_hos or requester_hos == director:
        return State.AWAITING_DIRECTOR
    return State.AWAITING_HOS


def decide(state: State, intent: Intent) -> State:
    """The next state after a clear decision at `state`; ValueError if the request is not waiting."""
    try:
        return TRANSITIONS[(state, intent)]
    except KeyError:
        raise ValueError(f"an exemption in state {state} cannot take the answer {intent}") from None


def new_request(reference: str, text: str, words: str, requester, sender, received_at: datetime, message_id: str,
                director: str, issued_at: Callable[[str], str | None]) -> dict:
    """The record of a new request from `sender` for `requester` (a Person each; the same one unless a
    Head of Service asks on a staff member's behalf). `issued_at(month)`: when that month's audits went out."""
    on_behalf = requester is not sender
    category, label, outside = place_reason(text)
    months = months_named(text, reference_month(reference))
    state = first_state(requester.head_of_service, director, on_behalf)
    at = received_at.isoformat()
    record = {
        "reference": reference, "month": reference_month(reference), "requester": requester.email,
        "requested_by": sender.email, "on_behalf": on_behalf, "hos": requester.head_of_service, "reason": words,
        "reason_category": category, "reason_label": label, "outside_examples": outside, "months": months,
        # Timing is judged against the first month the request covers, which may be next month.
        "timing": timing(received_at, months[0], issued_at(months[0])),
        "received_at": at, "message_id": message_id, "state": state.value,
        "approver": director if state is State.AWAITING_DIRECTOR else requester.head_of_service,
        "waiting_since": at, "hos_comment": "",
        "history": [{"at": at, "by": sender.email, "action": "requested", "message_id": message_id, "comment": ""}],
    }
    if on_behalf:
        record["history"].append({"at": at, "by": sender.email, "action": "supported", "message_id": message_id,
                                  "comment": "asked on the staff member's behalf"})
    return record


def recognise(seen: Seen) -> str | None:
    """A new exemption request: "exemption" in the subject or the first lines of the new text."""
    return "exemption" if EXEMPTION_WORDS.search(seen.subject + "\n" + opening(seen.newest)) else None


def step(record: dict, answer: Answer, people: People, now: datetime) -> Plan:
    """A clear Support/Decline or Approve/Reject: the next state, and who is told or asked next."""
    state, reference = decide(State(record["state"]), answer.intent), record["reference"]
    changes = {"state": state.value, "waiting_since": answer.received_at.isoformat()}
    if state is State.AWAITING_DIRECTOR:
        changes |= {"approver": people.director, "hos_comment": answer.comment}
    plan = Plan(outcome=f"exemption-{state.value}", refs=(reference,),
                changes=[Change(reference, changes, answer.event(VERBS[state], answer.comment))])
    after = {**record, **changes}
    if state is State.AWAITING_DIRECTOR:
        plan.letters.append(ask_letter(after, after["approver"], people))
    elif state is State.DECLINED:
        plan.letters.append(Letter(
            template="exemption/declined_by_hos", to=[record["requester"]], kind="exemption-declined",
            refs=[reference], subject=f"[{reference}] Your exemption request was not supported",
            context={"person_name": people.greeting(record["requester"]), "reference": reference,
                     "hos_name": people.name(answer.sender), "comment": answer.comment,
                     "months": month_names(record["months"])}))
    else:
        # An approved exemption takes the allocations out of the completion-rate denominator and stops
        # their reminders; months not issued yet are exempted when they are issued.
        exempted = affected_allocations(record) if state is State.APPROVED else []
        plan.allocation_changes += [(a["reference"], {"exempt": True, "exempted_by": reference}) for a in exempted]
        plan.letters.append(_decided_letter(record, state, answer, people, exempted))
    return plan


def _decided_letter(record: dict, state: State, answer: Answer, people: People, exempted: list[dict]) -> Letter:
    to = list(dict.fromkeys([record["requester"], record["hos"] or record["requested_by"]]))
    return Letter(template="exemption/decided", to=[a for a in to if a],
                  cc=[a for a in people.in_roster_order("qa") if a not in to], kind=f"exemption-{state.value}",
                  refs=[record["reference"]], subject=f"[{record['reference']}] Exemption request {VERBS[state]}",
                  context={"salutation": "Colleagues", "reference": record["reference"],
                           "requester_name": people.name(record["requester"]), "decision": state.value,
                           "decided_by": people.name(answer.sender), "comment": answer.comment,
                           "months": month_names(record["months"]), "allocations": [audits.row(a) for a in exempted]})


def affected_allocations(record: dict) -> list[dict]:
    """The requester's allocations in the months the request covers (those already issued)."""
    allocations = audits_of(record).of(record["requester"])
    return [a for month in record["months"] for a in allocations if a["month"] == month]


def ask_letter(record: dict, approver: str, people: People, delegate_for: str = "") -> Letter:
    """The letter asking an approver (or their delegate) to decide, in the request's thread."""
    state, requester = State(record["state"]), people.get(record["requester"])
    allocated = affected_allocations(record)
    context = {
        "person_name": people.greeting(approver), "reference": record["reference"],
        "requester_name": people.name(record["requester"]), "requester_service": requester.service if requester else "",
        "reason": record["reason"], "reason_label": record["reason_label"],
        "outside_examples": record["outside_examples"], "months": month_names(record["months"]),
        "timing": record["timing"], "allocations": [audits.row(a) for a in allocated],
        # Only the months audits are listed for: "December 2026", not "December 2026 and January 2027".
        "allocated_months": month_names(sorted({a["month"] for a in allocated})),
        "received_at": datetime.fromisoformat(record["received_at"]), "delegate_for": delegate_for,
    }
    if state is State.AWAITING_DIRECTOR:
        context |= {"hos_name": people.name(record["hos"]), "hos_comment": record["hos_comment"],
                    "on_behalf": record["on_behalf"]}
    return Letter(template=ASK[state], to=[approver], kind=f"exemption-ask:{state.value}",
                  refs=[record["reference"]], context=context,
                  subject=f"[{record['reference']}] Exemption request from {context['requester_name']}: "
                          f"please reply {OPTIONS[state]}")


def month_names(months: list[str]) -> list[str]:
    """"December 2026" for each YYYY-MM."""
    return [month_name(m) for m in months]


def _waiting_line(record: dict, people: People) -> str:
    return f"{record['reference']}  {people.name(record['requester'])}: waiting on {people.name(record['approver'])}"


KIND = ItemKind(prefix="EXM", name="exemption", table="exemptions", states=State,
                final=frozenset(FINAL), transitions=TRANSITIONS, reading=Reading.DECISION,
                answerers=lambda record, people: [record["approver"]],
                options=lambda record: OPTIONS.get(State(record["state"]), ""), step=step, chased=True,
                waiting_line=_waiting_line, audit_months=lambda record: list(record["months"]),
                ask_delegate=lambda record, delegate, away, people: ask_letter(
                    record, delegate, people, delegate_for=people.name(away)))
