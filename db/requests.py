"""Exemption requests and slippage notices as stored, in the file of the month they were made in."""
from tinydb import Query

from db.months import month_file, stored_months
from db.store import Store
from workflows import exemptions, slippage

TABLES = {"EXM": "exemptions", "SLP": "slippage"}
FINAL = {"EXM": exemptions.FINAL, "SLP": slippage.FINAL}

# (month file path, kind) -> the file's stamp when every request of that kind in it was settled.
# A settled request never changes again, so a pass need not re-read years of months to find the
# few still open: a month is read again only once its file has changed.
_settled: dict[tuple[str, str], tuple] = {}


class RequestRepo:
    """Exemptions (EXM-…) and slippage notices (SLP-…), each with its state and history."""

    def __init__(self, store: Store):
        self._store = store

    def _table(self, reference: str):
        return self._store.table(month_file(reference[4:11]), TABLES[reference[:3]])

    def next_reference(self, kind: str, month: str) -> str:
        """A new reference EXM-YYYY-MM-NNN or SLP-YYYY-MM-NNN."""
        counters = self._store.table(month_file(month), "counters")
        row = counters.get(Query().kind == kind)
        number = (row["count"] if row else 0) + 1
        if row:
            counters.update({"count": number}, Query().kind == kind)
        else:
            counters.insert({"kind": kind, "count": number})
        return f"{kind}-{month}-{number:03d}"

    def add(self, record: dict) -> None:
        """Store a new request."""
        self._table(record["reference"]).insert(record)

    def get(self, reference: str) -> dict | None:
        """One request by its reference, or None."""
        if reference[:3] not in TABLES or not self._store.has_file(month_file(reference[4:11])):
            return None
        return self._table(reference).get(Query().reference == reference)

    def update(self, reference: str, changes: dict, event: dict | None = None) -> None:
        """Change a request, adding `event` (who, when, what, from which Message-ID) to its history."""
        table = self._table(reference)
        if event:
            record = table.get(Query().reference == reference)
            changes = {**changes, "history": record["history"] + [event]}
        table.update(changes, Query().reference == reference)

    def all(self, kind: str, months: list[str] | None = None) -> list[dict]:
        """Every request of one kind ("EXM" or "SLP") in the given months (default: all months)."""
        rows = []
        for month in months or stored_months(self._store):
            rows += self._store.table(month_file(month), TABLES[kind]).all()
        return sorted(rows, key=lambda r: r["reference"])

    def open_requests(self, kind: str) -> list[dict]:
        """Every request of one kind not yet settled, skipping months known to hold none (unchanged since)."""
        rows = []
        for month in stored_months(self._store):
            key = (str(self._store.folder / f"{month_file(month)}.json"), kind)
            stamp = self._store.file_stamp(month_file(month))
            if stamp is not None and _settled.get(key) == stamp:
                continue
            waiting = [r for r in self._store.table(month_file(month), TABLES[kind]).all()
                       if r["state"] not in FINAL[kind]]
            rows += waiting
            if stamp is not None and not waiting:
                _settled[key] = stamp
        return sorted(rows, key=lambda r: r["reference"])
