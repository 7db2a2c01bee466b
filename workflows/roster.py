"""The roster: who is who, checked row by row so a bad file is rejected whole with every problem listed.

The QA team keeps it in Excel, so Excel's habits are tolerated: a byte-order mark, stray spaces,
mixed-case addresses, blank lines, role names written in several ways.
"""
import re
from dataclasses import dataclass

COLUMNS = ("email", "name", "roles", "service", "head_of_service")
ROLES = ("auditor", "moderator", "head_of_service", "director", "qa")
ROLE_SPELLINGS = {
    "auditor": "auditor", "manager": "auditor",
    "moderator": "moderator",
    "head_of_service": "head_of_service", "head of service": "head_of_service", "hos": "head_of_service",
    "director": "director",
    "qa": "qa", "qa team": "qa", "qa_team": "qa", "quality assurance": "qa",
}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


@dataclass(frozen=True)
class Person:
    """One person on the roster."""

    email: str
    name: str
    roles: tuple[str, ...]
    service: str
    head_of_service: str  # the email of their Head of Service, "" for those who have none

    def has(self, role: str) -> bool:
        """Whether this person holds `role`."""
        return role in self.roles

    @property
    def first_name(self) -> str:
        """What a letter to them says after "Dear"."""
        return self.name.split()[0] if self.name else "Colleague"


def check_roster(header: list[str], rows: list[tuple[int, list[str]]]) -> tuple[list[Person], list[str]]:
    """Turn CSV rows (with their line numbers) into people; the second value lists every problem found."""
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        return [], [f"line 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})"]
    people, problems, seen = [], [], {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
        person, errors = _person(record)
        problems += [f"line {line}: {e}" for e in errors]
        if person.email in seen:
            problems.append(f"line {line}: {person.email} is already on line {seen[person.email]}")
        seen.setdefault(person.email, line)
        people.append((line, person))
    problems += _cross_checks(people)
    return [p for _, p in people], problems


def _person(r: dict[str, str]) -> tuple[Person, list[str]]:
    errors = []
    email = r["email"].lower()
    if not EMAIL.match(email):
        errors.append(f"email {r['email']!r} is not an email address")
    if not r["name"]:
        errors.append("name is empty")
    roles = []
    for word in filter(None, (w.strip().lower() for w in r["roles"].split(";"))):
        role = ROLE_SPELLINGS.get(word.replace("-", " ")) or ROLE_SPELLINGS.get(word)
        if role is None:
            errors.append(f"role {word!r} is not one of {', '.join(ROLES)}")
        elif role not in roles:
            roles.append(role)
    if not r["roles"].strip():
        errors.append("roles is empty (use ; between several, e.g. auditor;moderator)")
    hos = r["head_of_service"].lower()
    if hos and not EMAIL.match(hos):
        errors.append(f"head_of_service {r['head_of_service']!r} is not an email address")
    # The person is returned even with errors, so the cross-checks can report their other problems too.
    return Person(email, " ".join(r["name"].split()), tuple(roles), r["service"], hos), errors


def _cross_checks(people: list[tuple[int, Person]]) -> list[str]:
    by_email = {p.email: p for _, p in people}
    problems = []
    for line, p in people:
        if p.has("auditor") and not p.has("head_of_service") and not p.has("director"):
            if not p.service:
                problems.append(f"line {line}: {p.email} is an auditor but has no service")
            if not p.head_of_service:
                problems.append(f"line {line}: {p.email} is an auditor but has no head_of_service")
        if p.head_of_service:
            hos = by_email.get(p.head_of_service)
            if hos is None:
                problems.append(f"line {line}: head_of_service {p.head_of_service} is not on the roster")
            elif not (hos.has("head_of_service") or hos.has("director")):
                problems.append(f"line {line}: head_of_service {p.head_of_service} does not have the head_of_service role")
    everyone = [p for _, p in people]
    if people and not any(p.has("director") for p in everyone):
        problems.append("the roster has no one with the director role")
    if people and not any(p.has("qa") for p in everyone):
        problems.append("the roster has no one with the qa role")
    return problems
