"""A moderator's reply: "Agree", or "Grade: <grade>" with a comment saying why."""
import re
from datetime import date

from inbox.intent import AMONG_QUOTES, Reading, normalise, read_decision, with_remarks
from inbox.read_answer import ReadAnswer, unclear_answer
from inbox.signature import skip_greeting, strip_signature
from workflows.answers import Intent
from workflows.grades import ALL_GRADES, COMMENT_SPLIT, parse_grade

# --- moderation: "Agree", or "Grade: <grade>" with a comment -------------------------------------
# A line that gives a grade: "Grade: Good", "Moderated grade - RI", "New grade = Outstanding".
GRADE_LINE = re.compile(r"^\s*(?:(?:new|moderated|my)\s+)?grade\s*(?::|[-\u2013\u2014=])\s*(?P<value>.+?)\s*$", re.I)
NO_COMMENT = "a new grade needs a comment saying why, on the lines below the Grade line"
# Words that make an Agree something less than agreeing the grade: partly, not yet, a promise to look,
# the grade called wrong, or another grade preferred ("I agree it needs looking at, will review next
# week", "Agree the grade is wrong", "Agree in part"). The moderator is asked again instead.
_NOT_PLAIN_AGREE = re.compile(r"\b(?:wrong|part|partly|partially|mostly|largely|but|however|although|though|not|"
                              r"disagree|moderate|moderating|look|looking|review|reviewing|read|will|later|next|"
                              r"tomorrow|should\s+be|more\s+like|instead|rather|except|unless|if)\b|n't\b", re.I)
NOT_PLAIN_AGREE = "the Agree came with words that may change or put off the answer"
DISAGREE = "to change the grade, reply Grade: <grade> on the first line and why on the lines below"


def read_moderation(text: str, remark_text: str, today: date) -> ReadAnswer:
    """Read a moderator's reply: Agree (YES), or a new grade with a comment (NO, carrying the grade)."""
    # The sign-off goes first, while the answer line still stands above it ("Kind regards" is no comment).
    lines = strip_signature(skip_greeting(normalise(text))).split("\n")
    found = [(i, _grade_and_rest(m["value"])) for i, line in enumerate(lines) if (m := GRADE_LINE.match(line))]
    among_quotes = [m for line in normalise(remark_text).split("\n") if (m := GRADE_LINE.match(line))]
    if not found:
        if among_quotes:  # a grade typed among the quoted lines: never guessed at
            return unclear_answer(text, AMONG_QUOTES)
        reading = with_remarks(read_decision(text), remark_text)
        if reading.intent is Intent.NO:
            return unclear_answer(text, DISAGREE)
        if reading.intent is Intent.YES and _NOT_PLAIN_AGREE.search("\n".join(lines)):
            return unclear_answer(text, NOT_PLAIN_AGREE)
        return ReadAnswer(reading)
    if any(grade is None for _, (grade, _) in found):
        value = next(GRADE_LINE.match(lines[i])["value"] for i, (grade, _) in found if grade is None)
        return unclear_answer(text, f'"{value}" is not a grade (the grades are {ALL_GRADES})')
    grades = {grade for _, (grade, _) in found}
    if len(grades) > 1 or any(_grade_and_rest(m["value"])[0] not in grades for m in among_quotes):
        return unclear_answer(text, "more than one grade was given")
    first = found[0][0]
    if read_decision("\n".join(lines[:first])).intent is Intent.YES:
        return unclear_answer(text, "the reply both agrees and gives a new grade")
    grade_lines = {i for i, _ in found}
    comment = "\n".join([rest for _, (_, rest) in found if rest]
                        + [line for i, line in enumerate(lines) if i not in grade_lines])
    comment = comment.strip()
    if not comment:
        return unclear_answer(text, NO_COMMENT)
    return ReadAnswer(Reading(Intent.NO, comment), grade=grades.pop().value)


def _grade_and_rest(value: str):
    # "Good", or "Good - the plan is now clear": the grade, and a comment written beside it.
    grade = parse_grade(value)
    if grade is not None:
        return grade, ""
    head, *rest = COMMENT_SPLIT.split(value, maxsplit=1)
    return parse_grade(head), (rest[0].strip() if rest else "")
