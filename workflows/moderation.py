"""Moderation: a second pair of eyes on an audit's grade, agreed or changed by a moderator.

    awaiting_moderator ──Agree (or Grade: <the same grade>)──────▶ agreed     moderated_grade = original_grade
            │          ──Grade: <another grade> with a comment───▶ changed    both grades kept
            └──moderation closes, N working days into next month─▶ unmoderated (never counted as agreed)

Which audits: every counted submission graded Inadequate, and a sample of the rest drawn from the
month's seed. Whether an audit is in the sample depends only on (seed, audit reference), so the same
audits are chosen however often, and in whatever order, the month is replayed.
Who moderates: someone with the moderator role who is not the auditor, from another service where
such a moderator exists, with the fewest moderations. The auditor can never moderate their own audit,
not even as a moderator's delegate (`approvals.barred_from_deciding` bars `auditor`).
"""
import hashlib
import re
from collections import Counter
from datetime import datetime
from enum import StrEnum
from typing import Iterable

from core.letter import Letter
from core.reference import month_of_reference
from workflows.answers import Intent
from workflows.grades import Grade, parse_grade
from workflows.items import Answer, Change, ItemKind, People, Plan, Reading


class State(StrEnum):
    AWAITING_MODERATOR = "awaiting_moderator"
    AGREED = "agreed"
    CHANGED = "changed"
    UNMODERATED = "unmoderated"


# Intent.YES is "Agree"; Intent.NO is "Grade: <grade>" with a comment (the Answer carries the grade).
TRANSITIONS = {
    (State.AWAITING_MODERATOR, Intent.YES): State.AGREED,
    (State.AWAITING_MODERATOR, Intent.NO): State.CHANGED,
}
FINAL = frozenset({State.AGREED, State.CHANGED, State.UNMODERATED})
OPTIONS = "Agree, or Grade: <grade> with a comment on the lines below"
# History verbs, as they read after "it was" (the "already decided" letter quotes them).
VERBS = {State.AGREED: "agreed", State.CHANGED: "given a moderated grade",
         State.UNMODERATED: "closed without moderation"}
INADEQUATE, SAMPLE = "inadequate", "sample"


# --- which audits -------------------------------------------------------------------------------

def new_seed(month: str, now: datetime) -> str:
    """A month's sample seed, made from the clock when first needed: to the microsecond nobody can
    predict it, and under a fixed `--now` (demo, dry run, tests) it is the same every time."""
    return hashlib.sha256(f"moderation:{month}:{now.isoformat()}".encode()).hexdigest()[:32]


