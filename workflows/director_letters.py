"""The Director's letter to all staff as an item: drafted, shown to the Director only, sent on their word.

    awaiting_director ──Send──────▶ sent       (one letter to each active auditor, each To: them alone)
            └─────────Don't send──▶ not_sent   (nothing goes out)

The draft's paragraphs are stored with the item, so what goes out is exactly what the Director
read. Only the Director (or their configured delegate) decides; a second Send finds the letter
already decided, so it is sent once. Nothing is ever decided on a timeout.
"""
from datetime import datetime
from enum import StrEnum

from core.letter import Letter
from workflows.answers import Intent
from workflows.items import Answer, Change, ItemKind, People, Plan, Reading


class State(StrEnum):
    AWAITING_DIRECTOR = "awaiting_director"
    SENT = "sent"
    NOT_SENT = "not_sent"


TRANSITIONS = {
    (State.AWAITING_DIRECTOR, Intent.YES): State.SENT,
    (State.AWAITING_DIRECTOR, Intent.NO): State.NOT_SENT,
}
FINAL = frozenset({State.SENT, State.NOT_SENT})
OPTIONS = "Send or Don't send"
# The history's decision words are those every kind's "already decided" answer reads ("it was approved by …").
ACTIONS = {State.SENT: "approved", State.NOT_SENT: "rejected"}
STAFF_TEMPLATE, STAFF_KIND = "director/letter", "director-letter"


def new_record(reference: str, month: str, subject: str, blocks: list[dict], now: datetime) -> dict:
    """A new draft waiting for the Director (the record shape other parts rely on, plus the draft itself)."""
    return {"reference": reference, "month": month, "state": State.AWAITING_DIRECTOR.value,
            "drafted_at": now.isoformat(), "waiting_since": now.isoformat(), "subject": subject,
            "blocks": blocks, "recipients": [],
            "history": [{"at": now.isoformat(), "by": "auditmail", "action": "drafted", "message_id": "",
                         "comment": ""}]}


def staff_letters(record: dict, people: People) -> list[Letter]:
    """One letter per active auditor, each addressed to that auditor alone (no visible recipient list)."""
    return [Letter(template=STAFF_TEMPLATE, to=[auditor], subject=record["subject"], kind=STAFF_KIND,
                   context={"blocks": record["blocks"], "title": record["subject"], "salutation": "Colleagues",
                            "reference": record["reference"]})  # "Our Ref: IT/qa/LTR-…"
            for auditor in people.with_role("auditor")]


def decide(record: dict, answer: Answer, people: People, now: datetime) -> Plan:
    """Send or Don't send: the state change and, on Send, every staff letter, in one plan."""
    state = TRANSITIONS[(State(record["state"]), answer.intent)]
    letters = staff_letters(record, people) if state is State.SENT else []
    event = {"at": answer.received_at.isoformat(), "by": answer.sender, "action": ACTIONS[state],
             "decision": "send" if state is State.SENT else "don't send",
             "message_id": answer.message_id, "comment": answer.comment[:2000]}
    change = Change(record["reference"], {"state": state.value, "decided_at": answer.received_at.isoformat(),
                                          "recipients": [letter.to[0] for letter in letters]}, event)
    return Plan(outcome=f"director-letter-{state.value}", changes=[change], letters=letters,
                refs=(record["reference"],))


KIND = ItemKind(prefix="LTR", name="Director's letter", table="director_letters", states=State, final=FINAL,
                answered_in_thread=True,
                transitions=TRANSITIONS, reading=Reading.SEND,
                answerers=lambda record, people: [people.director],
                options=lambda record: OPTIONS, step=decide,
                waiting_line=lambda record, people: f"{record['reference']}: the draft letter to all staff, "
                                                   f"waiting for {people.name(people.director)} to reply {OPTIONS}")
