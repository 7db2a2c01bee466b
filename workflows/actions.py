"""Remedial actions for a child: raised at submission, owned by someone who can act, closed by their "Done".

    open ──Done, with a note (from the owner or their delegate)──▶ done
      └── past its due date: the owner is reminded (at most once a working day) and the QA team's
          digest lists it, until it is done

The owner is the team manager on the allocation (when on the roster and not the auditor), else the
auditor's Head of Service, else the Director. The due date is `remedial.due_working_days` working
days after the alert was raised. Nothing is ever closed on a timeout.
"""
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from core.clock import LONDON
from core.letter import Letter
from workflows.answers import Intent
from workflows.calendar import WorkingCalendar
from workflows.items import Answer, Change, ItemKind, People, Plan, Reading
from workflows.reminders import at_hour


class State(StrEnum):
    OPEN = "open"
    DONE = "done"


TRANSITIONS = {(State.OPEN, Intent.YES): State.DONE}
FINAL = {State.DONE}
VERBS = {State.DONE: "done"}  # the history entry a closing reply leaves (a decision, so it is "already decided")
OPTIONS = "Done, with a note of what was done"


def owner_of(allocation: dict, people: People) -> str:
    """Who must act: the team manager on the allocation, else the auditor's Head of Service, else the Director."""
    manager = (allocation.get("team_manager") or "").lower()
    if manager and manager != allocation["auditor"] and people.get(manager):
        return manager
    auditor = people.get(allocation["auditor"])
    hos = (allocation.get("head_of_service") or (auditor.head_of_service if auditor else "") or "").lower()
    if hos and hos != allocation["auditor"] and people.get(hos):
        return hos
    return people.director


def due_date(raised_at: datetime, calendar: WorkingCalendar, working_days: int) -> date:
    """The day an action raised at `raised_at` is due: `working_days` working days later (London)."""
    return calendar.add_working_days(raised_at.astimezone(LONDON).date(), working_days)


def new_action(reference: str, allocation: dict, details: str, owner: str, raised_at: datetime,
               due: date) -> dict:
    """The stored record of a newly raised action (the child known only by the case reference)."""
    return {"reference": reference, "audit": allocation["reference"], "case_ref": allocation["case_ref"],
            "auditor": allocation["auditor"], "owner": owner, "service": allocation.get("service", ""),
            "raised_at": raised_at.isoformat(), "waiting_since": raised_at.isoformat(), "due": due.isoformat(),
            "state": State.OPEN.value, "details": details, "done_at": None, "done_note": "",
            "history": [{"at": raised_at.isoformat(), "by": allocation["auditor"], "action": "raised",
                         "comment": details}]}


def is_overdue(record: dict, today: date) -> bool:
    """Whether an open action's due date has passed (it is due by the end of its due day)."""
    return record["state"] == State.OPEN and date.fromisoformat(record["due"]) < today


@dataclass(frozen=True)
class OverdueReminder:
    """A reminder due now to the owner of an overdue action; `key` makes it happen once."""

    key: str
    record: dict
    working_days_late: int


def overdue_reminders(records: list[dict], now: datetime, calendar: WorkingCalendar,
                      hour: int) -> list[OverdueReminder]:
    """The reminders due at `now`: one per overdue action per working day, from `hour` London time."""
    today = now.astimezone(LONDON).date()
    if not calendar.is_working_day(today) or now < at_hour(today, hour):
        return []
    return [OverdueReminder(f"action-overdue:{r['reference']}:{today.isoformat()}", r,
                            calendar.working_days_between(date.fromisoformat(r["due"]), today))
            for r in records if is_overdue(r, today)]


def step(record: dict, answer: Answer, people: People, now: datetime) -> Plan:
    """The owner's clear "Done": the action is closed with their note; they and the auditor are told."""
    state = TRANSITIONS[(State(record["state"]), answer.intent)]
    reference = record["reference"]
    change = Change(reference, {"state": state.value, "done_at": answer.received_at.isoformat(),
                                "done_note": answer.comment, "done_by": answer.sender},
                    {"at": answer.received_at.isoformat(), "by": answer.sender, "action": VERBS[state],
                     "message_id": answer.message_id, "comment": answer.comment})
    to = [answer.sender]
    letter = Letter(template="actions/done", to=to, cc=[a for a in (record["auditor"], record["owner"]) if a not in to],
                    kind="action-done", refs=[reference, record["audit"]],
                    subject=f"[{reference}] Remedial action recorded as done",
                    context={"salutation": "Colleagues", "reference": reference, "audit": record["audit"],
                             "case_ref": record["case_ref"], "done_by": people.name(answer.sender),
                             "done_at": answer.received_at, "note": answer.comment})
    return Plan(outcome="action-done", changes=[change], answers=[letter], refs=(reference,))


def waiting_line(record: dict, people: People) -> str:
    """One line for a digest: the action, its case, its owner and its due date."""
    return (f"{record['reference']} (audit {record['audit']}, case {record['case_ref']}): remedial action "
            f"owned by {people.name(record['owner'])}, due {date.fromisoformat(record['due']):%d %b %Y}")


def _waiting_for(record: dict, people: People) -> str:
    """The kind's line for `status` and the digests, which name whom an item waits on (the days are added)."""
    return f"{waiting_line(record, people)}: waiting on {people.name(record['owner'])}"


KIND = ItemKind(prefix="ACT", name="remedial action", table="actions", states=State, final=frozenset(FINAL),
                transitions=TRANSITIONS, reading=Reading.DONE,
                answerers=lambda record, people: [record["owner"]] if record["state"] == State.OPEN else [],
                options=lambda record: OPTIONS, step=step, chased=False, waiting_line=_waiting_for)
