"""Reading a submission's grades and remedial-action lines from what the auditor wrote now.

The caller passes the text with quoted history already removed and the references the email is
about (from its thread or subject). Only a line that *is* a grade counts, optionally with a
"Grade:" label or a reference in front: "It was good to see the plan updated" is not a grade.
What cannot be told is returned as problems, in words the auditor can act on.
"""
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from core.text import one_line


class Grade(StrEnum):
    """Ofsted's four grades."""

    OUTSTANDING = "Outstanding"
    GOOD = "Good"
    REQUIRES_IMPROVEMENT = "Requires improvement"
    INADEQUATE = "Inadequate"


@dataclass(frozen=True)
class GradeLine:
    """One grade found in the text, with the reference written next to it (None when there was none)."""

    reference: str | None
    grade: Grade


@dataclass(frozen=True)
class Remedial:
    """Whether remedial action is needed for the child, and the auditor's own words about it."""

    needed: bool
    details: str


@dataclass(frozen=True)
class SubmissionText:
    """What a submission email said: a grade and remedial line per reference, and what was unclear."""

    grades: dict[str, Grade]
    remedial: dict[str, Remedial]
    problems: list[str]


SPELLINGS = {
    "outstanding": Grade.OUTSTANDING,
    "good": Grade.GOOD,
    "requires improvement": Grade.REQUIRES_IMPROVEMENT,
    "requires improvement to be good": Grade.REQUIRES_IMPROVEMENT,
    "ri": Grade.REQUIRES_IMPROVEMENT,
    "inadequate": Grade.INADEQUATE,
}
ALL_GRADES = ", ".join(g.value for g in Grade)
DASH = r"[-\u2013\u2014]"
AUDIT_REF = re.compile(r"\bAUD-\d{4}-\d{2}-\d{3,}\b", re.I)
# An optional reference at the start of a line: "AUD-2026-11-004:", "[AUD-2026-11-005]", "AUD-… -".
LEAD_REF = re.compile(rf"^\[?(?P<ref>AUD-\d{{4}}-\d{{2}}-\d{{3,}})\]?\s*(?:[:,]|{DASH})?\s*", re.I)
# The label needs a colon or dash before a value we cannot read, so "Grade is hard to call" is prose.
LABEL = re.compile(rf"^(?:(?:overall|final|audit)\s+)?grade\b\s*(?P<sep>:|{DASH}|=)?\s*", re.I)
REMEDIAL = re.compile(
    rf"^(?:any\s+)?remedial(?:\s+actions?)?(?:\s+(?:needed|required))?\s*(?::|\?|{DASH})?\s*"
    rf"(?P<answer>yes|no|none|nil|not needed|not required|not at this time|not at present|not currently|n/?a)"
    rf"\b\s*(?:[:,;.]|{DASH})?\s*(?P<details>.*)$",
    re.I)
# "Sorry - Grade: Outstanding": a labelled grade later in a line still names the grade.
INLINE_LABEL = re.compile(rf"\bgrade\s*(?::|{DASH}|=)\s*", re.I)
# A sentence about remedial action in any other shape is taken as a "yes": a needless alert costs
# a person a minute, a missed one can cost a child. Only a plain negative is let go.
REMEDIAL_MENTION = re.compile(r"\bremedial\b", re.I)
REMEDIAL_NEGATIVE = re.compile(r"\b(no|not any)\s+(\w+\s+){0,2}remedial\b|\bremedial\b[^.?]*\?\s*(no|none|nil)\b|"
                               r"\bremedial(\s+action)?\s+((is|was|are)\s+)?(not|none|unnecessary)\b", re.I)
BULLET = re.compile(r"^(?:[-*\u2022]\s+)+")
# "Grade: Good - child seen" keeps its grade; the words after the first separator are commentary.
COMMENT_SPLIT = re.compile(rf"\s+{DASH}\s+|[,;(]|\.\s")


def parse_grade(value: str) -> Grade | None:
    """The grade a short value names ("good.", "RI", "Requires Improvement To Be Good"), or None."""
    words = value.strip().strip("*_\"'\u201c\u201d").rstrip(".!,;: ").lower()
    words = re.sub(r"\br\.\s*i\b\.?", "ri", words)  # "R.I." is how some write requires improvement
    words = " ".join(words.replace("(", " ").replace(")", " ").split())
    return SPELLINGS.get(words)


