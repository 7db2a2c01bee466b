"""The durable outbox: mail is stored here first (with the state change that caused it), sent later.

Sending takes a mail out of the outbox and into the month's ledger in one write, so after a crash
unsent mail is sent and sent mail is not sent again.
"""
from tinydb import Query

from db.store import Store

FILE = "outbox"


class OutboxRepo:
    """Mail waiting to be sent."""

    def __init__(self, store: Store):
        self._table = store.table(FILE, "pending")

    def add(self, record: dict) -> None:
        """Store one composed mail (its raw bytes base64-encoded, plus who, what, and why)."""
        self._table.insert(record)

    def pending(self) -> list[dict]:
        """Every mail not yet sent, oldest first."""
        return sorted(self._table.all(), key=lambda r: (r["created_at"], r["message_id"]))

    def remove(self, message_id: str) -> None:
        """Take a sent mail out of the outbox."""
        self._table.remove(Query().message_id == message_id)

    def note_failure(self, message_id: str, error: str) -> int:
        """Record a failed attempt; returns how many attempts have failed so far."""
        row = self._table.get(Query().message_id == message_id)
        attempts = (row or {}).get("attempts", 0) + 1
        self._table.update({"attempts": attempts, "last_error": error}, Query().message_id == message_id)
        return attempts
