"""The ledgers: what has been handled, sent, answered and set aside, one file per calendar month.

A message's handled mark lives in the ledger of the month it was *received*, and a sent mail's record
in the month its Message-ID was made, so every look-up reads one small file, never the whole history. Look-ups by key go through the
table's index (db/tables.py), so the 1,000th message of a month is found as fast as the 1st.
"""
from datetime import datetime

from tinydb import Query

from core.clock import month_of
from core.ids import month_of_message_id
from db.store import Store


def ledger_file(month: str) -> str:
    """The store file name of one month's ledger."""
    return f"ledgers/{month}"


class Ledger:
    """Reads and writes the monthly ledgers."""

    def __init__(self, store: Store):
        self._store = store

    def _table(self, month: str, name: str):
        return self._store.table(ledger_file(month), name)

    # -- messages handled -------------------------------------------------------------
    def is_handled(self, key: str, received_at: datetime) -> bool:
        """Whether the message with this key was already handled (e.g. before a crash)."""
        return self._table(month_of(received_at), "handled").first(key=key) is not None

    def mark_handled(self, key: str, received_at: datetime, record: dict) -> None:
        """Note that a message is handled, with what was decided (no body, no subject)."""
        self._table(month_of(received_at), "handled").insert({"key": key, "received_at": received_at.isoformat(), **record})

    def count_attempt(self, key: str, received_at: datetime) -> int:
        """Add one to the attempts at handling a message; returns the new count."""
        table = self._table(month_of(received_at), "attempts")
        row = table.first(key=key)
        count = (row["count"] if row else 0) + 1
        if row:
            table.update({"count": count}, doc_ids=[row.doc_id])
        else:
            table.insert({"key": key, "count": count})
        return count

    def set_attempts(self, key: str, received_at: datetime, count: int) -> None:
        """Put the attempts at a message back to `count` (0 by `retry`, one less when the store, not the message, failed)."""
        table = self._table(month_of(received_at), "attempts")
        row = table.first(key=key)
        if count <= 0:
            table.remove(Query().key == key)
        elif row:
            table.update({"count": count}, doc_ids=[row.doc_id])
        else:
            table.insert({"key": key, "count": count})

    def attempts(self, key: str, received_at: datetime) -> int:
        """How many times handling a message has started without finishing."""
        row = self._table(month_of(received_at), "attempts").first(key=key)
        return row["count"] if row else 0

    def handled(self, month: str) -> list[dict]:
        """Every message handled that was received in `month`."""
        return self._table(month, "handled").all()

    # -- mail sent ----------------------------------------------------------------------
    def record_sent(self, message_id: str, record: dict) -> None:
        """Remember a sent mail so replies to it can be matched to what it was about."""
        message_id = _bracketed(message_id)
        self._table(month_of_message_id(message_id), "sent").insert({"message_id": message_id, **record})

    def sent_mail(self, message_id: str) -> dict | None:
        """The record of a mail we sent with this Message-ID, or None if it is not ours."""
        message_id = _bracketed(message_id)
        month = month_of_message_id(message_id)
        if month is None or not self._store.has_file(ledger_file(month)):
            return None
        return self._table(month, "sent").first(message_id=message_id)

    def sent(self, month: str) -> list[dict]:
        """Every mail sent whose Message-ID was made in `month`."""
        return self._table(month, "sent").all()

    # -- automatic answers per sender per day (the mail-storm brake) -----------------------
    def answers_today(self, sender: str, day: str) -> int:
        """How many automatic answers went to `sender` on London date `day` (YYYY-MM-DD)."""
        row = self._table(day[:7], "answers").first(sender=sender, day=day)
        return row["count"] if row else 0

    def count_answer(self, sender: str, day: str) -> None:
        """Add one to today's count of automatic answers to `sender`."""
        table = self._table(day[:7], "answers")
        row = table.first(sender=sender, day=day)
        if row:
            table.update({"count": row["count"] + 1}, doc_ids=[row.doc_id])
        else:
            table.insert({"sender": sender, "day": day, "count": 1})

    # -- what a person must look at -------------------------------------------------------
    def add_triage(self, month: str, record: dict) -> None:
        """List something for the QA team: outsiders, unclear mail, failures, refused answers."""
        self._table(month, "triage").insert(record)

    def triage(self, month: str) -> list[dict]:
        """Everything listed for the QA team in `month`."""
        return self._table(month, "triage").all()

    # -- scheduled mail already sent (reminders, digests) -----------------------------------
    def was_done(self, month: str, key: str) -> bool:
        """Whether the scheduled job `key` (e.g. "reminder:10wd:ann@x") already ran."""
        return self._table(month, "done").first(key=key) is not None

    def done_at(self, month: str, key: str) -> datetime | None:
        """When the scheduled job `key` ran, or None if it has not."""
        row = self._table(month, "done").first(key=key)
        return datetime.fromisoformat(row["at"]) if row else None

    def mark_done(self, month: str, key: str, at: datetime) -> None:
        """Record that the scheduled job `key` ran, so it never runs twice."""
        self._table(month, "done").insert({"key": key, "at": at.isoformat()})


def _bracketed(message_id: str) -> str:
    # Parsed headers give ids without brackets, composed mail has them; store and look up one form.
    return f"<{message_id.strip().strip('<>')}>"
