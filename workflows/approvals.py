"""Decisions by reply: who may make one, whether the mail can be trusted, and chasing a silent approver.

Only the assigned approver (or their configured delegate) decides; the reply's From is what counts,
never Reply-To. Where the mailbox says the message failed DMARC, or Exchange says it came from
outside the organisation, a decision in it changes nothing. A waiting approver is reminded after a
few working days and the QA team (and the delegate) told after a few more; nothing is ever decided
on a timeout.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime

from core.clock import LONDON
from workflows import actions, exemptions, moderation, slippage
from workflows.calendar import WorkingCalendar
from workflows.items import Answer, Change, ItemKind, People, Plan
from workflows.reminders import at_hour

# The history entries that are decisions (the rest are requests, comments, refusals, absences).
DECISIONS = {*exemptions.VERBS.values(), *slippage.VERBS.values(), *moderation.VERBS.values(), *actions.VERBS.values()}

# method=result pairs of an Authentication-Results header (RFC 8601), e.g. "dmarc=fail", "compauth=fail".
AUTH_RESULT = re.compile(r"\b([a-z][a-z0-9-]*)\s*=\s*([a-z]+)\b", re.I)
# A check that could not be made is no better than one that failed: the sender is unproven either way.
COULD_NOT_CHECK = {"temperror", "permerror"}
FAILED = {"dmarc": "it failed the DMARC check (the sender's address may have been forged)",
          "compauth": "it failed Exchange's authentication check (the sender's address may have been forged)"}
# The domain a DMARC result was checked for: "dmarc=pass (p=none) header.from=council.example".
DMARC_FROM = re.compile(r"\bdmarc\s*=\s*\w+\b.*?\bheader\.from\s*=\s*([^\s;]+)", re.I | re.S)
# Exchange stamps mail with how its sender authenticated; "Anonymous" means from outside the tenant.
EXCHANGE_AUTH = ("x-ms-exchange-organization-authas", "x-ms-exchange-crosstenant-authas")


def authentication_problem(headers, sender: str) -> str | None:
    """Why a message cannot be trusted to carry a decision from `sender`, or None. `headers`: name -> values."""
    domain = sender.rpartition("@")[2].lower()
    for value in headers.get("authentication-results", ()):
        for result_info in _without_comments(value).split(";"):
            # A DMARC pass proves only the domain it was checked for: an outsider's own domain passes too.
            checked = DMARC_FROM.search(result_info)
            if checked and checked.group(1).lower().rstrip(".") != domain:
                return (f"its DMARC result is for {checked.group(1)}, not for the sender's domain {domain} "
                        "(the sender's address may have been forged)")
        for method, result in AUTH_RESULT.findall(_without_comments(value)):
            method, result = method.lower(), result.lower()
            if result == "fail" and method in FAILED:
                return FAILED[method]
            if result in COULD_NOT_CHECK and method in ("dmarc", "spf", "dkim", "compauth", "arc"):
                return f"the mail server could not check where it came from ({method}={result})"
    for name in EXCHANGE_AUTH:
        for value in headers.get(name, ()):
            if value.strip().lower() == "anonymous":
                return "Exchange marked it as coming from outside the organisation"
    return None


def _without_comments(value: str) -> str:
    # "(…)" comments in Authentication-Results are free text a sender may influence; only results count.
    return re.sub(r"\([^()]*\)", " ", value)


def may_decide(sender: str, approvers: list[str], delegates: dict[str, str], barred: set[str] = frozenset()) -> bool:
    """Whether `sender` is one of the assigned approvers or the configured delegate of one.

    With `barred` (who may not decide this request), a delegate stands in only for an approver who
    may decide: the Director's delegate never approves the Director's own request.
    """
    allowed = [a for a in approvers if a not in barred]
    return sender in approvers or any(delegates.get(a) == sender for a in allowed)


def barred_from_deciding(record: dict) -> set[str]:
    """Who may not decide a request even as a delegate: whoever made it, and whoever took a step of it.

    Nobody is judge in their own cause, and no one person takes two steps of the same request.
    """
    made = {record.get("requester"), record.get("requested_by"), record.get("auditor")} - {None}
    return made | {e["by"] for e in record["history"] if e["action"] in DECISIONS}


def away(kind: ItemKind, record: dict, notice: Answer, people: People) -> Plan:
    """An answerer's out-of-office: noted, and the item sent on to their delegate if they have one
    (once), and if the kind asks a delegate at all (one waiting on a whole team needs no stand-in)."""
    reference, sender = record["reference"], notice.sender
    delegate = people.delegates.get(sender)
    already = any(e["action"] == "delegated" and e["by"] == sender for e in record["history"])
    changes = [Change(reference, {}, notice.event("away"))]
    if not delegate or already or kind.ask_delegate is None:
        return Plan("approver-away", changes, refs=(reference,),
                    triage=[f"{reference}: {sender} is away" + ("" if delegate else " and has no delegate")])
    changes.append(Change(reference, {}, notice.event("delegated", f"sent to {delegate}")))
    return Plan("sent-to-delegate", changes, letters=[kind.ask_delegate(record, delegate, sender, people)],
                refs=(reference,))


@dataclass(frozen=True)
class Chase:
    """A reminder to a waiting approver, or an escalation to the QA team."""

    key: str
    step: str             # "reminder" | "escalation"
    waiting_working_days: int


def chases_due(reference: str, stage: str, waiting_since: datetime, now: datetime, calendar: WorkingCalendar,
               *, remind_after: int, escalate_after: int, hour: int, reminded_on: date | None) -> list[Chase]:
    """The one chase due now for a waiting request (each keyed to happen once per stage).

    The reminder comes first; the escalation only on a later working day than the reminder, so after
    downtime the approver is reminded before anyone is told they did not answer.
    """
    start, today = waiting_since.astimezone(LONDON).date(), now.astimezone(LONDON).date()
    if not calendar.is_working_day(today) or now.astimezone(LONDON).hour < hour:
        # A daemon back on a Saturday waits for Monday, and one back at midnight for the working day's
        # hour, like the people it writes to.
        return []
    waited = calendar.working_days_between(start, today)

    def chase(step: str) -> list[Chase]:
        return [Chase(f"chase:{step}:{reference}:{stage}", step, waited)]

    if reminded_on is None:
        return chase("reminder") if now >= at_hour(calendar.add_working_days(start, remind_after), hour) else []
    if reminded_on < today and now >= at_hour(calendar.add_working_days(start, escalate_after), hour):
        return chase("escalation")
    return []
