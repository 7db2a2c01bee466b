"""An audit submission by email: grades recorded, a receipt that says whether each counts, alerts raised.

Runs inside the message's transaction: the submissions, the receipt, any remedial-action alert and
the handled mark are written together.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.actions.raised import raise_action
from app.cycle.letters import bracketed
from app.handlers import answer
from app.router import Decision
from db.months import MonthRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text, remarks
from core.letter import Letter
from core.reference import month_of_reference
from workflows.audits import audits_in
from workflows.calendar import month_name
from workflows.grades import read_submission
from workflows.submissions import Recorded, assess

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def handle_submission(mail: ParsedMail, c: Classification, ctx: Context) -> Decision:
    """Record the grades in one email, answer with a receipt and/or what is missing, raise remedial alerts."""
    refs = audits_in(c.references)
    # Grades typed among the quoted lines of an interleaved reply are the auditor's own and count.
    written = "\n".join(t for t in (newest_text(mail.text), remarks(mail.text)) if t)
    text = read_submission(written, refs, [a.filename for a in mail.attachments])
    repos = {ref: MonthRepo(ctx.store, month_of_reference(ref)) for ref in text.grades}
    allocations = {ref: repo.allocation(ref) for ref, repo in repos.items()}
    previous = {ref: repo.submissions(ref) for ref, repo in repos.items()}
    outcome = assess(c.person, mail.received_at, text, allocations, previous)
    attachments = [{"filename": a.filename, "content_type": a.content_type, "size": a.size, "sha256": a.sha256}
                   for a in mail.attachments]
    for item in outcome.recorded:
        repos[item.reference].add_submission({
            "reference": item.reference, "received_at": mail.received_at.isoformat(), "message_id": mail.message_id,
            "from": mail.from_addr, "grade": item.grade, "counts": item.counts, "replaces_earlier": item.replaced,
            "remedial_needed": bool(item.remedial and item.remedial.needed),
            "remedial_details": item.remedial.details if item.remedial else "",
            "attachments": attachments,
        })
    alerts = [letter for i in outcome.recorded if i.remedial and i.remedial.needed
              for letter in _remedial_alert(ctx, mail, allocations[i.reference], i)]
    letters = []
    if outcome.recorded:
        raised = [a.refs[0] for a in alerts if a.kind == "remedial-alert"]  # not the requests for details
        letters.append(_receipt(mail, c, outcome.recorded, allocations, raised))
    if outcome.problems:
        letters.append(_incomplete(mail, c, refs, outcome.problems, outcome.recorded))
    recorded_refs = tuple(i.reference for i in outcome.recorded)
    late = [i.reference for i in outcome.recorded if not i.counts]
    result = "recorded" if outcome.recorded and not outcome.problems else "partly-recorded" if outcome.recorded else "incomplete"
    triage = [f"late submission (not counted): {', '.join(late)}"] if late else []
    return Decision(outcome=f"submission-{result}", letters=letters + alerts, triage=triage,
                    refs=recorded_refs or tuple(refs))


def _receipt(mail, c, recorded: list[Recorded], allocations, remedial_refs) -> Letter:
    items = [{"reference": i.reference, "case_ref": allocations[i.reference]["case_ref"], "grade": i.grade,
              "counts": i.counts, "replaced": i.replaced, "deadline": i.deadline, "extended": i.extended}
             for i in recorded]
    refs = [i.reference for i in recorded]
    counted = all(i.counts for i in recorded)
    month = month_name(allocations[refs[0]]["month"])
    subject = (f"{bracketed(refs)} Received: your audit counts for {month}" if counted else
               f"{bracketed(refs)} Received after the deadline: not counted for {month}")
    return answer(mail, template="cycle/receipt", kind="receipt", subject=subject, refs=refs, context={
        "person_name": c.person.first_name, "received_at": mail.received_at, "items": items,
        "remedial_raised": list(remedial_refs)})


def _incomplete(mail, c, refs, problems, recorded) -> Letter:
    return answer(mail, template="cycle/incomplete", kind="incomplete", refs=refs,
                  subject=f"{bracketed(refs) + ' ' if refs else ''}Your audit could not be recorded: details needed",
                  context={"person_name": c.person.first_name, "received_at": mail.received_at,
                           "problems": problems, "examples": refs,
                           "recorded": [{"reference": i.reference, "grade": i.grade} for i in recorded]})


def _remedial_alert(ctx: Context, mail, allocation: dict, item: Recorded) -> list[Letter]:
    # Each alert is a remedial action (ACT-…) with an owner and a due date, raised in this transaction.
    return raise_action(ctx, mail, allocation, item.grade, item.remedial.details)
