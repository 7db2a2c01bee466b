"""What the digests say, built from plain data: the QA team's each working day, each Head of Service's each week.

A digest is a list of sections, each a title and one-line rows; a section with nothing in it is left
out, and a digest with no sections is not sent. Every row names items by reference only, never a
child. Building is pure: the app gathers the stored records (`app/digests/`), this decides the words.
"""
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from core.clock import LONDON
from workflows import actions
from workflows.calendar import WorkingCalendar, month_deadline
from workflows.figures import allocation_state
from workflows.items import People

# The most rows one section shows: the rest are counted, and `auditmail status` lists them all.
MAX_ROWS = 100


@dataclass(frozen=True)
class Section:
    """One heading of a digest and its rows (`more`: how many rows were left out)."""

    key: str
    title: str
    rows: tuple[str, ...]
    more: int = 0


@dataclass(frozen=True)
class Waiting:
    """An item waiting for someone's answer: its kind, one line about it, who must answer, since when."""

    kind: str
    reference: str
    line: str
    answerers: tuple[str, ...]
    since: datetime


@dataclass
class QaFacts:
    """Everything the QA team's digest is built from (records as stored)."""

    since: datetime                                             # the previous digest (or the window's start)
    now: datetime
    submissions: list[dict] = field(default_factory=list)      # received since
    waiting: list[Waiting] = field(default_factory=list)       # every item of every kind waiting for an answer
    decided: list[dict] = field(default_factory=list)          # {reference, kind, action, by, at}, decided since
    actions: list[dict] = field(default_factory=list)          # remedial actions raised since, or still open
    set_aside: list[dict] = field(default_factory=list)        # letters in the outbox's set-aside list
    triage: list[dict] = field(default_factory=list)           # triage records noted since
    mailbox: str = ""                                           # the shared mailbox's address (its own decisions)


def section(key: str, title: str, rows: list[str]) -> Section | None:
    """A section of at most MAX_ROWS rows, or None when there is nothing to say."""
    if not rows:
        return None
    return Section(key, title, tuple(rows[:MAX_ROWS]), max(0, len(rows) - MAX_ROWS))


# -- the triage list, by what a person must do about each note --------------------------------------
TRIAGE_SECTIONS = {
    "outsiders": "Mail from outside the roster (never answered: check who wrote and why)",
    "unclear": "Mail the service could not understand (the sender was asked again)",
    "failed": "Messages that could not be handled (in failed/: `auditmail retry` brings them back)",
    "refused": "Decisions refused (not from the person asked, or failing the mailbox's checks)",
    "other": "Other notes for the QA team",
}
REFUSED_NOTE = re.compile(r"^[A-Z]{3}-\d{4}-\d{2}-\d{3}: decision from .* refused \(")


def triage_category(record: dict) -> str | None:
    """Which section a triage note belongs in; None for notes another section already shows."""
    note = record.get("note", "")
    if record.get("set_aside") or note.startswith("late submission"):
        return None  # set-aside letters are listed from the outbox, late submissions with the submissions
    if record.get("failed"):
        return "failed"
    if record.get("refused") or note.startswith("bounce from"):
        return "undelivered"
    if note.startswith("mail from ") and "who is not on the roster" in note:
        return "outsiders"
    if note.startswith("unclear mail from"):
        return "unclear"
    if REFUSED_NOTE.match(note):
        return "refused"
    return "other"


# -- the QA team's digest ------------------------------------------------------------------------------
def build_qa_digest(facts: QaFacts, people: People, calendar: WorkingCalendar) -> list[Section]:
    """The QA team's sections, in the order they act on them; empty when there is nothing to say."""
    today = facts.now.astimezone(LONDON).date()
    on_time = [s for s in facts.submissions if s.get("counts")]
    late = [s for s in facts.submissions if not s.get("counts")]
    triage = _triage_rows(facts.triage)
    raised = [a for a in facts.actions if datetime.fromisoformat(a["raised_at"]) > facts.since]
    overdue = [a for a in facts.actions if actions.is_overdue(a, today)]
    sections = [
        section("submissions", "New submissions", [_submission(s, people) for s in on_time]),
        section("late", "Late submissions (recorded, not counted unless an agreed date covers them)",
                [_submission(s, people) for s in late]),
        section("waiting", "Waiting for an answer (oldest first)",
                [_waiting(w, people, calendar, today) for w in sorted(facts.waiting, key=lambda w: w.since)]),
        section("decided", "Decided since the last digest", [_decided(d, people, facts.mailbox) for d in facts.decided]),
        section("actions_raised", "Remedial actions raised", [actions.waiting_line(a, people) for a in raised]),
        section("actions_overdue", "Remedial actions overdue",
                [f"{actions.waiting_line(a, people)}: {_days(_late(a, calendar, today))} late" for a in overdue]),
        section("undelivered", "Letters not delivered or set aside",
                [_set_aside(r) for r in facts.set_aside] + triage.get("undelivered", [])),
        *(section(key, title, triage.get(key, [])) for key, title in TRIAGE_SECTIONS.items()),
    ]
    return [s for s in sections if s is not None]


