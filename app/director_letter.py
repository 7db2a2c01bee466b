"""The Director's letter to all staff: drafted from the month's results, proposed to the Director, written for `report --out`.

`propose_director_letter` is called by the report job when moderation closes, inside its
transaction: it stores the draft as an LTR item and posts it to the Director only. The Director's
Send or Don't send reply is handled by the generic reply handler (`app/replies.py`) with the step
in `workflows/director_letters.py`, which posts one letter per active auditor in the same
transaction as the state change, so the letter goes out once whatever happens.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from core.letter import Letter
from db.files import make_private_folder
from db.items import ItemRepo
from db.months import month_file
from db.month_files import stored_months_back
from workflows.exemption_reasons import MAX_MONTHS_AHEAD
from mailer.compose import Composer
from workflows import director_letters, exemptions, slippage
from workflows.calendar import month_deadline, month_name
from workflows.director_letter import SUBJECT, Facts, draft_letter
from workflows.exemptions import add_months
from workflows.results import MonthResult

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context

log = logging.getLogger("auditmail.director_letter")


def month_facts(ctx: Context, month: str) -> Facts:
    """The month's exemption requests (and how many came in its last week) and agreed later dates, from the store."""
    items = ItemRepo(ctx.store)
    filed_in = stored_months_back(ctx.store, month, MAX_MONTHS_AHEAD)  # a request names at most that far ahead
    requests = [r for r in items.all(exemptions.KIND, filed_in) if month in r.get("months", [r.get("month")])]
    stored = items.all(slippage.KIND, [month]) if ctx.store.has_file(month_file(month)) else []
    agreed = [r for r in stored if r["state"] == slippage.State.AGREED]
    return Facts(exemption_requests=len(requests),
                 exemptions_last_week=sum(r.get("timing") == "last-week" for r in requests),
                 slippage_agreed=sum(len(r.get("allocations", [])) or 1 for r in agreed))


def draft_blocks(ctx: Context, month: str, results: list[MonthResult], facts: Facts | None = None,
                 moderated: int = 0) -> list[dict]:
    """The letter's paragraphs for `month` as stored and rendered (the next month's deadline in it).

    `moderated`: how many of the month's audits a moderator answered (the report's figure); the
    opening says the audits were moderated only when some were and moderation has closed by now.
    """
    from app.reports.build import closes_on  # the report's own idea of when moderation closes
    from app.reports.records import targets  # the report's own reading of [targets]

    facts = month_facts(ctx, month) if facts is None else facts
    deadline = month_deadline(add_months(month, 1))
    closed = ctx.clock.london_today() >= closes_on(ctx, month)
    return [block.as_dict() for block in draft_letter(results, targets(ctx), facts, deadline,
                                                      moderation_closed=closed, moderated=moderated)]


def propose_director_letter(ctx: Context, month: str, results: list[MonthResult], facts: Facts | None = None,
                            moderated: int = 0) -> str:
    """Store the draft as an LTR item and post it to the Director only, once per month; returns its reference.

    Runs inside the caller's transaction. A month that already has a letter gets nothing new.
    """
    items = ItemRepo(ctx.store)
    existing = items.all(director_letters.KIND, [month]) if ctx.store.has_file(month_file(month)) else []
    if existing:
        return existing[0]["reference"]
    now = ctx.clock.now()
    reference = items.next_reference(director_letters.KIND, month)
    subject = f"{SUBJECT}: {month_name(month)} results"
    record = director_letters.new_record(reference, month, subject, draft_blocks(ctx, month, results, facts, moderated), now)
    items.add(record)
    people = ctx.people
    ctx.postman.post(Letter(
        template="director/draft", to=[people.director], kind=f"{director_letters.KIND.prefix.lower()}-ask",
        subject=f"[{reference}] Draft letter to all staff for {month_name(month)}: please reply Send or Don't send",
        refs=[reference], context={"person_name": people.first_name(people.director), "reference": reference,
                                   "month_name": month_name(month), "title": subject, "blocks": record["blocks"],
                                   "auditors": len(people.with_role("auditor"))}))
    log.info("the Director's letter for %s drafted as %s", month, reference)
    return reference


def write_director_draft(ctx: Context, month: str, results: list[MonthResult], out_dir: Path, moderated: int = 0) -> list[Path]:
    """Write `director-letter-YYYY-MM.html` and `.txt` into `out_dir` (readable by the service user only)."""
    out_dir = make_private_folder(Path(out_dir))
    composer = Composer(ctx.config.letterhead, ctx.config.mailbox_address, ctx.config.mailbox_name)
    context = {"title": f"{SUBJECT}: {month_name(month)} results", "blocks": draft_blocks(ctx, month, results, moderated=moderated),
               "salutation": "Colleagues"}
    text, html = composer.render(director_letters.STAFF_TEMPLATE, context, now=ctx.clock.now())
    written = []
    for suffix, content in (("html", html), ("txt", text)):
        path = out_dir / f"director-letter-{month}.{suffix}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        os.chmod(path, 0o600)  # an existing file keeps its old mode through O_TRUNC
        written.append(path)
    return written
