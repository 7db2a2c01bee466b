"""A reply about an item of any kind that is answered by reply: checked, read, and acted on once.

In order: an item already settled (or a reply to a step already past) is answered "already
decided"; mail that fails authentication, or an answer from anyone but who must answer (or their
delegate), changes nothing and is reported; an unclear answer (or one the kind doubts, such as an
agreed date before the deadline) decides nothing and the person is asked again; a clear one goes to
the kind's step, whose plan is applied here.
"""
from datetime import datetime

from app.context import Context
from app.handlers import answer
from app.plans import apply_plan, as_step_reads
from app.router import Decision
from core.text import one_line
from db.items import ItemRepo
from inbox.answers import read_answer
from inbox.classify import Classification
from inbox.parse import ParsedMail
from inbox.read_answer import unclear_answer
from inbox.reply import newest_text, remarks
from inbox.signature import strip_signature, without_name_lines
from workflows.answers import Intent
from workflows.approvals import DECISIONS, authentication_problem, barred_from_deciding, may_decide
from workflows.items import Answer, ItemKind


def handle_item_reply(ctx: Context, mail: ParsedMail, c: Classification, record: dict, kind: ItemKind,
                      unsure: str | None = None) -> Decision:
    """Decide what one reply about `record` (an item of `kind`) does.

    `unsure`: why the reply cannot be taken as being about this item with confidence (it is then
    read as unclear, whatever it says: the answerer is asked again, anyone else's words are kept).
    """
    people, text = ctx.people, newest_text(mail.text)
    read = unclear_answer(text, unsure) if unsure else \
        read_answer(kind.reading, text, remarks(mail.text), ctx.clock.london_today())
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
        return refused(ctx, mail, record, problem)
    if unclear:
        return ask_again(ctx, mail, record, kind.options(record), reading.reason)
    # The answerer's sign-off ("Thanks, Dana") is no part of what they said.
    name = people.name(mail.from_addr)
    step_answer = Answer(sender=mail.from_addr, received_at=mail.received_at, message_id=mail.message_id or mail.key,
                         intent=reading.intent, comment=without_name_lines(reading.comment, name),
                         agreed_date=read.agreed_date, grade=read.grade,
                         words=without_name_lines(strip_signature(text), name),
                         answering=_letter_sent_at(c, record))
    doubt = kind.doubt(record, step_answer)
    if doubt:
        return ask_again(ctx, mail, record, kind.options(record), doubt)
    return apply_plan(ctx, kind.step(as_step_reads(ctx, kind, record), step_answer, people, ctx.clock.now()), mail)


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


def _letter_sent_at(c: Classification, record: dict) -> datetime | None:
    # Only a letter about this very item says what the answerer was looking at when they answered.
    thread = c.thread or {}
    if record["reference"] not in thread.get("refs", []) or not thread.get("sent_at"):
        return None
    return datetime.fromisoformat(thread["sent_at"])


def _deciders(record: dict) -> set[str]:
    return {e["by"] for e in record.get("history", []) if e["action"] in DECISIONS}


def _event(mail: ParsedMail, action: str, comment: str = "") -> dict:
    return {"at": mail.received_at.isoformat(), "by": mail.from_addr, "action": action,
            "message_id": mail.message_id or mail.key, "comment": comment}


# History entries that record something other than an answer to the item.
NOT_ANSWERS = {"comment", "refused", "away", "delegated"}


def already_decided(ctx: Context, mail: ParsedMail, record: dict) -> Decision:
    """Answer a decision on an item already settled: who settled it, and when."""
    # The latest decision; for a kind whose answers use other words, the latest answer that was not a
    # comment, refusal or absence (never nothing: the item is settled, so someone settled it).
    history = record["history"]
    last = next((e for e in reversed(history) if e["action"] in DECISIONS), None) or \
        next(e for e in reversed(history) if e["action"] not in NOT_ANSWERS)
    # Settled by the service itself (moderation closing for the month), not by a person.
    by = ctx.people.decider(last["by"], ctx.config.mailbox_address)
    letter = answer(mail, template="approvals/already_decided", kind="already-decided", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Already decided", context={
                        "person_name": ctx.people.greeting(mail.from_addr), "reference": record["reference"],
                        "decided_by": by, "decided_at": datetime.fromisoformat(last["at"]),
                        "decision": last["action"]})
    return Decision(outcome="already-decided", letters=[letter], refs=(record["reference"],))


def ask_again(ctx: Context, mail: ParsedMail, record: dict, options: str, reason: str) -> Decision:
    """Nothing decided: ask the same person again, saying what could not be read."""
    letter = answer(mail, template="approvals/ask_again", kind="ask-again", refs=[record["reference"]],
                    subject=f"[{record['reference']}] Nothing decided yet: please reply {options}", context={
                        "person_name": ctx.people.greeting(mail.from_addr), "reference": record["reference"],
                        "options": options, "what_was_unclear": reason})
    return Decision(outcome="unclear-decision", letters=[letter], refs=(record["reference"],))


def comment(ctx: Context, mail: ParsedMail, record: dict, text: str) -> Decision:
    """Not an answer (a detail added, a colleague's question): kept in the item's history and listed."""
    ItemRepo(ctx.store).update(record["reference"], {}, _event(mail, "comment", text[:2000]))
    return Decision(outcome="comment", refs=(record["reference"],),
                    triage=[f"{record['reference']}: a comment from {mail.from_addr} (no decision)"])


def refused(ctx: Context, mail: ParsedMail, record: dict, reason: str) -> Decision:
    """A decision that may not be taken: nothing changes; the attempt is kept in the item's history and listed.

    Anyone outside can send forged decisions by the hundred, so no letter goes about each one: the
    QA team's daily digest gathers every refusal from the triage list (app/digests).
    """
    # The words are kept with the refusal: an auditor's details that happen to read as a "Done" are not lost.
    event = {**_event(mail, "refused", reason), "words": newest_text(mail.text)[:2000]}
    ItemRepo(ctx.store).update(record["reference"], {}, event)
    note = f"{record['reference']}: decision from {one_line(mail.from_addr, 320)} refused ({reason})"
    return Decision(outcome="decision-refused", refs=(record["reference"],), triage=[note])
