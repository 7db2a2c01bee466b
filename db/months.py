"""One audit month as stored: its allocations, the submissions received for them, and when it was issued."""
from typing import Callable

from tinydb import Query

from db.index import OpenIndex
from db.month_files import month_file, stored_months  # noqa: F401 - stored_months: where callers have long found it
from db.store import Store


class MonthRepo:
    """The allocations and submissions of one audit month."""

    def __init__(self, store: Store, month: str):
        self.month = month
        self._index = OpenIndex(store)
        self._meta = store.table(month_file(month), "meta")
        self._allocations = store.table(month_file(month), "allocations")
        self._submissions = store.table(month_file(month), "submissions")

    # -- the month itself -------------------------------------------------------------------
    def issued_at(self) -> str | None:
        """When the month's audits were first issued (ISO-8601), or None if not yet."""
        row = self._meta.get(Query().month == self.month)
        return row["issued_at"] if row else None

    def take_numbers(self, count: int, issued_at: str) -> list[int]:
        """Reserve the next `count` allocation numbers; the first call records the issue date."""
        row = self._meta.get(Query().month == self.month)
        start = row["counter"] if row else 0
        if row:
            self._meta.update({"counter": start + count}, Query().month == self.month)
        else:
            self._meta.insert({"month": self.month, "issued_at": issued_at, "counter": count})
        return list(range(start + 1, start + count + 1))

    def seed(self, purpose: str, make: Callable[[], str]) -> str:
        """The month's random seed for `purpose` (e.g. "moderation"): made by `make()` the first time, then kept."""
        key, row = f"{purpose}_seed", self._meta.get(Query().month == self.month)
        if row and row.get(key):
            return row[key]
        value = make()
        if row:
            self._meta.update({key: value}, Query().month == self.month)
        else:
            self._meta.insert({"month": self.month, "issued_at": None, "counter": 0, key: value})
        return value

    # -- allocations -------------------------------------------------------------------------
    def allocations(self) -> list[dict]:
        """Every allocation of the month, in reference order."""
        return sorted(self._allocations.all(), key=lambda a: a["reference"])

    def allocation(self, reference: str) -> dict | None:
        """One allocation by its reference, or None."""
        return self._allocations.first(reference=reference)

    def add_allocations(self, records: list[dict]) -> None:
        """Store newly issued allocations."""
        self._allocations.insert_multiple(records)
        for record in records:
            self._index.deadline_agreed(self.month, record.get("deadline"))

    def update_allocation(self, reference: str, changes: dict) -> None:
        """Change fields of one allocation (an exemption, an agreed later deadline)."""
        self._allocations.update(changes, Query().reference == reference)
        self._index.deadline_agreed(self.month, changes.get("deadline"))

    # -- submissions -----------------------------------------------------------------------
    def submissions(self, reference: str | None = None) -> list[dict]:
        """Every submission received (for one reference when given), oldest receipt first."""
        rows = self._submissions.where(reference=reference) if reference else self._submissions.all()
        return sorted(rows, key=lambda s: (s["received_at"], s["message_id"] or ""))

    def update_submission(self, reference: str, received_at: str, changes: dict) -> None:
        """Change one recorded submission (known by its reference and receipt time)."""
        ids = [row.doc_id for row in self._submissions.where(reference=reference, received_at=received_at)]
        if ids:
            self._submissions.update(changes, doc_ids=ids)

    def add_submission(self, record: dict) -> None:
        """Record one submission; earlier ones for the same reference stay in the history."""
        self._submissions.insert(record)