def read_submission(text: str, references: Sequence[str],
                    attachment_names: Sequence[str] = ()) -> SubmissionText:
    """Tie each grade and remedial line in the text to an audit reference; list what could not be."""
    problems: list[str] = []
    found: list[GradeLine] = []
    remedial_lines: list[tuple[str | None, Remedial]] = []
    attempted: set[str | None] = set()  # targets that had an unreadable grade, so "no grade" is not said twice
    # An attachment named "AUD-2026-11-004 Good.docx" is read like a line "AUD-2026-11-004 Good".
    named = [n.rsplit(".", 1)[0] for n in attachment_names if AUDIT_REF.search(n)]
    for raw in text.replace("\r\n", "\n").split("\n") + named:
        line = BULLET.sub("", raw.strip()).strip()
        if not line:
            continue
        ref, rest = _lead_reference(line)
        if (match := REMEDIAL.match(rest)):
            remedial_lines.append((ref, _remedial(match)))
            continue
        if REMEDIAL_MENTION.search(rest) and not REMEDIAL_NEGATIVE.search(rest):
            remedial_lines.append((ref, Remedial(True, line)))
            continue
        grade, unreadable = _grade_of(rest)
        if grade:
            found.append(GradeLine(ref, grade))
        elif unreadable:
            problems.append(f"'{one_line(line)}' is not one of {ALL_GRADES}")  # quoted back: capped
            attempted.add(ref)

    audits = list(dict.fromkeys(r.upper() for r in references if AUDIT_REF.fullmatch(r)))
    target = _single_target(audits, attachment_names)
    grades, conflicted = _tie_grades(found, target, len(audits) > 1, problems)
    remedial = _tie_remedial(remedial_lines, target, list(grades), problems)
    if None in attempted and target:
        attempted.add(target)
    # Replying to a letter that lists several audits with the grade of one is a submission of that
    # one; the others are simply not done yet. Only an email with no grade at all lacks one.
    if not grades:
        for ref in audits or ([target] if target else []):
            if ref not in attempted | conflicted:
                problems.append(f"no grade was found for {ref}")
    if not audits and not target and not found and not attempted:
        problems.append("no grade was found")
    return SubmissionText(grades, remedial, problems)


def has_grade_line(text: str) -> bool:
    """Whether any line of the text gives a grade (readable or not), as a submission would."""
    for raw in text.replace("\r\n", "\n").split("\n"):
        line = BULLET.sub("", raw.strip()).strip()
        if line and not REMEDIAL.match(_lead_reference(line)[1]):
            grade, unreadable = _grade_of(_lead_reference(line)[1])
            if grade or unreadable:
                return True
    return False


def _lead_reference(line: str) -> tuple[str | None, str]:
    match = LEAD_REF.match(line)
    return (match.group("ref").upper(), line[match.end():]) if match else (None, line)


def _grade_of(rest: str) -> tuple[Grade | None, bool]:
    """The grade on a line, and whether the line was labelled as a grade we could not read."""
    label = LABEL.match(rest)
    if not label:
        inline = INLINE_LABEL.search(rest)
        if inline:
            value = rest[inline.end():]
            return parse_grade(value) or parse_grade(COMMENT_SPLIT.split(value, maxsplit=1)[0]), False
        return parse_grade(rest), False
    value = rest[label.end():]
    grade = parse_grade(value) or parse_grade(COMMENT_SPLIT.split(value, maxsplit=1)[0])
    if grade:
        return grade, False
    # Without a colon or dash "Grade" may start a sentence; with one it was meant as the grade.
    return None, bool(label.group("sep") and value.strip())


def _remedial(match: re.Match) -> Remedial:
    needed = match.group("answer").lower() == "yes"
    return Remedial(needed, match.group("details").strip() if needed else "")


def _single_target(audits: list[str], attachment_names: Sequence[str]) -> str | None:
    """The one audit an unreferenced grade can belong to, or None when that cannot be told."""
    if len(audits) == 1:
        return audits[0]
    # A fresh email with no reference in its subject may still attach "AUD-2026-11-011 audit tool.docx".
    attached = list(dict.fromkeys(m.upper() for n in attachment_names for m in AUDIT_REF.findall(n)))
    if not audits and len(attached) == 1:
        return attached[0]
    return None


def _tie_grades(found: list[GradeLine], target: str | None, several: bool,
                problems: list[str]) -> tuple[dict[str, Grade], set[str]]:
    by_ref: dict[str, list[Grade]] = {}
    if not target and any(line.reference is None for line in found):
        problems.append("several audits are named; please give each grade next to its reference"
                        if several else
                        "a grade was found but not which audit it is for; please give the audit's "
                        "reference in square brackets, as in the subject of your allocation letter")
    for line in found:
        ref = line.reference or target
        if ref and line.grade not in by_ref.setdefault(ref, []):
            by_ref[ref].append(line.grade)
    grades: dict[str, Grade] = {}
    conflicted: set[str] = set()
    for ref, given in by_ref.items():
        if len(given) == 1:
            grades[ref] = given[0]
        else:
            conflicted.add(ref)
            count = "two" if len(given) == 2 else str(len(given))
            problems.append(f"{count} different grades were given for {ref} "
                            f"({', '.join(g.value for g in given)}); please say which one stands")
    return grades, conflicted


def _tie_remedial(lines: list[tuple[str | None, Remedial]], target: str | None, graded: list[str],
                  problems: list[str]) -> dict[str, Remedial]:
    remedial: dict[str, Remedial] = {}
    for ref, answer in lines:
        refs = [ref or target] if (ref or target) else list(graded)
        if not refs:
            problems.append("a remedial action line does not say which audit it is for; "
                            "please put the reference in front of it")
        for ref in refs:
            # A "yes" that names no audit among several is raised for each of them: a needless
            # alert costs a person a minute, a missed one can cost a child.
            _add_remedial(remedial, ref, answer)
    return remedial


def _add_remedial(remedial: dict[str, Remedial], ref: str, answer: Remedial) -> None:
    if ref in remedial:
        # Two answers about one child: any "yes" wins, and every detail given is kept.
        before = remedial[ref]
        details = "; ".join(d for d in (before.details, answer.details) if d)
        remedial[ref] = Remedial(before.needed or answer.needed, details)
    else:
        remedial[ref] = answer
