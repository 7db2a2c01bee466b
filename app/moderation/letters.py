"""The moderation letters the scheduled jobs send: the request, its reminder and escalation, the close.

The outcome for the auditor and the moderator's thanks are planned by the step itself
(`workflows/moderation.py`). Cases appear only as case references, never a child's name.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from core.letter import Letter
from workflows.calendar import month_name
from workflows.moderation import INADEQUATE, OPTIONS

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def request_letter(ctx: Context, record: dict, allocation: dict, submission: dict, *, updated: bool = False) -> Letter:
    """Ask the moderator to agree the audit's grade or give their own, with a comment."""
    people, reference, audit = ctx.people, record["reference"], record["audit"]
    subject = (f"[{reference}] Moderation of audit [{audit}]: " +
               (f"the grade is now {record['original_grade']}, please reply Agree or Grade:" if updated
                else "please reply Agree or Grade: with a comment"))
    return Letter(
        template="moderation/request", to=[record["moderator"]], kind="moderation-request", refs=[reference, audit],
        subject=subject, context={
            "person_name": people.first_name(record["moderator"]), "reference": reference, "audit": audit,
            "case_ref": allocation["case_ref"], "audit_type": allocation.get("audit_type", ""),
            "auditor_name": people.name(record["auditor"]), "auditor_service": record.get("service", ""),
            "grade": record["original_grade"], "inadequate": record["selected_because"] == INADEQUATE,
            "submitted_at": datetime.fromisoformat(submission["received_at"]),
            "remedial_details": submission.get("remedial_details", "") if submission.get("remedial_needed") else "",
            "attachments": [a["filename"] for a in submission.get("attachments", []) if a.get("filename")],
            "updated": updated, "options": OPTIONS})


def closed_letter(ctx: Context, moderator: str, month: str, records: list[dict]) -> Letter:
    """Thank a moderator and tell them the month's moderation closed: what was still waiting needs nothing more."""
    refs = [r["reference"] for r in records]
    return Letter(
        template="moderation/closed", to=[moderator], kind="moderation-closed", refs=refs,
        # Every email about an item carries its reference in brackets (DESIGN), this one too; a moderator
        # left with many sees the first three and a count, so the subject stays readable.
        subject=" ".join(f"[{r}]" for r in refs[:3]) + (f" (and {len(refs) - 3} more)" if len(refs) > 3 else "")
        + f" Moderation for {month_name(month)} has closed: nothing more is needed",
        context={"person_name": ctx.people.first_name(moderator), "month_name": month_name(month),
                 "items": [{"reference": r["reference"], "audit": r["audit"], "grade": r["original_grade"]}
                           for r in records]})
