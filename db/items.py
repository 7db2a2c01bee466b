"""Items of every registered kind as stored: each in the file of the month its reference names.

An item's table comes from its kind (`workflows/registry.py`), so a new kind needs no change here.
Every add and update also keeps the index of open items (db/index.py) in the same transaction, so
finding what is open reads the few months that hold it, never every month ever written.
"""
from tinydb import Query

from core.reference import Reference
from db.index import OpenIndex
from db.month_files import month_file, stored_months
from db.store import Store
from workflows.items import ItemKind
from workflows.registry import kind_of


class ItemRepo:
    """Stored items of any registered kind, each with its state and history."""

    def __init__(self, store: Store):
        self._store = store

    def _table(self, reference: str):
        kind, ref = kind_of(reference), Reference.parse(reference)
        return self._store.table(month_file(ref.month), kind.table)

    def next_reference(self, kind: ItemKind, month: str) -> str:
        """A new reference of `kind` in `month`: PREFIX-YYYY-MM-NNN."""
        counters = self._store.table(month_file(month), "counters")
        row = counters.get(Query().kind == kind.prefix)
        number = (row["count"] if row else 0) + 1
        if row:
            counters.update({"count": number}, Query().kind == kind.prefix)
        else:
            counters.insert({"kind": kind.prefix, "count": number})
        return str(Reference(kind.prefix, month, number))

    def add(self, record: dict) -> None:
        """Store a new item (its kind is read off its reference)."""
        self._table(record["reference"]).insert(record)
        OpenIndex(self._store).item_changed(record)

    def get(self, reference: str) -> dict | None:
        """One item by its reference, or None (also for a reference of no registered kind)."""
        ref = Reference.read(reference)
        if ref is None or kind_of(reference) is None or not self._store.has_file(month_file(ref.month)):
            return None
        return self._table(reference).first(reference=str(ref))

    def update(self, reference: str, changes: dict, event: dict | None = None) -> None:
        """Change an item, adding `event` (who, when, what, from which Message-ID) to its history."""
        table = self._table(reference)
        record = table.first(reference=reference)  # through the table's index: no scan of the month
        if record is None:
            if event:
                raise LookupError(f"no item {reference} to change")
            return
        if event:
            changes = {**changes, "history": record.get("history", []) + [dict(event)]}
        table.update(dict(changes), doc_ids=[record.doc_id])
        record = table.get(doc_id=record.doc_id)
        if record is not None:
            OpenIndex(self._store).item_changed(record)

    def all(self, kind: ItemKind, months: list[str] | None = None) -> list[dict]:
        """Every item of one kind in the given months (None: all months; an empty list: none), in reference order."""
        rows = []
        for month in stored_months(self._store) if months is None else months:
            rows += self._store.table(month_file(month), kind.table).all()
        return sorted(rows, key=lambda r: r["reference"])

    def open_items(self, kind: ItemKind) -> list[dict]:
        """Every item of one kind not yet final, in reference order: read through the index of open items."""
        if not kind.final:  # never final (an allocation): every one is open, and none is indexed
            return self.all(kind)
        rows = (self.get(reference) for reference in OpenIndex(self._store).open_references(kind))
        return [r for r in rows if r is not None and not kind.is_final(r)]
