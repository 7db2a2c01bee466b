"""The durable outbox: mail is stored here first (with the state change that caused it), sent later.

    outbox.json
      pending     letters to send; each with attempts, next_attempt_at and last_error
      set_aside   letters the server refused for good, or would not take after many tries;
                  they wait for a person (`auditmail resend`), never retried on their own
      state       whether sending as a whole is paused (the server is down, throttling us, or
                  refusing every letter), until when and why

Sending takes a mail out of the outbox and into the month's ledger in one write, so after a crash
unsent mail is sent and sent mail is not sent again.

A record holds a letter's metadata; the letter itself travels in the log with it and, if still
waiting at the fold, is kept as a file in the spool (db/spool.py). Only this module and the spool
know how; callers give `add` the bytes and read them back with `raw`.
"""
from datetime import datetime

from tinydb import Query

from core.errors import StoreUnusable
from db.check import Damaged
from db.spool import encoded
from db.store import Store

FILE = "outbox"


class OutboxRepo:
    """Mail waiting to be sent, and mail set aside for a person."""

    def __init__(self, store: Store):
        self._table = store.table(FILE, "pending")
        self._aside = store.table(FILE, "set_aside")
        self._state = store.table(FILE, "state")
        self._spool = store.spool

    def add(self, *records: dict) -> None:
        """Store composed mail: each its bytes (`raw`), plus who, what, and why (any number in one table write)."""
        if not records:
            return
        rows = [{"attempts": 0, "next_attempt_at": None, "last_error": None, **record, "raw": encoded(record["raw"])}
                for record in records]
        self._table.insert_multiple(rows)
        for row, record in zip(rows, records):
            self._spool.hold(row["message_id"], row["raw"], record["raw"])  # read back without decoding

    def raw(self, record: dict) -> bytes:
        """The bytes of a stored mail (pending or set aside); StoreUnusable, naming it, if its spool file is lost."""
        try:
            return self._spool.read(record)
        except Damaged as exc:
            raise StoreUnusable(f"the store is damaged: {exc}; restore the store from a backup "
                                "(`auditmail restore`)") from None

    def pending(self) -> list[dict]:
        """Every mail not yet sent, oldest first."""
        return sorted(self._table.all(), key=lambda r: (r["created_at"], r["message_id"]))

    def due(self, now: datetime) -> list[dict]:
        """The mail whose next attempt is due at `now` (new mail is due at once), oldest first."""
        return [r for r in self.pending()
                if not r.get("next_attempt_at") or datetime.fromisoformat(r["next_attempt_at"]) <= now]

    def remove(self, *message_ids: str) -> None:
        """Take sent mail out of the outbox: any number of letters in one write, each found by its key.

        The table's index (db/tables.py) finds each letter, so a pass that sent 150 letters removes them
        without 150 scans of the outbox (a TinyDB query tests every record: ~0.04 s for 150 letters).
        """
        doc_ids = [doc.doc_id for message_id in message_ids for doc in self._table.where(message_id=message_id)]
        if doc_ids:
            self._table.remove(doc_ids=doc_ids)
        self._spool.let_go(message_ids)

    def note_failure(self, message_id: str, error: str, next_attempt_at: datetime | None, *, counts: bool = True) -> int:
        """Record a failed attempt and when to try again; returns how many attempts have counted so far.

        An attempt that `counts` is one against the letter itself; one that failed only because the
        server could not be reached says nothing about the letter and does not bring it nearer to
        being set aside.
        """
        row = self._table.get(Query().message_id == message_id) or {}
        attempts = row.get("attempts", 0) + (1 if counts else 0)
        self._table.update({"attempts": attempts, "last_error": error,
                            "next_attempt_at": next_attempt_at.isoformat() if next_attempt_at else None},
                           Query().message_id == message_id)
        return attempts

    # -- set aside for a person ----------------------------------------------------------------
    def set_aside(self, message_id: str, reason: str, at: datetime) -> dict | None:
        """Move a letter from the outbox to the set-aside list; returns it (None if it was not pending)."""
        row = self._table.get(Query().message_id == message_id)
        if row is None:
            return None
        record = {**row, "last_error": reason, "set_aside_at": at.isoformat(), "next_attempt_at": None}
        self._aside.insert(record)
        self._table.remove(Query().message_id == message_id)
        return record

    def set_aside_letters(self) -> list[dict]:
        """Every letter set aside, oldest first."""
        return sorted(self._aside.all(), key=lambda r: (r["set_aside_at"], r["message_id"]))

    def put_back(self, message_id: str | None = None) -> list[dict]:
        """Return one set-aside letter (or all, when `message_id` is None) to the outbox, due at once, tries reset."""
        rows = self.set_aside_letters() if message_id is None else self._aside.search(Query().message_id == message_id)
        for row in rows:
            record = {k: v for k, v in row.items() if k != "set_aside_at"}
            self._table.insert({**record, "attempts": 0, "next_attempt_at": None})
            self._aside.remove(Query().message_id == row["message_id"])
        return rows

    # -- sending paused: the server, not a letter, is the trouble ---------------------------------
    def pause(self, until: datetime, reason: str, failures: int) -> None:
        """Hold all sending until `until`; `failures` counts the pauses in a row, so the next can be longer."""
        self._state.upsert({"key": "pause", "until": until.isoformat(), "reason": reason, "failures": failures},
                           Query().key == "pause")

    def paused(self) -> dict | None:
        """The current pause (until, reason, failures), or None when sending is not paused."""
        return self._state.get(Query().key == "pause")

    def resume(self) -> None:
        """Sending works again (a letter went, or a person asked to resend)."""
        if self.paused():
            self._state.remove(Query().key == "pause")
