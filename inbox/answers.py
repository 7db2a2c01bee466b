"""One reader for each way an item is answered by reply (`workflows.items.Reading`), behind one call.

A kind of item names how its replies are read; the generic reply handler (`app/replies.py`) calls
`read_answer` and never needs to know which reader that is. A reader returns UNCLEAR with a reason
whenever it cannot read the answer with confidence: an unclear reply decides nothing.
"""
import re
from dataclasses import dataclass
from datetime import date
from typing import Callable

from inbox.intent import AMONG_QUOTES, Reading, normalise, read_capacity, read_decision, with_remarks
from inbox.signature import skip_greeting, strip_signature
from workflows.answers import Intent
from workflows.grades import ALL_GRADES, COMMENT_SPLIT, parse_grade
from workflows.items import Reading as How


@dataclass(frozen=True)
class ReadAnswer:
    """What a reply's newest text says: the reading, and what came with a clear answer."""

    reading: Reading
    agreed_date: date | None = None  # a capacity Yes carries its date
    grade: str | None = None         # a moderation that changes the grade carries the new grade


def _decision(text: str, remark_text: str, today: date) -> ReadAnswer:
    return ReadAnswer(with_remarks(read_decision(text), remark_text))


def _capacity(text: str, remark_text: str, today: date) -> ReadAnswer:
    reading, agreed = read_capacity(text, today)
    reading = with_remarks(reading, remark_text, capacity=True)
    return ReadAnswer(reading, agreed if reading.intent is Intent.YES else None)


# --- moderation: "Agree", or "Grade: <grade>" with a comment -------------------------------------
# A line that gives a grade: "Grade: Good", "Moderated grade - RI", "New grade = Outstanding".
GRADE_LINE = re.compile(r"^\s*(?:(?:new|moderated|my)\s+)?grade\s*(?::|[-\u2013\u2014=])\s*(?P<value>.+?)\s*$", re.I)
NO_COMMENT = "a new grade needs a comment saying why, on the lines below the Grade line"
DISAGREE = "to change the grade, reply Grade: <grade> on the first line and why on the lines below"


def read_moderation(text: str, remark_text: str, today: date) -> ReadAnswer:
    """Read a moderator's reply: Agree (YES), or a new grade with a comment (NO, carrying the grade)."""
    # The sign-off goes first, while the answer line still stands above it ("Kind regards" is no comment).
    lines = strip_signature(skip_greeting(normalise(text))).split("\n")
    found = [(i, _grade_and_rest(m["value"])) for i, line in enumerate(lines) if (m := GRADE_LINE.match(line))]
    among_quotes = [m for line in normalise(remark_text).split("\n") if (m := GRADE_LINE.match(line))]
    if not found:
        if among_quotes:  # a grade typed among the quoted lines: never guessed at
            return _unclear(text, AMONG_QUOTES)
        reading = with_remarks(read_decision(text), remark_text)
        return _unclear(text, DISAGREE) if reading.intent is Intent.NO else ReadAnswer(reading)
    if any(grade is None for _, (grade, _) in found):
        value = next(GRADE_LINE.match(lines[i])["value"] for i, (grade, _) in found if grade is None)
        return _unclear(text, f'"{value}" is not a grade (the grades are {ALL_GRADES})')
    grades = {grade for _, (grade, _) in found}
    if len(grades) > 1 or any(_grade_and_rest(m["value"])[0] not in grades for m in among_quotes):
        return _unclear(text, "more than one grade was given")
    first = found[0][0]
    if read_decision("\n".join(lines[:first])).intent is Intent.YES:
        return _unclear(text, "the reply both agrees and gives a new grade")
    grade_lines = {i for i, _ in found}
    comment = "\n".join([rest for _, (_, rest) in found if rest]
                        + [line for i, line in enumerate(lines) if i not in grade_lines])
    comment = comment.strip()
    if not comment:
        return _unclear(text, NO_COMMENT)
    return ReadAnswer(Reading(Intent.NO, comment), grade=grades.pop().value)


def _grade_and_rest(value: str):
    # "Good", or "Good - the plan is now clear": the grade, and a comment written beside it.
    grade = parse_grade(value)
    if grade is not None:
        return grade, ""
    head, *rest = COMMENT_SPLIT.split(value, maxsplit=1)
    return parse_grade(head), (rest[0].strip() if rest else "")


def _unclear(text: str, reason: str) -> ReadAnswer:
    return ReadAnswer(Reading(Intent.UNCLEAR, text, reason))


# -- Send / Don't send: the Director's word on the draft letter to all staff ----------------------------
# Strict on purpose: a letter to every member of staff goes out on this answer, so only a plain
# "Send" (or "Don't send") on the first line of the reply decides; anything else asks again.
_SEND = re.compile(r"(?:yes|ok|okay)?[\s,.!-]*(?:please\s+)?(?:send it out|send the letter|send it|send|"
                   r"go ahead and send(?: it)?|happy (?:for you )?to send(?: it)?)(?:\s+please)?", re.I)
_DONT_SEND = re.compile(r"(?:no)?[\s,.!-]*(?:please\s+)?(?:don't|do not|dont)\s+send(?:\s+it)?(?:\s+please)?"
                        r"|not to be sent", re.I)
# What may follow the answer on its line: the end, or a full stop, dash or colon before a remark.
_SENTENCE_END = re.compile(r"\s*(?:[.!]+|\s[-–—]|:|$)\s*")


def _send(text: str, remark_text: str, today: date) -> ReadAnswer:
    body = skip_greeting(strip_signature(normalise(text)))
    lines = [line.strip() for line in body.split("\n") if line.strip()]
    first = lines[0] if lines else ""
    intent, rest = Intent.UNCLEAR, ""
    for pattern, found in ((_DONT_SEND, Intent.NO), (_SEND, Intent.YES)):
        match = pattern.match(first)
        end = match and _SENTENCE_END.match(first, match.end())
        if match and end and (end.end() == len(first) or end.group().strip()):
            intent, rest = found, first[end.end():]
            break
    comment = "\n".join([rest, *lines[1:]]).strip()
    if intent is Intent.UNCLEAR:
        reason = "the first line of the reply was not Send or Don't send" if first else "the reply was empty"
        return ReadAnswer(Reading(Intent.UNCLEAR, body, reason))
    if remark_text.strip() and _send(remark_text, "", today).reading.intent not in (Intent.UNCLEAR, intent):
        return ReadAnswer(Reading(Intent.UNCLEAR, body, AMONG_QUOTES))
    return ReadAnswer(Reading(intent, comment))


# How -> reader(newest text, remarks typed among the quoted lines, today). A kind whose reading has no
# reader here is never decided by reply: its answers read as unclear (see read_answer).
READERS: dict[How, Callable[[str, str, date], ReadAnswer]] = {
    How.DECISION: _decision,
    How.CAPACITY: _capacity,
    How.MODERATION: read_moderation,
    How.SEND: _send,
}


def read_answer(how: How, text: str, remark_text: str, today: date) -> ReadAnswer:
    """Read a reply's newest text (and the remarks among its quoted lines) the way `how` says."""
    reader = READERS.get(how)
    if reader is None:
        return ReadAnswer(Reading(Intent.UNCLEAR, text, "this kind of item cannot be answered by reply"))
    return reader(text, remark_text, today)
