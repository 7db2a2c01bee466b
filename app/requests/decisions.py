"""Replies about an exemption or a slippage notice: read the decision, check who sent it, act once.

In order: a request already decided (or a reply to a step already past) is answered "already
decided"; mail that fails authentication, or a decision from anyone but the assigned approver or
their delegate, changes nothing and is reported to the QA team; an unclear answer decides nothing
and the approver is asked again; a clear one moves the request on.
"""
from datetime import datetime

from app.handlers import answer, example_reference
from app.requests import outcomes
from app.requests.people import approvers_of, first_name, name_of
from app.router import Decision
from db.items import ItemRepo
from db.requests import RequestRepo
from inbox.classify import Classification
from inbox.intent import Intent, Reading, read_capacity, read_decision, with_remarks
from inbox.parse import ParsedMail
from inbox.reply import newest_text, remarks
from workflows import exemptions, slippage
from workflows.registry import answered_by_reply, kind_of
from workflows.calendar import month_deadline
from workflows.approvals import DECISIONS, authentication_problem, barred_from_deciding, may_decide


def handle_reply(mail: ParsedMail, c: Classification, ctx) -> Decision:
    from app.replies import handle_item_reply  # noqa: PLC0415 - it builds on this module's letters

    """A reply in an exemption or slippage thread; any other reply to our mail is filed for the QA team."""
    reference = next(iter(answered_by_reply(c.references)), None)
    if reference is None:
        # A "thank you" for a receipt, a note on an alert: nothing to decide, nobody to answer.
        about = ", ".join(c.references) or (c.thread or {}).get("kind", "our mail")
        return Decision(outcome="reply-filed", refs=c.references,
                        triage=[f"a reply from {mail.from_addr} about {about} (filed, not answered)"])
    repo = RequestRepo(ctx.store)
    record = ItemRepo(ctx.store).get(reference)
    if record is None:
        return _unknown(ctx, mail, c, reference)
    kind = kind_of(reference)
    if kind.step is not None:
        return handle_item_reply(ctx, mail, c, record, kind)
    is_exemption = reference.startswith("EXM")
    final, options = (exemptions.FINAL, None) if is_exemption else (slippage.FINAL, slippage.OPTIONS)
    options = options or exemptions.OPTIONS.get(exemptions.State(record["state"]))
    text = newest_text(mail.text)
    today = ctx.clock.london_today()
    reading, agreed = (read_decision(text), None) if is_exemption else read_capacity(text, today)
    # An answer typed among the quoted lines of an interleaved reply is weighed, never lost.
    reading = with_remarks(reading, remarks(mail.text), capacity=not is_exemption)
    agreed = agreed if reading.intent is Intent.YES else None
    stage_passed = _replies_to_past_step(c, record)
    if record["state"] in final or stage_passed:
        if reading.intent is Intent.UNCLEAR and mail.from_addr not in _everyone_deciding(ctx, record):
            return _comment(repo, mail, record, text)
        return _already_decided(ctx, mail, record)
    problem = authentication_problem(mail.headers, mail.from_addr)
    if problem is None and reading.intent is not Intent.UNCLEAR:
        problem = _not_theirs_to_decide(ctx, mail.from_addr, record)
    if problem:
        if reading.intent is Intent.UNCLEAR and not authentication_problem(mail.headers, mail.from_addr):
            return _comment(repo, mail, record, text)
        return outcomes.refused(ctx, mail, record, problem)
    if agreed and slippage.agreed_deadline(agreed) <= month_deadline(record["month"]):
        reading = Reading(Intent.UNCLEAR, reading.comment, "the date given is not after the month's deadline")
    if reading.intent is Intent.UNCLEAR:
        return _ask_again(ctx, mail, record, options, reading)
    if is_exemption:
        return outcomes.exemption_decided(ctx, mail, record, reading)
    return outcomes.slippage_decided(ctx, mail, record, reading, agreed)


