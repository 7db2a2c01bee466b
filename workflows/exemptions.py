"""Exemption requests: via the Head of Service, decided by the Director, case by case.

    awaiting_hos ──Support──▶ awaiting_director ──Approve──▶ approved
         │                            │
         └──Decline──▶ declined        └──Reject──▶ rejected

A Head of Service asking on a staff member's behalf starts at awaiting_director (support implied);
so does anyone whose Head of Service is the Director. Nothing is ever decided on a timeout.
"""
import re
from datetime import datetime, timedelta
from enum import StrEnum

from core.clock import LONDON
from workflows.answers import Intent
from workflows.items import ItemKind, Reading
from workflows.calendar import last_day

MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]
MONTH_WORD = re.compile(r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
                        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?:\s+(20\d\d))?", re.I)
# "May" is a month only beside a preposition or a year ("until May", "May 2027"), not "I may need".
MONTH_CONTEXT = re.compile(r"\b(in|for|until|till|to|through|throughout|during|of|and|end of|from)\s*$", re.I)
# A month named further ahead than this is more likely a past month ("my surgery in November").
MAX_MONTHS_AHEAD = 6
UNTIL = re.compile(r"\b(until|till|to|through|-)\s*(the end of\s+|\d{1,2}(st|nd|rd|th)?\s+(of\s+)?)?$", re.I)


class State(StrEnum):
    AWAITING_HOS = "awaiting_hos"
    AWAITING_DIRECTOR = "awaiting_director"
    APPROVED = "approved"
    REJECTED = "rejected"
    DECLINED = "declined"


TRANSITIONS = {
    (State.AWAITING_HOS, Intent.YES): State.AWAITING_DIRECTOR,
    (State.AWAITING_HOS, Intent.NO): State.DECLINED,
    (State.AWAITING_DIRECTOR, Intent.YES): State.APPROVED,
    (State.AWAITING_DIRECTOR, Intent.NO): State.REJECTED,
}
OPTIONS = {State.AWAITING_HOS: "Support or Decline", State.AWAITING_DIRECTOR: "Approve or Reject"}
VERBS = {State.AWAITING_DIRECTOR: "supported", State.DECLINED: "declined",
         State.APPROVED: "approved", State.REJECTED: "rejected"}
FINAL = {State.APPROVED, State.REJECTED, State.DECLINED}

# The letter's three examples of exceptional circumstances, and the words that point to each.
REASONS = {
    "absence": ("Prolonged absence (e.g. ill-health)",
                r"\b(sick|sickness|ill|illness|ill-health|unwell|surgery|operation|hospital|signed off|"
                r"absen(ce|t)|maternity|paternity|adoption leave|bereave\w*|compassionate|long[- ]term leave)\b"),
    "other_qa": ("Other quality assurance activity (e.g. multi-agency audits)",
                 r"\b(multi[- ]agency|partnership|jtai|peer review|other (qa|quality assurance)|"
                 r"quality assurance activity|thematic review|lscp|scp)\b"),
    "statutory": ("Unusually high statutory work (e.g. giving evidence at final court hearings)",
                  r"\b(court|hearing|care proceedings|evidence|witness|statutory|tribunal|"
                  r"section 47|s47|child protection conference)\b"),
}
OTHER_LABEL = "Other"


def place_reason(text: str) -> tuple[str, str, bool]:
    """(category, label, outside_examples) for a request's reason, by the letter's three examples."""
    for category, (label, pattern) in REASONS.items():
        if re.search(pattern, text, re.I):
            return category, label, False
    return "other", OTHER_LABEL, True


def months_named(text: str, current: str) -> list[str]:
    """The audit months a request covers: this month, plus later months it names ("until February")."""
    year, month = int(current[:4]), int(current[5:])
    named = []
    for match in MONTH_WORD.finditer(text):
        if match.group(1).lower() == "may" and not match.group(2) and not MONTH_CONTEXT.search(text[:match.start()]):
            continue
        number = _month_number(match.group(1))
        named_year = int(match.group(2)) if match.group(2) else year + (1 if number < month else 0)
        ym = f"{named_year}-{number:02d}"
        if current <= ym <= add_months(current, MAX_MONTHS_AHEAD):
            named.append((ym, bool(UNTIL.search(text[:match.start()]))))
    # Named months are what is asked for ("for December", asked in November); "until February"
    # runs from now; a request that names no month is for the month it was sent in.
    months = set()
    for ym, until in named:
        months.add(ym)
        if until:
            months.update(_span(current, ym))
    return sorted(months or {current})


def _month_number(word: str) -> int:
    return next(i for i, name in enumerate(MONTH_NAMES, start=1) if name.startswith(word.lower()[:3]))


def add_months(ym: str, count: int) -> str:
    """The month `count` months after YYYY-MM."""
    index = int(ym[:4]) * 12 + int(ym[5:]) - 1 + count
    return f"{index // 12}-{index % 12 + 1:02d}"


def _span(start: str, end: str) -> list[str]:
    months, current = [], start
    while current <= end:
        months.append(current)
        current = add_months(current, 1)
    return months


def timing(received_at: datetime, month: str, issued_at: str | None) -> str:
    """"before-issue", "after-issue" or "last-week" (the final seven days of the month, London time)."""
    local = received_at.astimezone(LONDON).date()
    if local.strftime("%Y-%m") == month and local > last_day(month) - timedelta(days=7):
        return "last-week"
    if issued_at is None or received_at < datetime.fromisoformat(issued_at):
        return "before-issue"
    return "after-issue"


def first_state(requester_hos: str, director: str, on_behalf: bool) -> State:
    """Where a new request starts: with the Head of Service, or straight with the Director."""
    if on_behalf or not requester_hos or requester_hos == director:
        return State.AWAITING_DIRECTOR
    return State.AWAITING_HOS


def decide(state: State, intent: Intent) -> State:
    """The next state after a clear decision at `state`; ValueError if the request is not waiting."""
    try:
        return TRANSITIONS[(state, intent)]
    except KeyError:
        raise ValueError(f"an exemption in state {state} cannot take the answer {intent}") from None


KIND = ItemKind(prefix="EXM", name="exemption", table="exemptions", states=State,
                final=frozenset(FINAL), transitions=TRANSITIONS, reading=Reading.DECISION,
                options=lambda record: OPTIONS.get(State(record["state"]), ""), chased=True)