def _triage_rows(records: list[dict]) -> dict[str, list[str]]:
    """Triage notes by section; the same note many times (a flood of forged replies) is one row with a count."""
    seen: dict[tuple[str, str], list[str]] = {}
    for record in records:
        category = triage_category(record)
        if category:
            seen.setdefault((category, record["note"]), []).append(record["at"])
    rows: dict[str, list[str]] = {}
    for (category, note), times in seen.items():
        count = f" ({len(times)} times, the last at {_time(max(times))})" if len(times) > 1 else ""
        rows.setdefault(category, []).append(f"{_time(min(times))}: {note}{count}")
    return rows


def _submission(s: dict, people: People) -> str:
    again = " (replaces an earlier submission)" if s.get("replaces_earlier") else ""
    return f"{s['reference']}: {s['grade']}, from {people.name(s['from'])} at {_time(s['received_at'])}{again}"


def _waiting(w: Waiting, people: People, calendar: WorkingCalendar, today: date) -> str:
    age = for_how_long(w.since.astimezone(LONDON).date(), today, calendar)
    # A kind's line already names whom it waits on (ItemKind.waiting_line), as `status` shows it: saying
    # it again read "waiting on Gareth Lyle: waiting on Gareth Lyle". A bare reference gets the answerers.
    if w.line != w.reference:
        return f"{w.line} {age}"
    who = ", ".join(people.name(a) for a in w.answerers) or "nobody named"
    return f"{w.reference} ({w.kind}): waiting on {who} {age}"


def for_how_long(since: date, today: date, calendar: WorkingCalendar) -> str:
    """How long something has waited since the day `since`, as a line about it ends: "for 3 working
    days", "since today", or, for less than a working day, the day ("since Sat 05 Dec"): never
    "for 0 working days"."""
    days = calendar.working_days_between(since, today)
    if days > 0:
        return f"for {_days(days)}"
    return "since today" if since >= today else f"since {since:%a %d %b}"


def _decided(d: dict, people: People, mailbox: str) -> str:
    return f"{d['reference']} ({d['kind']}): {d['action']} by {people.decider(d['by'], mailbox)} at {_time(d['at'])}"


def _set_aside(r: dict) -> str:
    about = ", ".join(r.get("refs") or []) or "no reference"
    return (f"a letter ({r['kind']}) about {about} to {', '.join(r['to'])}: {r['last_error']}; "
            f"`auditmail resend {r['message_id']}` sends it again")


def _late(action: dict, calendar: WorkingCalendar, today: date) -> int:
    return calendar.working_days_between(date.fromisoformat(action["due"]), today)


def _days(n: int) -> str:
    return f"{n} working day{'' if n == 1 else 's'}"


def _time(value: str | datetime) -> str:
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{at.astimezone(LONDON):%H:%M %a %d %b}"


# -- a Head of Service's weekly digest ---------------------------------------------------------------
def build_hos_digest(month: str, allocations: list[dict], submissions: dict[str, list[dict]],
                     waiting: list[Waiting], owned: list[dict], people: People, calendar: WorkingCalendar,
                     now: datetime) -> list[Section]:
    """One Head of Service's sections: their staff's audits for `month`, what waits on them, actions they own."""
    today = now.astimezone(LONDON).date()
    done, missing, missed, exempt = [], [], [], []
    for a in sorted(allocations, key=lambda a: (people.name(a["auditor"]), a["reference"])):
        state = allocation_state(a, submissions.get(a["reference"], []))
        who = f"{people.name(a['auditor'])}: {a['reference']} ({a.get('audit_type', 'audit')})"
        if state == "exempt":
            exempt.append(who)
        elif state == "outstanding":
            # Past the deadline that applies (the month's, or a later date the QA team agreed), an audit
            # not received has been missed: it is no longer "not yet submitted".
            extended = a.get("deadline")
            due = datetime.fromisoformat(extended) if extended else month_deadline(month)
            agreed = " (agreed later date)" if extended else ""
            if now > due:
                missed.append(f"{who}, was due {due.astimezone(LONDON):%d %b}{agreed}")
            else:
                missing.append(f"{who}, due {due.astimezone(LONDON):%d %b}{agreed}")
        else:
            latest = submissions[a["reference"]][-1]
            done.append(f"{who}: {latest['grade']}" + ("" if state == "on_time" else ", late (not counted)"))
    sections = [
        section("missed", "Not completed on time (not received by the deadline)", missed),
        section("not_submitted", "Not yet submitted", missing),
        section("submitted", "Submitted", done),
        section("exempt", "Exempt this month", exempt),
        section("waiting", "Waiting on you", [_waiting(w, people, calendar, today) for w in waiting]),
        section("actions", "Remedial actions you own",
                [actions.waiting_line(a, people) + (" - OVERDUE" if actions.is_overdue(a, today) else "")
                 for a in owned]),
    ]
    return [s for s in sections if s is not None]