def handle_auto_reply(mail: ParsedMail, c: Classification, ctx) -> Decision:
    """An out-of-office: never answered; from a waiting approver, noted and sent on to their delegate."""
    reference = next((r for r in c.references if r[:3] in ("EXM", "SLP")), None)
    record = RequestRepo(ctx.store).get(reference) if reference else None
    if record is None or record["state"] in (exemptions.FINAL | slippage.FINAL):
        return Decision(outcome="ignored-auto_reply")
    if mail.from_addr not in approvers_of(ctx, record) or authentication_problem(mail.headers, mail.from_addr):
        # Only a genuine out-of-office from the approver sends their request on; a forged one changes nothing.
        return Decision(outcome="ignored-auto_reply", refs=(reference,))
    return outcomes.approver_away(ctx, mail, record)


def _not_theirs_to_decide(ctx, sender: str, record: dict) -> str | None:
    """Why `sender` may not decide this request now, or None if they may."""
    approvers, delegates, barred = approvers_of(ctx, record), ctx.config.delegates, barred_from_deciding(record)
    if not may_decide(sender, approvers, delegates):
        return f"{name_of(ctx, sender)} is not the person asked to decide it"
    if sender in barred:
        made = sender in (record.get("requester"), record.get("requested_by"), record.get("auditor"))
        return f"{name_of(ctx, sender)} " + ("made the request and cannot decide it" if made
                                                 else "has already decided an earlier step of it")
    if not may_decide(sender, approvers, delegates, barred):
        return f"{name_of(ctx, sender)} stands in for someone who may not decide it"
    return None


def _replies_to_past_step(c: Classification, record: dict) -> bool:
    # Each step's letter is its own thread anchor: a reply to the Head of Service's letter after the
    # request has moved on to the Director is a reply to a step already decided (no replay).
    kind = (c.thread or {}).get("kind", "")
    return kind.startswith("exemption-ask:") and kind != f"exemption-ask:{record['state']}"


def _everyone_deciding(ctx, record: dict) -> set[str]:
    if record["reference"].startswith("SLP"):
        return set(approvers_of(ctx, record))
    return {e["by"] for e in record["history"] if e["action"] != "requested"} | {record["approver"]}


def _already_decided(ctx, mail: ParsedMail, record: dict) -> Decision:
    last = next(e for e in reversed(record["history"]) if e["action"] in DECISIONS)
    letter = answer(mail, template="approvals/already_decided", kind="already-decided", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Already decided", context={
                        "person_name": first_name(ctx, mail.from_addr), "reference": record["reference"],
                        "decided_by": name_of(ctx, last["by"]), "decided_at": datetime.fromisoformat(last["at"]),
                        "decision": last["action"]})
    return Decision(outcome="already-decided", letters=[letter], refs=(record["reference"],))


def _ask_again(ctx, mail: ParsedMail, record: dict, options: str, reading: Reading) -> Decision:
    letter = answer(mail, template="approvals/ask_again", kind="ask-again", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Nothing decided yet: please reply {options}", context={
                        "person_name": first_name(ctx, mail.from_addr), "reference": record["reference"],
                        "options": options, "what_was_unclear": reading.reason})
    return Decision(outcome="unclear-decision", letters=[letter], refs=(record["reference"],))


def _comment(repo: RequestRepo, mail: ParsedMail, record: dict, text: str) -> Decision:
    # Not a decision (the requester adding a detail, a colleague's question): kept and listed.
    repo.update(record["reference"], {}, {"at": mail.received_at.isoformat(), "by": mail.from_addr,
                                          "action": "comment", "message_id": mail.message_id or mail.key, "comment": text[:2000]})
    return Decision(outcome="comment", refs=(record["reference"],),
                    triage=[f"{record['reference']}: a comment from {mail.from_addr} (no decision)"])


def _unknown(ctx, mail: ParsedMail, c: Classification, reference: str) -> Decision:
    letter = answer(mail, template="intake/unclear", kind="unclear", subject="Your email to the audit mailbox: what we need from you",
                    context={"person_name": c.person.first_name, "subject": mail.subject, "received_at": mail.received_at,
                             "example_reference": example_reference(ctx, mail),
                             "problems": [f"{reference} is not a reference the audit mailbox has issued"]})
    return Decision(outcome="unknown-reference", letters=[letter], triage=[f"unknown reference {reference} from {mail.from_addr}"])

