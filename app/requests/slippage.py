"""A slippage notice by email: the Head of Service told, the QA team asked whether it has capacity.

A notice that reaches the mailbox after the deadline is answered that it is too late under the
policy, and the QA team is told.
"""
from collections import defaultdict

from app.cycle.letters import bracketed, qa_team
from app.handlers import answer, example_reference
from app.requests.people import first_name, name_of, rows
from app.router import Decision
from core.clock import month_of
from db.months import MonthRepo
from db.requests import RequestRepo
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text
from inbox.signature import strip_signature, unwrap
from core.letter import Letter
from workflows import slippage
from workflows.calendar import month_deadline
from workflows.exemptions import add_months
from workflows.slippage import State

MAX_WORDS = 2000


def handle_slippage(mail: ParsedMail, c: Classification, ctx) -> Decision:
    """Record a slippage notice and pass it on, or say it is too late."""
    auditor = c.person
    month, named, allocations = _slipping(ctx, c.references, mail, auditor.email)
    words = unwrap(strip_signature(newest_text(mail.text)))[:MAX_WORDS]
    if not allocations:
        letter = answer(mail, template="cycle/incomplete", kind="slippage-nothing", refs=named,
                        subject="Your slippage notice: no outstanding audit found", context={
                            "person_name": auditor.first_name, "received_at": mail.received_at, "recorded": [],
                            "examples": named, "problems": [
                                "no audit of yours that is still outstanding was found for this notice; "
                                f"please reply with the reference of the audit that may slip, e.g. [{example_reference(ctx, mail)}]"]})
        return Decision(outcome="slippage-nothing-outstanding", letters=[letter], triage=[
            f"slippage notice from {auditor.email} names no outstanding audit"])
    deadline = month_deadline(month)
    refs = [a["reference"] for a in allocations]
    if slippage.too_late(mail.received_at, allocations):
        return _too_late(ctx, mail, auditor, allocations, deadline)
    store = RequestRepo(ctx.store)
    reference = store.next_reference("SLP", month_of(mail.received_at))
    record = {
        "reference": reference, "month": month, "auditor": auditor.email, "allocations": refs, "words": words,
        "received_at": mail.received_at.isoformat(), "message_id": mail.message_id or mail.key, "state": State.AWAITING_QA.value,
        "waiting_since": mail.received_at.isoformat(), "agreed_until": None,
        "history": [{"at": mail.received_at.isoformat(), "by": auditor.email, "action": "notified",
                     "message_id": mail.message_id or mail.key, "comment": ""}],
    }
    store.add(record)
    common = {"reference": reference, "allocations": rows(allocations), "deadline": deadline}
    letters = [answer(mail, template="slippage/acknowledgement", kind="slippage-ack", refs=[reference, *refs],
                      subject=f"[{reference}] {bracketed(refs)} Your slippage notice has been received",
                      context={**common, "person_name": auditor.first_name, "received_at": mail.received_at,
                               "hos_name": name_of(ctx, auditor.head_of_service)})]
    if auditor.head_of_service:
        letters.append(Letter(template="slippage/to_hos", to=[auditor.head_of_service], kind="slippage-hos",
                              refs=[reference], subject=f"[{reference}] Slippage notice from {auditor.name} (for information)",
                              context={**common, "person_name": first_name(ctx, auditor.head_of_service),
                                       "auditor_name": auditor.name, "auditor_words": words}))
    letters.append(ask_qa_letter(ctx, record))
    return Decision(outcome="slippage-awaiting-qa", letters=letters, refs=(reference,))


def ask_qa_letter(ctx, record: dict, delegate_for: str = "") -> Letter:
    """The letter asking the QA team whether it can accommodate the slippage."""
    auditor = ctx.roster.get(record["auditor"])
    repo = MonthRepo(ctx.store, record["month"])
    allocations = [repo.allocation(r) for r in record["allocations"]]
    return Letter(template="slippage/to_qa", to=qa_team(ctx), kind="slippage-ask", refs=[record["reference"]],
                  subject=f"[{record['reference']}] Slippage: can you accommodate it? Please reply Yes with a date, or No",
                  context={"salutation": "Colleagues", "reference": record["reference"],
                           "auditor_name": auditor.name if auditor else record["auditor"],
                           "auditor_service": auditor.service if auditor else "",
                           "hos_name": name_of(ctx, auditor.head_of_service) if auditor else "",
                           "auditor_words": record["words"], "allocations": rows(allocations),
                           "deadline": month_deadline(record["month"])})


def _too_late(ctx, mail: ParsedMail, auditor, allocations: list[dict], deadline) -> Decision:
    refs = [a["reference"] for a in allocations]
    letters = [
        answer(mail, template="slippage/too_late", kind="slippage-too-late", refs=refs,
               subject=f"{bracketed(refs)} Your slippage notice came after the deadline",
               context={"person_name": auditor.first_name, "allocations": rows(allocations), "deadline": deadline,
                        "received_at": mail.received_at}),
        Letter(template="slippage/too_late_qa", to=qa_team(ctx), kind="slippage-too-late-qa", refs=refs,
               subject=f"{bracketed(refs)} Slippage notice after the deadline from {auditor.name}",
               context={"salutation": "Colleagues", "auditor_name": auditor.name, "allocations": rows(allocations),
                        "deadline": deadline, "received_at": mail.received_at}),
    ]
    return Decision(outcome="slippage-too-late", letters=letters, refs=tuple(refs),
                    triage=[f"slippage notice after the deadline from {auditor.email}"])


def _slipping(ctx, references, mail: ParsedMail, auditor: str) -> tuple[str, list[str], list[dict]]:
    """The audit month, the references named, and the allocations a notice is about.

    A notice names its audits, or else is about the auditor's outstanding audits of the month it
    arrived in, or (early in a month, when that month has none) of the month before.
    """
    named = [r for r in references if r.startswith("AUD-")]
    here = month_of(mail.received_at)
    months = [named[0][4:11]] if named else [here, add_months(here, -1)]
    for month in months:
        repo = MonthRepo(ctx.store, month)
        submissions = defaultdict(list)
        for s in repo.submissions():
            submissions[s["reference"]].append(s)
        allocations = slippage.slipping_allocations(repo.allocations(), submissions, auditor,
                                                    [r for r in named if r.startswith(f"AUD-{month}")])
        if allocations:
            return month, named, allocations
    return months[0], named, []
