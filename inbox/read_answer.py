"""What a reader of a reply makes of it: the reading, and what came with a clear answer."""
from dataclasses import dataclass
from datetime import date

from inbox.intent import Reading
from workflows.answers import Intent


@dataclass(frozen=True)
class ReadAnswer:
    """What a reply's newest text says: the reading, and what came with a clear answer."""

    reading: Reading
    agreed_date: date | None = None  # a capacity Yes carries its date
    grade: str | None = None         # a moderation that changes the grade carries the new grade


def unclear_answer(text: str, reason: str) -> ReadAnswer:
    """An answer that decides nothing, with why."""
    return ReadAnswer(Reading(Intent.UNCLEAR, text, reason))
