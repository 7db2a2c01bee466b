"""`issue --month YYYY-MM --allocations CSV`: allocations stored and one letter per auditor, in one write."""
from __future__ import annotations

import hashlib
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from app.cycle.letters import allocation_row, bracketed
from app.files import read_csv
from db.month_files import stored_months_back
from workflows.exemption_reasons import MAX_MONTHS_AHEAD
from core.errors import InputFileError, UsageError
from db.months import MonthRepo
from db.items import ItemRepo
from core.letter import OutgoingAttachment
from mailer.ics import deadline_event
from core.letter import Letter
from workflows import exemptions
from workflows.allocations import check_allocations, reference
from workflows.calendar import month_deadline, month_name

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def issue_month(ctx: Context, month: str, csv_path: Path) -> dict:
    """Issue the new rows of an allocations file; returns counts of new, already issued and letters."""
    deadline = checked_month(month)
    month, now = month.strip(), ctx.clock.now()
    this_month = ctx.clock.london_now().strftime("%Y-%m")
    if now > deadline:
        raise UsageError(f"--month {month}: {month_name(month)} is over (its deadline has passed), so its audits "
                         f"cannot be issued now; issue {this_month} or a later month")
    if _months_between(this_month, month) > MONTHS_AHEAD:
        # 2062-12 for 2026-12 is an easy slip, and would send every auditor a letter about a strange year.
        raise UsageError(f"--month {month}: {month_name(month)} is more than {MONTHS_AHEAD} months ahead; "
                         "check the year")
    header, rows = read_csv(csv_path)
    person_of = _roster_of(ctx)  # each auditor is looked up three times (checked, recorded, written to)
    checked, problems = check_allocations(header, rows, person_of)
    if problems:
        raise InputFileError(str(csv_path), problems)
    repo = MonthRepo(ctx.store, month)
    issued = {(a["auditor"], a["case_ref"], a["audit_type"]) for a in repo.allocations()}
    new = [row for row in checked if row.key not in issued]
    letters = 0
    if new:
        with ctx.store.transaction():
            numbers = repo.take_numbers(len(new), now.isoformat())
            records = [_record(person_of, month, number, row, now) for number, row in zip(numbers, new)]
            exempt = _approved_exemptions(ctx, month)
            for record in records:
                if record["auditor"] in exempt:
                    # An exemption approved earlier for this month (a long absence): recorded, not sent.
                    record |= {"exempt": True, "exempted_by": exempt[record["auditor"]]}
            repo.add_allocations(records)
            by_auditor = defaultdict(list)
            for record in records:
                if not record["exempt"]:
                    by_auditor[record["auditor"]].append(record)
            # No answer to anyone (so no daily limit to apply): composed, then stored in one table write.
            composed = [ctx.postman.compose(_letter(ctx, person_of(auditor), month, deadline, auditor, items))
                        for auditor, items in by_auditor.items()]
            ctx.postman.keep_all(composed)
            letters = len(composed)
    return {"new": len(new), "already_issued": len(checked) - len(new), "letters": letters}


def _roster_of(ctx: Context):
    """`ctx.roster.get` for one run, from one read of the roster (asking the repo checks that its copy is
    current each time: ~0.1 ms, for each of 150 auditors three times). The first row of an address wins,
    as the repo's own look-up finds it."""
    by_email: dict = {}
    for person in ctx.roster.all():
        by_email.setdefault(person.email, person)
    return lambda email: by_email.get(email.strip().lower())


def _approved_exemptions(ctx: Context, month: str) -> dict[str, str]:
    """auditor -> the reference of an approved exemption that covers `month`."""
    # A request covers at most MAX_MONTHS_AHEAD months after the one it was filed in: older months are not read.
    filed_in = stored_months_back(ctx.store, month, MAX_MONTHS_AHEAD)
    return {r["requester"]: r["reference"] for r in ItemRepo(ctx.store).all(exemptions.KIND, filed_in)
            if r["state"] == "approved" and month in r["months"]}


MONTHS_AHEAD = 12


def _months_between(earlier: str, later: str) -> int:
    return (int(later[:4]) - int(earlier[:4])) * 12 + int(later[5:7]) - int(earlier[5:7])


def checked_month(month: str):
    """The deadline of a month given on the command line; UsageError if it is not YYYY-MM."""
    try:
        return month_deadline(month.strip())
    except ValueError as exc:
        raise UsageError(f"--month: {exc}") from None


def _record(person_of, month: str, number: int, row, now) -> dict:
    person = person_of(row.auditor)
    return {
        "reference": reference(month, number), "month": month, "auditor": row.auditor,
        "auditor_name": person.name, "service": person.service, "head_of_service": person.head_of_service,
        "case_ref": row.case_ref, "audit_type": row.audit_type, "team_manager": row.team_manager,
        "issued_at": now.isoformat(), "exempt": False, "deadline": None,
    }


def _letter(ctx: Context, person, month: str, deadline, auditor: str, items: list[dict]) -> Letter:
    refs = [a["reference"] for a in items]
    ics = deadline_event(
        # One diary entry per auditor and month: a later letter for added audits updates it.
        uid=f"audits-{month}-{hashlib.sha256(auditor.encode()).hexdigest()[:16]}@{ctx.config.mailbox_domain}",
        summary=f"QA audits due ({month_name(month)})",
        description=f"{'Audits' if len(refs) > 1 else 'Audit'} {', '.join(refs)} due by 23:59. "
                    "Reply to the allocation letter with the grade.",
        deadline=deadline, now=ctx.clock.now(), organiser=ctx.config.mailbox_address)
    return Letter(
        template="cycle/allocation", to=[auditor], kind="allocation", refs=refs,
        subject=f"{bracketed(refs)} Your audits for {month_name(month)}",
        context={"person_name": person.first_name, "month_name": month_name(month),
                 "allocations": [allocation_row(a) for a in items], "deadline": deadline},
        attachments=[OutgoingAttachment("audit-deadline.ics", "text/calendar; method=PUBLISH", ics)],
    )