def in_sample(seed: str, audit: str, percent: float) -> bool:
    """Whether `audit` falls in the month's random sample: a pure function of the seed and the reference."""
    digest = hashlib.sha256(f"{seed}:{audit}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 * 100 < percent


def selected_because(grade: str, seed: str, audit: str, percent: float) -> str | None:
    """"inadequate" (always moderated), "sample" (drawn), or None (not moderated)."""
    if grade == Grade.INADEQUATE:
        return INADEQUATE
    return SAMPLE if in_sample(seed, audit, percent) else None


# --- who moderates ------------------------------------------------------------------------------

def load_of(moderations: Iterable[dict], month: str) -> Counter:
    """Each moderator's load: moderations still open, plus all of `month`'s."""
    return Counter(r["moderator"] for r in moderations
                   if r["state"] == State.AWAITING_MODERATOR or month_of_reference(r["reference"]) == month)


def choose_moderator(auditor: str, service: str, people: People, load: Counter) -> str | None:
    """The moderator for an audit by `auditor` of `service`; None when nobody but the auditor moderates."""
    everyone = [m for m in people.with_role("moderator") if m != auditor]
    elsewhere = [m for m in everyone if (people.get(m).service or "") != (service or "")]
    pool = elsewhere or everyone
    # Fewest moderations first; the address breaks a tie, so a replay chooses the same person.
    return min(pool, key=lambda m: (load.get(m, 0), m)) if pool else None


def new_moderation(reference: str, allocation: dict, submission: dict, moderator: str, because: str,
                   now: datetime) -> dict:
    """The stored record of a moderation just asked for."""
    return {"reference": reference, "audit": allocation["reference"], "auditor": allocation["auditor"],
            "moderator": moderator, "service": allocation.get("service", ""), "state": State.AWAITING_MODERATOR.value,
            "original_grade": submission["grade"], "moderated_grade": None, "comment": "",
            "selected_because": because, "submitted_at": submission["received_at"],
            "requested_at": now.isoformat(), "waiting_since": now.isoformat(), "answered_at": None,
            "history": [{"at": now.isoformat(), "by": "", "action": "requested", "moderator": moderator,
                         "grade": submission["grade"], "because": because}]}


def resubmitted(record: dict, submission: dict, now: datetime) -> Change:
    """A re-submission of an audit awaiting moderation: the moderator now looks at the new grade."""
    return Change(record["reference"], {"original_grade": submission["grade"], "submitted_at": submission["received_at"]},
                  {"at": now.isoformat(), "by": submission.get("from", ""), "action": "resubmitted",
                   "grade": submission["grade"], "was": record["original_grade"]})


def closed(record: dict, now: datetime, by: str) -> Change:
    """Moderation of the month closed with this one unanswered: unmoderated, never agreed."""
    return Change(record["reference"], {"state": State.UNMODERATED.value},
                  {"at": now.isoformat(), "by": by, "action": VERBS[State.UNMODERATED]})


# --- the answer ---------------------------------------------------------------------------------

def step(record: dict, answer: Answer, people: People, now: datetime) -> Plan:
    """Agree or a new grade: store it (both grades kept), thank the moderator, tell the auditor kindly."""
    state = TRANSITIONS[(State(record["state"]), answer.intent)]
    grade = answer.grade if state is State.CHANGED else record["original_grade"]
    if grade == record["original_grade"]:
        state = State.AGREED  # "Grade: Good" on an audit graded Good agrees with it
    reference, audit = record["reference"], record["audit"]
    changes = {"state": state.value, "moderated_grade": grade, "comment": answer.comment,
               "answered_at": answer.received_at.isoformat(), "moderated_by": answer.sender}
    event = {"at": answer.received_at.isoformat(), "by": answer.sender, "action": VERBS[state],
             "message_id": answer.message_id, "comment": answer.comment, "grade": grade}
    agreed = state is State.AGREED
    outcome = Letter(
        template="moderation/outcome", to=[record["auditor"]], kind="moderation-outcome", refs=[reference, audit],
        subject=f"[{reference}] [{audit}] Moderation of your audit: "
                + ("grade agreed" if agreed else f"grade moderated to {grade}"),
        context={"person_name": people.first_name(record["auditor"]), "reference": reference, "audit": audit,
                 "agreed": agreed, "original_grade": record["original_grade"], "moderated_grade": grade,
                 "moderator_name": people.name(answer.sender), "comment": answer.comment})
    thanks = Letter(
        template="moderation/recorded", to=[answer.sender], kind="moderation-recorded", refs=[reference, audit],
        subject=f"[{reference}] Thank you: your moderation of [{audit}] is recorded",
        context={"person_name": people.first_name(answer.sender), "reference": reference, "audit": audit,
                 "agreed": agreed, "original_grade": record["original_grade"], "moderated_grade": grade,
                 "auditor_name": people.name(record["auditor"])})
    return Plan(outcome=f"moderation-{state.value}", changes=[Change(reference, changes, event)],
                letters=[outcome], answers=[thanks], refs=(reference,))


# A grade named in an Agree's words ("Agree with Samir that it should be Good"): "Good" and "RI" only
# as written, since "a good audit" is praise, not a grade.
NAMED_GRADE = re.compile(r"\b(?i:outstanding|requires\s+improvement|inadequate)\b|\bGood\b|\bRI\b")


def doubt(record: dict, answer: Answer) -> str | None:
    """An Agree that names another grade, or in reply to a letter sent before the auditor re-submitted
    (it agreed with the grade that letter showed, not the one the audit has now): asked again, never guessed."""
    if answer.intent is not Intent.YES:
        return None
    named = {parse_grade(m.group()) for m in NAMED_GRADE.finditer(answer.words)} - {None}
    if any(grade != record["original_grade"] for grade in named):
        return (f"the Agree names a grade other than {record['original_grade']}; to change it, reply "
                f"Grade: <grade> on the first line and why on the lines below")
    if answer.answering is None:
        return None
    changed = [e for e in record["history"] if e["action"] == "resubmitted"
               and datetime.fromisoformat(e["at"]) > answer.answering]
    if not changed:
        return None
    return (f"the auditor re-submitted the audit after the email you answered, and its grade is now "
            f"{record['original_grade']}; reply Agree if you agree with {record['original_grade']}")


def _answerers(record: dict, people: People) -> list[str]:
    return [record["moderator"]] if record["state"] == State.AWAITING_MODERATOR else []


def _waiting_line(record: dict, people: People) -> str:
    return (f"{record['reference']}  moderation of {record['audit']} ({record['original_grade']}, "
            f"by {people.name(record['auditor'])}): waiting on {people.name(record['moderator'])}")


def chase_letters(record: dict, step: str, waiting_working_days: int, people: People) -> list[Letter]:
    """A reminder to the waiting moderator (copied to their delegate), or an escalation to the QA team."""
    reference, audit, moderator = record["reference"], record["audit"], record["moderator"]
    delegate = people.delegates.get(moderator)
    delegate = delegate if delegate and delegate != record["auditor"] else None  # never the auditor
    common = {"reference": reference, "audit": audit, "grade": record["original_grade"],
              "auditor_name": people.name(record["auditor"]), "waiting_working_days": waiting_working_days,
              "options": OPTIONS}
    if step == "reminder":
        return [Letter(template="moderation/reminder", to=[moderator], cc=[delegate] if delegate else [],
                       kind="moderation-reminder", refs=[reference, audit],
                       subject=f"[{reference}] Moderation of audit [{audit}] is waiting for your answer",
                       context={**common, "person_name": people.first_name(moderator)})]
    to = list(dict.fromkeys(people.in_roster_order("qa") + ([delegate] if delegate else [])))
    return [Letter(template="moderation/escalation", to=to, kind="moderation-escalation", refs=[reference, audit],
                   subject=f"[{reference}] Moderation of audit [{audit}] still waiting after "
                           f"{waiting_working_days} working days",
                   context={**common, "salutation": "Colleagues", "moderator_name": people.name(moderator)})]


KIND = ItemKind(prefix="MOD", name="moderation", table="moderations", states=State, final=FINAL,
                transitions=TRANSITIONS, reading=Reading.MODERATION, answerers=_answerers,
                options=lambda record: OPTIONS, step=step, chased=True, chase_letters=chase_letters, doubt=doubt,
                waiting_line=_waiting_line)
