"""The index of what is still in play, so a pass never reads years of settled months to find it.

    data/index.json   open:    {"reference": "EXM-2026-11-003", "kind": "EXM", "month": "2026-11"}
                               one row per item of a kind with final states that is not yet final
                      months:  {"month": "2026-11", "kinds": [...], "latest_deadline": "2026-12-08T..."}
                               the months the index covers, with the latest agreed later date among
                               the month's allocations (None: none agreed)

The index is derived from the month files and written by db/ alone, in the same transaction as the
change it follows (ItemRepo.add/update, MonthRepo.add_allocations/update_allocation): one commit
holds both or neither, so a crash cannot leave them disagreeing. A month the index does not cover
(a store from before the index, a month only just created by `issue`, a kind registered since) is
read once and covered; a store opened read-only covers it in memory only. Rows of purged months are
ignored, and dropped at the next covering write.
"""
from datetime import datetime

from tinydb import Query

from core.reference import Reference
from db.month_files import month_file, stored_months
from db.store import Store
from workflows.items import ItemKind
from workflows.registry import KINDS, kind_of

INDEX = "index"
_EVERY_ROW = Query().noop()


def indexed_kinds() -> list[ItemKind]:
    """The kinds whose open items are indexed: those with final states (an allocation is never final)."""
    return [kind for kind in KINDS.values() if kind.final]


class OpenIndex:
    """Open items by reference and each month's latest agreed deadline, kept beside the month files."""

    def __init__(self, store: Store):
        self._store = store
        self._open = store.table(INDEX, "open")
        self._months = store.table(INDEX, "months")
        self._in_memory: dict[str, dict] = {}  # months covered only in memory (a read-only store)

    # -- reading ---------------------------------------------------------------------------
    def open_references(self, kind: ItemKind) -> list[str]:
        """The references of every open item of `kind`, in reference order (uncovered months read first)."""
        stored, extra = set(stored_months(self._store)), self._cover_missing()
        rows = [r for r in self._open.search(Query().kind == kind.prefix) if r["month"] in stored]
        refs = {r["reference"] for r in rows} | {r["reference"] for r in extra if r["kind"] == kind.prefix}
        return sorted(refs)

    def latest_deadline(self, month: str) -> str | None:
        """The latest agreed later date among the month's allocations (ISO-8601), or None if none was agreed."""
        self._cover_missing()
        row = self._coverage().get(month) or self._in_memory.get(month)
        return row["latest_deadline"] if row else None

    # -- keeping it right, inside the caller's transaction -----------------------------------
    def item_changed(self, record: dict) -> None:
        """Follow one item's new state: listed while open, struck off once final (covered months only)."""
        kind, month = kind_of(record["reference"]), Reference.parse(record["reference"]).month
        if kind is None or not kind.final or month not in self._coverage():
            return  # an uncovered month is read whole when it is first covered
        row = self._open.first(reference=record["reference"])
        if kind.is_final(record):
            if row is not None:
                self._open.remove(doc_ids=[row.doc_id])
        elif row is None:
            self._open.insert({"reference": record["reference"], "kind": kind.prefix, "month": month})

    def deadline_agreed(self, month: str, deadline: str | None) -> None:
        """Follow an allocation's agreed later date: the month's latest one moves on if this one is later."""
        row = self._months.get(Query().month == month)
        if row is not None and deadline and _later(deadline, row["latest_deadline"]):
            self._months.update({"latest_deadline": deadline}, Query().month == month)

    # -- covering months the index has not read yet ------------------------------------------
    def _coverage(self) -> dict[str, dict]:
        """The months the index covers for every indexed kind (a kind registered since makes a month uncovered)."""
        kinds = {k.prefix for k in indexed_kinds()}
        # A search, not all(): TinyDB keeps a search's answer until the table is written, and a daemon's
        # jobs ask many times a pass over years of months.
        return {row["month"]: row for row in self._months.search(_EVERY_ROW) if set(row["kinds"]) >= kinds}

    def _cover_missing(self) -> list[dict]:
        """Read each stored month the index does not cover; persisted when the store is writable."""
        covered = self._coverage()
        missing = [m for m in stored_months(self._store) if m not in covered]
        if not missing:
            return []
        self._in_memory = {}
        rows, months = [], []
        for month in missing:
            found, latest = _read_month(self._store, month)
            rows += found
            months.append({"month": month, "kinds": sorted(k.prefix for k in indexed_kinds()),
                           "latest_deadline": latest})
            self._in_memory[month] = months[-1]
        if self._store.writable:
            # Not fsync'd on its own: it is only what the month files say, and is read again if lost.
            with self._store.transaction(durable=False) if not self._store.in_transaction else _joined():
                self._write_cover(missing, rows, months)
            return []
        return rows

    def _write_cover(self, missing: list[str], rows: list[dict], months: list[dict]) -> None:
        stored = set(stored_months(self._store))
        gone = lambda row: row["month"] in missing or row["month"] not in stored  # noqa: E731 - rewritten or purged
        self._open.remove(doc_ids=[r.doc_id for r in self._open.all() if gone(r)] or [])
        self._months.remove(doc_ids=[r.doc_id for r in self._months.all() if gone(r)] or [])
        self._open.insert_multiple(rows)
        self._months.insert_multiple(months)


def _read_month(store: Store, month: str) -> tuple[list[dict], str | None]:
    """The open rows and the latest agreed deadline of one month, read from its file."""
    rows = []
    for kind in indexed_kinds():
        rows += [{"reference": r["reference"], "kind": kind.prefix, "month": month}
                 for r in store.table(month_file(month), kind.table).all() if not kind.is_final(r)]
    deadlines = [a["deadline"] for a in store.table(month_file(month), "allocations").all() if a.get("deadline")]
    return rows, max(deadlines, key=datetime.fromisoformat, default=None)


def _later(deadline: str, than: str | None) -> bool:
    # Compared as times, not strings: an agreed date may carry +01:00 (BST) or +00:00.
    return than is None or datetime.fromisoformat(deadline) > datetime.fromisoformat(than)


class _joined:
    """Already inside the caller's transaction: the covering writes become part of it."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
