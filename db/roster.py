"""The roster as stored: replaced whole on import, read by email address.

Read once per process, not once per pass or per letter: the people are kept with the text of the
roster file they were read from, and read again when the store holds another text (the file changed),
or while a change to it is still only in the log. Not the file's stamp (inode, size, mtime): a file
replaced twice can have its old inode back, and on a coarse file system clock its old mtime too
(db/kept.py); comparing the text the store read anyway costs microseconds.
"""
import functools
from dataclasses import asdict
from pathlib import Path

from db.store import Store
from workflows.roster import Person

FILE = "roster"
_read: dict[str, tuple[str, list[Person], dict[str, Person]]] = {}  # roster path -> (its text, people, by email)


class RosterRepo:
    """Who is on the roster, as last imported."""

    def __init__(self, store: Store):
        self._store = store

    @property
    def _table(self):
        # Asked of the store each time, never kept: the classifier keeps this repo for a daemon's life,
        # and the store may have read its files afresh since (after a rollback, or another writer).
        return self._store.table(FILE, "people")

    def replace(self, people: list[Person]) -> None:
        """Swap in a freshly checked roster in one write."""
        self._table.truncate()
        self._table.insert_multiple(asdict(p) for p in people)

    def all(self) -> list[Person]:
        """Everyone, in the order of the imported file."""
        return list(self._people()[0])

    def get(self, email: str) -> Person | None:
        """The person with this address (any case), or None."""
        return self._people()[1].get(email.strip().lower())

    def _people(self) -> tuple[list[Person], dict[str, Person]]:
        key, table = _cache_key(self._store.folder), self._table
        table._raw()  # brings the store's copy up to date (after a rollback it reads the file again)
        pending = self._store.file_stamp(FILE) is None  # missing, or its latest content only in the log
        text = None if pending else table._storage._disk  # the file's text, as the store last read or wrote it
        kept = _read.get(key)
        if text is not None and kept and kept[0] == text:
            return kept[1], kept[2]
        people = [_person(row) for row in table.all()]
        by_email = {}
        for person in people:
            by_email.setdefault(person.email, person)  # the first row wins, as a search would find it
        if text is not None:
            _read[key] = (text, people, by_email)
        return people, by_email

    def with_role(self, role: str) -> list[Person]:
        """Everyone who holds `role`."""
        return [p for p in self.all() if p.has(role)]


@functools.lru_cache(maxsize=16)
def _cache_key(folder: Path) -> str:
    # resolve() asks the file system each time; the classifier asks the roster at every message.
    return str(folder.resolve() / FILE)


def _person(row: dict) -> Person:
    return Person(row["email"], row["name"], tuple(row["roles"]), row["service"], row["head_of_service"])
