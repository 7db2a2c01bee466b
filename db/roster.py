"""The roster as stored: replaced whole on import, read by email address."""
from dataclasses import asdict

from tinydb import Query

from db.store import Store
from workflows.roster import Person

FILE = "roster"


class RosterRepo:
    """Who is on the roster, as last imported."""

    def __init__(self, store: Store):
        self._table = store.table(FILE, "people")

    def replace(self, people: list[Person]) -> None:
        """Swap in a freshly checked roster in one write."""
        self._table.truncate()
        self._table.insert_multiple(asdict(p) for p in people)

    def all(self) -> list[Person]:
        """Everyone, in the order of the imported file."""
        return [_person(row) for row in self._table.all()]

    def get(self, email: str) -> Person | None:
        """The person with this address (any case), or None."""
        row = self._table.get(Query().email == email.strip().lower())
        return _person(row) if row else None

    def with_role(self, role: str) -> list[Person]:
        """Everyone who holds `role`."""
        return [p for p in self.all() if p.has(role)]


def _person(row: dict) -> Person:
    return Person(row["email"], row["name"], tuple(row["roles"]), row["service"], row["head_of_service"])
