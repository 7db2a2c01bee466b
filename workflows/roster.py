"""The roster: who is who, checked row by row so a bad file is rejected whole with every problem listed.

The QA team keeps it in Excel, so Excel's habits are tolerated: a byte-order mark, stray spaces,
mixed-case addresses, blank lines, role names written in several ways, column headings as people
type them ("Head of Service", "Email Address"). What would make the cycle unworkable is refused:
someone who is their own Head of Service, a chain of Heads of Service that loops, two Directors,
control characters in a name, the shared mailbox's own address as a person.
"""
import re
from dataclasses import dataclass

from core.text import has_control, one_line

COLUMNS = ("email", "name", "roles", "service", "head_of_service")
# Headings as typed in Excel, after `header_names` has lower-cased them and joined their words with "_".
ALIASES = {
    "email_address": "email", "e_mail": "email", "e_mail_address": "email", "auditor_email": "email",
    "staff_email": "email", "full_name": "name", "role": "roles", "service_area": "service", "team": "service",
    "hos": "head_of_service", "head_of_service_email": "head_of_service", "hos_email": "head_of_service",
}
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


def header_names(header: list[str], aliases: dict[str, str]) -> tuple[list[str], list[str]]:
    """Column headings as the checks know them ("Head of Service" -> head_of_service), and any problem with them."""
    names = []
    for heading in header:
        word = "_".join(re.split(r"[\s_\-]+", heading.strip().lstrip("\ufeff").strip().lower()))
        names.append(aliases.get(word, word))
    twice = sorted({n for n in names if n and names.count(n) > 1})
    problems = [f"line 1: the columns {', '.join(repr(one_line(h, 40)) for h, n in zip(header, names) if n == name)} "
                f"are all read as {name}; keep one" for name in twice]
    return names, problems


def check_roster(header: list[str], rows: list[tuple[int, list[str]]],
                 mailbox_address: str = "") -> tuple[list[Person], list[str]]:
    """Turn CSV rows (with their line numbers) into people; the second value lists every problem found.

    `mailbox_address` is the shared mailbox's own address, which cannot be a person.
    """
    names, problems = header_names(header, ALIASES)
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        return [], problems + [f"line 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)})"]
    if problems:
        return [], problems
    people, seen = [], {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
        person, errors = _person(record)
        problems += [f"line {line}: {e}" for e in errors]
        if person.email in seen:
            problems.append(f"line {line}: {person.email} is already on line {seen[person.email]}")
        if mailbox_address and person.email == mailbox_address.strip().lower():
            problems.append(f"line {line}: {person.email} is the shared mailbox's own address, not a person")
        seen.setdefault(person.email, line)
        people.append((line, person))
    problems += _cross_checks(people)
    return [p for _, p in people], problems


def _person(r: dict[str, str]) -> tuple[Person, list[str]]:
    errors = [f"{column} holds a control character (a pasted tab, line break or invisible character); "
              "retype it" for column in COLUMNS if has_control(r[column])]
    if errors:
        r = {column: one_line(value, None) for column, value in r.items()}  # so the other checks read sense
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
        if p.head_of_service == p.email:
            problems.append(f"line {line}: {p.email} is their own head_of_service (their exemption requests "
                            "could never be decided); give the person they report to")
    problems += _loops(people)
    everyone = [p for _, p in people]
    if people and not any(p.has("director") for p in everyone):
        problems.append("the roster has no one with the director role")
    directors = [(line, p) for line, p in people if p.has("director")]
    if len(directors) > 1:
        problems.append(f"lines {', '.join(str(line) for line, _ in directors)}: "
                        f"{len(directors)} people have the director role "
                        f"({', '.join(p.email for _, p in directors)}); the roster has one Director")
    if people and not any(p.has("qa") for p in everyone):
        problems.append("the roster has no one with the qa role")
    return problems


def _loops(people: list[tuple[int, Person]]) -> list[str]:
    """A chain of Heads of Service that comes back on itself (a -> b -> a): nobody in it can be asked last."""
    line_of = {p.email: line for line, p in people}
    boss = {p.email: p.head_of_service for _, p in people if p.head_of_service and p.head_of_service != p.email}
    problems, settled = [], set()
    for _, p in people:
        path, at = [], p.email
        while at in boss and at not in settled and at not in path:
            path.append(at)
            at = boss[at]
        if at in path:  # came back to someone on this path: the loop is from there on
            loop = path[path.index(at):]
            problems.append(f"lines {', '.join(str(line_of[e]) for e in sorted(loop, key=line_of.get))}: "
                            f"the heads of service go round in a circle ({' -> '.join(loop + [at])}); "
                            "the chain must end at the Director")
        settled.update(path)
    return problems
