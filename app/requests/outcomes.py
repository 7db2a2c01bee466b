"""What a clear decision, a refusal or an approver's absence does to a request, and who is told."""
from dataclasses import replace
from datetime import datetime

from app.cycle.letters import qa_team
from app.requests.exemption import affected_allocations, ask_letter
from app.requests.people import director, first_name, month_names, name_of, rows
from app.router import Decision
from core.text import one_line
from db.months import MonthRepo
from db.requests import RequestRepo
from inbox.intent import Intent, Reading
from inbox.parse import ParsedMail
from inbox.reply import newest_text
from inbox.signature import strip_signature, without_name_lines
from core.letter import Letter
from workflows import exemptions, slippage
from workflows.calendar import month_deadline
from workflows.exemptions import State


def _event(mail: ParsedMail, action: str, comment: str = "") -> dict:
    return {"at": mail.received_at.isoformat(), "by": mail.from_addr, "action": action,
            "message_id": mail.message_id or mail.key, "comment": comment}


def exemption_decided(ctx, mail: ParsedMail, record: dict, reading: Reading) -> Decision:
    """Move an exemption on after a clear Support/Decline or Approve/Reject."""
    reading = replace(reading, comment=without_name_lines(reading.comment, name_of(ctx, mail.from_addr)))
    state = exemptions.decide(State(record["state"]), reading.intent)
    repo, reference = RequestRepo(ctx.store), record["reference"]
    changes = {"state": state.value, "waiting_since": mail.received_at.isoformat()}
    if state is State.AWAITING_DIRECTOR:
        changes |= {"approver": director(ctx), "hos_comment": reading.comment}
    repo.update(reference, changes, _event(mail, exemptions.VERBS[state], reading.comment))
    record = repo.get(reference)
    if state is State.AWAITING_DIRECTOR:
        letters = [ask_letter(ctx, record, record["approver"])]
    elif state is State.DECLINED:
        letters = [Letter(template="exemption/declined_by_hos", to=[record["requester"]], kind="exemption-declined",
                          refs=[reference], subject=f"[{reference}] Your exemption request was not supported",
                          context={"person_name": first_name(ctx, record["requester"]),
                                   "reference": reference, "hos_name": name_of(ctx, mail.from_addr),
                                   "comment": reading.comment,
                                   "months": month_names(record["months"])})]
    else:
        letters = [_decided_letter(ctx, record, state, mail.from_addr, reading.comment)]
    return Decision(outcome=f"exemption-{state.value}", letters=letters, refs=(reference,))


def _decided_letter(ctx, record: dict, state: State, decided_by: str, comment: str) -> Letter:
    exempted = []
    if state is State.APPROVED:
        # The allocations leave the completion-rate denominator and their reminders stop.
        for allocation in affected_allocations(ctx, record):
            MonthRepo(ctx.store, allocation["month"]).update_allocation(
                allocation["reference"], {"exempt": True, "exempted_by": record["reference"]})
            exempted.append(allocation)
    to = list(dict.fromkeys([record["requester"], record["hos"] or record["requested_by"]]))
    return Letter(template="exemption/decided", to=[a for a in to if a],
                  cc=[a for a in qa_team(ctx) if a not in to], kind=f"exemption-{state.value}",
                  refs=[record["reference"]],
                  subject=f"[{record['reference']}] Exemption request {exemptions.VERBS[state]}",
                  context={"salutation": "Colleagues", "reference": record["reference"],
                           "requester_name": name_of(ctx, record["requester"]), "decision": state.value,
                           "decided_by": name_of(ctx, decided_by), "comment": comment,
                           "months": month_names(record["months"]), "allocations": rows(exempted)})


