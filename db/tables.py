"""A TinyDB table whose cost per write and per look-up does not grow with the table.

TinyDB answers `get(Query().key == k)` by testing every record, and makes each write by copying the
whole table twice (to integer ids and back). Over a month-end surge the ledger's handled, attempts
and sent tables grow by one record a message, so the 1,000th message paid for the 999 before it.

`IndexedTable` keeps TinyDB as the query layer and changes two things underneath it:
- a write edits the stored table in place, through a view that gives TinyDB's own update code the
  integer ids it expects (no copies);
- `first(key=value, ...)` (and `where`, every such record) finds a record through an index of those fields, built on first use and
  kept up to date by every write through this table. The index belongs to one table object (the
  store makes one per file and table) and to the very dict it was built from: when the storage
  reads its data again (a rollback, a reload), the table dict is a new one and the index is rebuilt.
"""
from collections.abc import MutableMapping

from tinydb.table import Document, Table


class _IdView(MutableMapping):
    """The stored {"1": record} dict seen as {1: record}, noting every id TinyDB touches."""

    def __init__(self, raw: dict):
        self.raw, self.touched = raw, set()

    def __getitem__(self, doc_id):
        self.touched.add(str(doc_id))  # TinyDB's update edits the record it gets, in place
        return self.raw[str(doc_id)]

    def __setitem__(self, doc_id, record):
        self.touched.add(str(doc_id))
        self.raw[str(doc_id)] = record

    def __delitem__(self, doc_id):
        self.touched.add(str(doc_id))
        del self.raw[str(doc_id)]

    def __contains__(self, doc_id):
        return str(doc_id) in self.raw

    def __iter__(self):
        return (int(doc_id) for doc_id in list(self.raw))

    def __len__(self):
        return len(self.raw)

    def clear(self):
        self.touched.update(self.raw)
        self.raw.clear()


class IndexedTable(Table):
    """A TinyDB table written in place, with `first(**fields)` answered from an index."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # For each set of field names: (values -> ids in table order, id -> its values).
        self._indexes: dict[tuple[str, ...], tuple[dict[tuple, list[str]], dict[str, tuple]]] = {}
        self._indexed_raw: dict | None = None  # the stored table the indexes describe

    def first(self, **fields) -> Document | None:
        """The first record (in table order) whose fields equal `fields`, as `get(Query()...)` would find it."""
        raw, ids = self._matching(fields)
        if not ids:
            return None
        doc_id = ids[0] if len(ids) == 1 else min(ids, key=list(raw).index)
        return self.document_class(raw[doc_id], self.document_id_class(doc_id))

    def where(self, **fields) -> list[Document]:
        """Every record whose fields equal `fields`, in id order, as `search(Query()...)` finds them: the
        submissions of one reference without testing every submission of the month."""
        raw, ids = self._matching(fields)
        return [self.document_class(raw[i], self.document_id_class(i)) for i in sorted(ids or (), key=int)]

    def _matching(self, fields: dict) -> tuple[dict, list[str] | None]:
        """The stored table and the ids of its records whose fields equal `fields` (through the index)."""
        raw = self._raw()
        if raw is not self._indexed_raw:
            self._indexes, self._indexed_raw = {}, raw  # read again since: what was indexed is gone
        names = tuple(sorted(fields))
        index = self._indexes.get(names)
        if index is None:
            index = self._indexes[names] = ({}, {})
            for doc_id, record in raw.items():
                _add(index, names, doc_id, record)
        return raw, index[0].get(tuple(fields[name] for name in names))

    def _raw(self) -> dict:
        tables = self._storage.read()
        return (tables or {}).get(self.name, {})

    def _update_table(self, updater) -> None:
        # TinyDB's own, less its two copies of the whole table: the same updaters edit it in place.
        tables = self._storage.read()
        if tables is None:
            tables = {}
        raw = tables.get(self.name)
        if raw is None:
            raw = {}  # a new table: any index is built again at its next use
        view = _IdView(raw)
        try:
            updater(view)
        finally:
            self._reindex(raw, view.touched)
        tables[self.name] = raw
        self._storage.write(tables)
        self.clear_cache()

    def _reindex(self, raw: dict, touched: set[str]) -> None:
        if raw is not self._indexed_raw:
            self._indexes, self._indexed_raw = {}, None
            return
        for names, index in self._indexes.items():
            forward, reverse = index
            for doc_id in touched:
                if doc_id in reverse:
                    key = reverse.pop(doc_id)
                    forward[key].remove(doc_id)
                    if not forward[key]:
                        del forward[key]
                if doc_id in raw:
                    _add(index, names, doc_id, raw[doc_id])


def _add(index: tuple[dict, dict], names: tuple[str, ...], doc_id: str, record: dict) -> None:
    try:
        key = tuple(record[name] for name in names)
        index[0].setdefault(key, []).append(doc_id)
    except (KeyError, TypeError):
        return  # a record without one of the fields (or with an unhashable value) is never found by them
    index[1][doc_id] = key
