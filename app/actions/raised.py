"""Raising a remedial action from a submission: the stored action, the alert, and a request for missing details.

Runs inside the submission's transaction, so the action, its alert and the receipt are durable together.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from core.letter import Letter
from db.items import ItemRepo
from workflows import actions

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def raise_action(ctx: Context, mail, allocation: dict, grade: str, details: str) -> list[Letter]:
    """Store a new action for `allocation` and return its alert (and, with no details, a letter asking for them)."""
    people, items = ctx.people, ItemRepo(ctx.store)
    calendar = ctx.calendar
    due = actions.due_date(mail.received_at, calendar, ctx.config.after_deadline["remedial"]["due_working_days"])
    owner = actions.owner_of(allocation, people)
    reference = items.next_reference(actions.KIND, allocation["month"])
    record = actions.new_action(reference, allocation, details, owner, mail.received_at, due)
    items.add(record)
    # Raised at once, to the people who can act on it; the child is known only by the case reference.
    qa = people.in_roster_order("qa")
    to = list(dict.fromkeys(a for a in (owner, allocation.get("team_manager"), allocation.get("head_of_service")) if a))
    audit = allocation["reference"]
    alert = Letter(
        template="actions/alert", to=to, cc=[a for a in qa if a not in to], kind="remedial-alert",
        refs=[audit, reference], subject=f"[{reference}] [{audit}] Remedial action needed: please act now",
        context={"salutation": "Colleagues", "reference": reference, "audit": audit,
                 "case_ref": allocation["case_ref"], "auditor_name": people.name(allocation["auditor"]),
                 "auditor_service": allocation.get("service", ""), "details": details,
                 "received_at": mail.received_at, "grade": grade, "owner_name": people.name(owner), "due": due})
    letters = [alert]
    if not details.strip():
        # The alert goes anyway: a missing detail must never hold back action for a child.
        letters.append(Letter(
            template="actions/details_needed", to=[allocation["auditor"]], kind="remedial-details-needed",
            refs=[audit, reference], subject=f"[{reference}] [{audit}] Remedial action: please send the details",
            context={"person_name": people.first_name(allocation["auditor"]), "reference": reference,
                     "audit": audit, "case_ref": allocation["case_ref"], "owner_name": people.name(owner)}))
    return letters
