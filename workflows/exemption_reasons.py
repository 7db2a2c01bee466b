"""An exemption request's words, read: which of the letter's examples it falls under, and which months it covers.

The letter names three examples of exceptional circumstances; a reason outside them may still be
asked for and is flagged to the approvers. A request covers the month it is made in, or the months
it names ("for December", "until the end of February").
"""
import re

EXEMPTION_WORDS = re.compile(r"\bexempt(ion)?s?\b", re.I)
MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]
MONTH_WORD = re.compile(r"\b(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
                        r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b(?:\s+(20\d\d))?", re.I)
# "May" is a month only beside a preposition or a year ("until May", "May 2027"), not "I may need".
MONTH_CONTEXT = re.compile(r"\b(in|for|until|till|to|through|throughout|during|of|and|end of|from)\s*$", re.I)
# A month named further ahead than this is more likely a past month ("my surgery in November").
MAX_MONTHS_AHEAD = 6
UNTIL = re.compile(r"\b(until|till|to|through|-)\s*(the end of\s+|\d{1,2}(st|nd|rd|th)?\s+(of\s+)?)?$", re.I)


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


def opening(text: str, lines: int = 3) -> str:
    """The first few non-empty lines of a text, where a request says what it is."""
    return "\n".join([line for line in text.splitlines() if line.strip()][:lines])
