"""Slippage notices: told early to the Head of Service; the QA team says whether it has capacity.

    awaiting_qa ──Yes, by <date>──▶ agreed   (that date, 23:59:59 London, becomes the deadline for counting)
         └──────No────────────────▶ refused  (the month's deadline stands)
    a notice received after the deadline ──▶ too_late (answered so; the QA team is told)
"""
import re
from datetime import date, datetime, time
from enum import StrEnum

from core.clock import LONDON
from core.letter import Letter
from workflows import audits
from workflows.answers import Intent
from workflows.calendar import month_deadline
from workflows.exemption_reasons import opening
from workflows.figures import allocation_state
from workflows.items import Answer, Change, ItemKind, People, Plan, Reading, Seen, audits_of
from workflows.submissions import deadline_of


class State(StrEnum):
    AWAITING_QA = "awaiting_qa"
    AGREED = "agreed"
    REFUSED = "refused"
    TOO_LATE = "too_late"


OPTIONS = "Yes with a date (for example \"Yes, by 7 January\"), or No"
FINAL = {State.AGREED, State.REFUSED, State.TOO_LATE}
VERBS = {State.AGREED: "agreed", State.REFUSED: "not agreed"}
SLIPPAGE_WORDS = re.compile(r"\bslippage\b|\b(may|might|will|won'?t|cannot|can'?t)( not)? (make|meet|be able to meet) "
                            r"the (audit )?deadline\b", re.I)


def slipping_allocations(allocations: list[dict], submissions: dict[str, list[dict]], auditor: str,
                         named: list[str]) -> list[dict]:
    """The auditor's allocations a notice is about: those it names, else all still outstanding."""
    mine = [a for a in allocations if a["auditor"] == auditor and not a.get("exempt")]
    if named:
        return [a for a in mine if a["reference"] in named]
    return [a for a in mine if allocation_state(a, submissions.get(a["reference"], [])) == "outstanding"]


def too_late(received_at: datetime, allocations: list[dict]) -> bool:
    """Whether a notice came after the deadline of every allocation it is about."""
    return all(received_at > deadline_of(a)[0] for a in allocations)


def agreed_deadline(day: date) -> datetime:
    """The last instant that counts on an agreed completion date: 23:59:59.999999 London time."""
    return datetime.combine(day, time(23, 59, 59, 999999), tzinfo=LONDON)


def new_notice(reference: str, month: str, auditor: str, allocations: list[str], words: str, received_at: datetime,
               message_id: str) -> dict:
    """The record of a new notice from `auditor` about `allocations` (references) of audit month `month`."""
    at = received_at.isoformat()
    return {"reference": reference, "month": month, "auditor": auditor, "allocations": allocations, "words": words,
            "received_at": at, "message_id": message_id, "state": State.AWAITING_QA.value, "waiting_since": at,
            "agreed_until": None,
            "history": [{"at": at, "by": auditor, "action": "notified", "message_id": message_id, "comment": ""}]}


def ask_qa_letter(record: dict, allocations: list[dict], people: People) -> Letter:
    """The letter asking the QA team whether it can accommodate the slippage."""
    auditor = people.get(record["auditor"])
    return Letter(template="slippage/to_qa", to=people.in_roster_order("qa"), kind="slippage-ask",
                  refs=[record["reference"]],
                  subject=f"[{record['reference']}] Slippage: can you accommodate it? Please reply Yes with a date, or No",
                  context={"salutation": "Colleagues", "reference": record["reference"],
                           "auditor_name": auditor.name if auditor else record["auditor"],
                           "auditor_service": auditor.service if auditor else "",
                           "hos_name": people.name(auditor.head_of_service) if auditor else "",
                           "auditor_words": record["words"], "allocations": [audits.row(a) for a in allocations],
                           "deadline": month_deadline(record["month"])})


def recognise(seen: Seen) -> str | None:
    """A slippage notice: "slippage" (or "I may not make the deadline") in the subject or first lines."""
    return "slippage" if SLIPPAGE_WORDS.search(seen.subject + "\n" + opening(seen.newest)) else None


def doubt(record: dict, answer: Answer) -> str | None:
    """An agreed date must fall after the month's deadline, or it extends nothing: asked again."""
    if answer.intent is Intent.YES and answer.agreed_date and \
            agreed_deadline(answer.agreed_date) <= month_deadline(record["month"]):
        return "the date given is not after the month's deadline"
    return None


def counted_late(submissions: list[dict], until: datetime) -> list[dict]:
    """The submissions not counted (after the month's deadline) that an agreed date now counts."""
    return [s for s in submissions if not s["counts"] and datetime.fromisoformat(s["received_at"]) <= until]


def step(record: dict, answer: Answer, people: People, now: datetime) -> Plan:
    """The QA team's Yes (with a date) or No, recorded; the auditor and their Head of Service told."""
    reference, found = record["reference"], audits_of(record)
    # "Sorry, no capacity this month" is all decision and no comment, yet it is what the auditor
    # should read: pass on the QA team's own words whenever they said more than yes or no.
    comment = answer.comment or (answer.words if len(answer.words.split()) > 2 else "")
    state = State.AGREED if answer.intent is Intent.YES else State.REFUSED
    until = agreed_deadline(answer.agreed_date) if state is State.AGREED and answer.agreed_date else None
    plan = Plan(outcome=f"slippage-{state.value}", refs=(reference,), changes=[Change(
        reference, {"state": state.value, "agreed_until": until.isoformat() if until else None},
        answer.event(VERBS[state], comment))])
    if until:
        for ref in record["allocations"]:
            plan.allocation_changes.append((ref, {"deadline": until.isoformat(), "extended_by": reference}))
            plan.submission_changes += [(ref, s["received_at"], {"counts": True, "counted_by": reference})
                                        for s in counted_late(found.submissions_of(ref), until)]
    auditor = people.get(record["auditor"])
    to = [a for a in (record["auditor"], auditor.head_of_service if auditor else "") if a]
    plan.letters.append(Letter(
        template="slippage/outcome", to=to, kind=f"slippage-{state.value}", refs=[reference],
        subject=f"[{reference}] Slippage {VERBS[state]}",
        context={"salutation": "Colleagues", "reference": reference, "auditor_name": people.name(record["auditor"]),
                 "agreed": until is not None, "agreed_until": until, "comment": comment,
                 "allocations": [audits.row(found.get(r)) for r in record["allocations"]],
                 "deadline": month_deadline(record["month"]), "decided_by": people.name(answer.sender)}))
    return plan


KIND = ItemKind(prefix="SLP", name="slippage", table="slippage", states=State, final=frozenset(FINAL),
                reading=Reading.CAPACITY, answerers=lambda record, people: people.in_roster_order("qa"),
                options=lambda record: OPTIONS, step=step, chased=True, doubt=doubt,
                waiting_line=lambda record, people: f"{record['reference']}  {people.name(record['auditor'])}: "
                                                    "waiting on the QA team",
                audit_months=lambda record: [record["month"]])