def slippage_decided(ctx, mail: ParsedMail, record: dict, reading: Reading, agreed) -> Decision:
    """Record the QA team's Yes (with a date) or No, and tell the auditor and their Head of Service."""
    reference = record["reference"]
    # "Sorry, no capacity this month" is all decision and no comment, yet it is what the auditor
    # should read: pass on the QA team's own words whenever they said more than yes or no.
    words = without_name_lines(strip_signature(newest_text(mail.text)), name_of(ctx, mail.from_addr))
    comment = without_name_lines(reading.comment, name_of(ctx, mail.from_addr))
    reading = replace(reading, comment=comment or (words if len(words.split()) > 2 else ""))
    state = slippage.State.AGREED if reading.intent is Intent.YES else slippage.State.REFUSED
    until = slippage.agreed_deadline(agreed) if agreed else None
    RequestRepo(ctx.store).update(reference, {"state": state.value,
                                                  "agreed_until": until.isoformat() if until else None},
                                      _event(mail, slippage.VERBS[state], reading.comment))
    repo = MonthRepo(ctx.store, record["month"])
    if until:
        for ref in record["allocations"]:
            repo.update_allocation(ref, {"deadline": until.isoformat(), "extended_by": reference})
            # A submission that came after the month's deadline but within the agreed date counts now.
            for submission in repo.submissions(ref):
                if not submission["counts"] and datetime.fromisoformat(submission["received_at"]) <= until:
                    repo.update_submission(ref, submission["received_at"], {"counts": True, "counted_by": reference})
    auditor = ctx.roster.get(record["auditor"])
    to = [a for a in (record["auditor"], auditor.head_of_service if auditor else "") if a]
    letter = Letter(template="slippage/outcome", to=to, kind=f"slippage-{state.value}", refs=[reference],
                    subject=f"[{reference}] Slippage {slippage.VERBS[state]}",
                    context={"salutation": "Colleagues", "reference": reference,
                             "auditor_name": name_of(ctx, record["auditor"]), "agreed": until is not None,
                             "agreed_until": until, "comment": reading.comment,
                             "allocations": rows([repo.allocation(r) for r in record["allocations"]]),
                             "deadline": month_deadline(record["month"]), "decided_by": name_of(ctx, mail.from_addr)})
    return Decision(outcome=f"slippage-{state.value}", letters=[letter], refs=(reference,))


def refused(ctx, mail: ParsedMail, record: dict, reason: str) -> Decision:
    """A decision that may not be taken: nothing changes; the attempt is kept in the item's history and listed.

    Anyone outside can send forged decisions by the hundred, so no letter goes about each one: the
    QA team's daily digest gathers every refusal from the triage list (app/digests).
    """
    from db.items import ItemRepo  # noqa: PLC0415 - every kind of item can be refused (kept local to this function)

    ItemRepo(ctx.store).update(record["reference"], {}, _event(mail, "refused", reason))
    note = f"{record['reference']}: decision from {one_line(mail.from_addr, 320)} refused ({reason})"
    return Decision(outcome="decision-refused", refs=(record["reference"],), triage=[note])


def approver_away(ctx, mail: ParsedMail, record: dict) -> Decision:
    """An approver's out-of-office: noted, and an exemption sent on to their delegate if they have one.

    (Slippage waits on the whole QA team, so one member being away needs nobody else asked.)
    """
    repo, reference = RequestRepo(ctx.store), record["reference"]
    delegate = ctx.config.delegates.get(mail.from_addr)
    already = any(e["action"] == "delegated" and e["by"] == mail.from_addr for e in record["history"])
    repo.update(reference, {}, _event(mail, "away"))
    if not delegate or already or reference.startswith("SLP"):
        return Decision(outcome="approver-away", refs=(reference,),
                        triage=[f"{reference}: {mail.from_addr} is away" + ("" if delegate else " and has no delegate")])
    repo.update(reference, {}, _event(mail, "delegated", f"sent to {delegate}"))
    letter = ask_letter(ctx, record, delegate, delegate_for=name_of(ctx, mail.from_addr))
    return Decision(outcome="sent-to-delegate", letters=[letter], refs=(reference,))

