"""A reply about an item of any kind that is answered by reply: checked, read, and acted on once.

In order: an item already settled (or a reply to a step already past) is answered "already
decided"; mail that fails authentication, or an answer from anyone but who must answer (or their
delegate), changes nothing and is reported; an unclear answer decides nothing and the person is
asked again; a clear one goes to the kind's step, whose plan is applied here.
"""
from app.context import Context
from app.handlers import answer
from app.plans import apply_plan
from app.requests import outcomes
from app.router import Decision
from db.items import ItemRepo
from inbox.answers import read_answer
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.reply import newest_text, remarks
from workflows.answers import Intent
from workflows.approvals import DECISIONS, authentication_problem, barred_from_deciding, may_decide
from workflows.items import Answer, ItemKind


def handle_item_reply(ctx: Context, mail: ParsedMail, c: Classification, record: dict, kind: ItemKind) -> Decision:
    """Decide what one reply about `record` (an item of `kind`) does."""
    people, text = ctx.people, newest_text(mail.text)
    read = read_answer(kind.reading, text, remarks(mail.text), ctx.clock.london_today())
    reading, unclear = read.reading, read.reading.intent is Intent.UNCLEAR
    answerers = kind.answerers(record, people)
    if kind.is_final(record) or _replies_to_past_step(c, record):
        if unclear and mail.from_addr not in {*answerers, *_deciders(record)}:
            return comment(ctx, mail, record, text)
        return already_decided(ctx, mail, record)
    forged = authentication_problem(mail.headers, mail.from_addr)
    # Someone who is not asked to answer: a clear answer is refused, an unclear one is a comment (a detail added).
    problem = forged or not_theirs(ctx, mail.from_addr, record, answerers)
    if problem:
        if unclear and not forged:
            return comment(ctx, mail, record, text)
        return outcomes.refused(ctx, mail, record, problem)
    if unclear:
        return ask_again(ctx, mail, record, kind.options(record), reading.reason)
    step_answer = Answer(sender=mail.from_addr, received_at=mail.received_at, message_id=mail.message_id or mail.key,
                         intent=reading.intent, comment=reading.comment, agreed_date=read.agreed_date,
                         grade=read.grade)
    return apply_plan(ctx, kind.step(record, step_answer, people, ctx.clock.now()), mail)


def not_theirs(ctx: Context, sender: str, record: dict, answerers: list[str]) -> str | None:
    """Why `sender` may not answer this item now, or None if they may."""
    delegates, barred, name = ctx.config.delegates, barred_from_deciding(record), ctx.people.name(sender)
    if not may_decide(sender, answerers, delegates):
        return f"{name} is not the person asked to decide it"
    if sender in barred:
        made = sender in (record.get("requester"), record.get("requested_by"), record.get("auditor"))
        return f"{name} " + ("made the request and cannot decide it" if made
                             else "has already decided an earlier step of it")
    if not may_decide(sender, answerers, delegates, barred):
        return f"{name} stands in for someone who may not decide it"
    return None


def _replies_to_past_step(c: Classification, record: dict) -> bool:
    # A step's letter may be its own thread anchor ("exemption-ask:<state>"): a reply to the letter of
    # a step the item has moved past is a reply to a step already decided (no replay).
    prefix, _, state = (c.thread or {}).get("kind", "").partition(":")
    return prefix.endswith("-ask") and bool(state) and state != record.get("state")


def _deciders(record: dict) -> set[str]:
    return {e["by"] for e in record.get("history", []) if e["action"] in DECISIONS}


def already_decided(ctx: Context, mail: ParsedMail, record: dict) -> Decision:
    """Answer a decision on an item already settled: who settled it, and when."""
    from app.requests.decisions import _already_decided  # noqa: PLC0415 - one letter for every kind
    return _already_decided(ctx, mail, record)


def ask_again(ctx: Context, mail: ParsedMail, record: dict, options: str, reason: str) -> Decision:
    """Nothing decided: ask the same person again, saying what could not be read."""
    letter = answer(mail, template="approvals/ask_again", kind="ask-again", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Nothing decided yet: please reply {options}", context={
                        "person_name": ctx.people.first_name(mail.from_addr), "reference": record["reference"],
                        "options": options, "what_was_unclear": reason})
    return Decision(outcome="unclear-decision", letters=[letter], refs=(record["reference"],))


def comment(ctx: Context, mail: ParsedMail, record: dict, text: str) -> Decision:
    """Not an answer (a detail added, a colleague's question): kept in the item's history and listed."""
    ItemRepo(ctx.store).update(record["reference"], {}, {
        "at": mail.received_at.isoformat(), "by": mail.from_addr, "action": "comment",
        "message_id": mail.message_id or mail.key, "comment": text[:2000]})
    return Decision(outcome="comment", refs=(record["reference"],),
                    triage=[f"{record['reference']}: a comment from {mail.from_addr} (no decision)"])
