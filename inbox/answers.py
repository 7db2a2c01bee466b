"""One reader for each way an item is answered by reply (`workflows.items.Reading`), behind one call.

A kind of item names how its replies are read; the generic reply handler (`app/replies.py`) calls
`read_answer` and never needs to know which reader that is. A reader returns UNCLEAR with a reason
whenever it cannot read the answer with confidence: an unclear reply decides nothing.
"""
from datetime import date
from typing import Callable

from inbox.done_reply import read_done_answer
from inbox.intent import Reading, read_capacity, read_decision, with_remarks
from inbox.moderation_reply import read_moderation
from inbox.read_answer import ReadAnswer
from inbox.send_reply import read_send
from workflows.answers import Intent
from workflows.items import Reading as How


def _decision(text: str, remark_text: str, today: date) -> ReadAnswer:
    return ReadAnswer(with_remarks(read_decision(text), remark_text))


def _capacity(text: str, remark_text: str, today: date) -> ReadAnswer:
    reading, agreed = read_capacity(text, today)
    reading = with_remarks(reading, remark_text, capacity=True)
    return ReadAnswer(reading, agreed if reading.intent is Intent.YES else None)


# How -> reader(newest text, remarks typed among the quoted lines, today). A kind whose reading has no
# reader here is never decided by reply: its answers read as unclear (see read_answer).
READERS: dict[How, Callable[[str, str, date], ReadAnswer]] = {
    How.DECISION: _decision,
    How.CAPACITY: _capacity,
    How.MODERATION: read_moderation,
    How.SEND: read_send,
    How.DONE: read_done_answer,
}


def read_answer(how: How, text: str, remark_text: str, today: date) -> ReadAnswer:
    """Read a reply's newest text (and the remarks among its quoted lines) the way `how` says."""
    reader = READERS.get(how)
    if reader is None:
        return ReadAnswer(Reading(Intent.UNCLEAR, text, "this kind of item cannot be answered by reply"))
    return reader(text, remark_text, today)
