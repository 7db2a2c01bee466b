"""Issuing a month: the allocations CSV checked against the roster, new rows told apart from issued ones.

Each allocation gets a reference AUD-YYYY-MM-NNN. Re-running the same file issues nothing twice;
rows added later are issued on their own. A bad file is rejected whole, every bad line listed.
"""
import re
from dataclasses import dataclass

from workflows import audits
from workflows.roster import EMAIL, Person, header_names

COLUMNS = ("auditor_email", "case_ref", "audit_type")
# Headings as typed in Excel ("Auditor Email", "Case Reference"), after `header_names` has normalised them.
ALIASES = {
    "auditor": "auditor_email", "email": "auditor_email", "email_address": "auditor_email",
    "auditor_email_address": "auditor_email", "case": "case_ref", "case_reference": "case_ref",
    "case_number": "case_ref", "type": "audit_type", "team_manager": "team_manager_email",
    "team_manager_email_address": "team_manager_email",
}
AUDIT_TYPES = {
    "monthly": "monthly", "monthly audit": "monthly",
    "dip sample": "dip sample", "dip sampling": "dip sample", "dip": "dip sample",
    "thematic": "thematic", "thematic audit": "thematic",
    "service review": "service review", "review": "service review",
}
# A case reference, never a name: letters, digits and separators, with at least one digit.
CASE_REF = re.compile(r"^(?=.*\d)[A-Za-z0-9][A-Za-z0-9/_.\-]{1,31}$")


@dataclass(frozen=True)
class AllocationRow:
    """One checked row of an allocations file."""

    auditor: str
    case_ref: str
    audit_type: str
    team_manager: str  # "" when not given

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes a row the same allocation when a file is issued again."""
        return (self.auditor, self.case_ref.upper(), self.audit_type)


def check_allocations(header: list[str], rows: list[tuple[int, list[str]]],
                      find_person) -> tuple[list[AllocationRow], list[str]]:
    """Check every row against the roster; returns the rows and every problem, by line number."""
    names, problems = header_names(header, ALIASES)
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        return [], problems + [f"line 1: missing column(s) {', '.join(missing)} (expected {','.join(COLUMNS)}"
                               ",team_manager_email)"]
    if problems:
        return [], problems
    checked, seen = [], {}
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue
        record = {name: (cells[i].strip() if i < len(cells) else "") for i, name in enumerate(names)}
        row, errors = _row(record, find_person)
        problems += [f"line {line}: {e}" for e in errors]
        if not errors:
            if row.key in seen:
                problems.append(f"line {line}: the same allocation is already on line {seen[row.key]}")
            seen.setdefault(row.key, line)
            checked.append(row)
    return checked, problems


def _row(r: dict[str, str], find_person) -> tuple[AllocationRow | None, list[str]]:
    errors = []
    auditor = r["auditor_email"].lower()
    person: Person | None = find_person(auditor) if auditor else None
    if not auditor:
        errors.append("auditor_email is empty")
    elif person is None:
        errors.append(f"auditor {auditor} is not on the roster")
    elif not person.has("auditor"):
        errors.append(f"{auditor} does not have the auditor role on the roster")
    case_ref = r["case_ref"]
    if not CASE_REF.match(case_ref):
        errors.append(f"case_ref {case_ref!r} is not a case reference such as CR-40117 "
                      "(letters, digits and - / . only; never a child's name)")
    audit_type = AUDIT_TYPES.get(" ".join(r["audit_type"].lower().replace("_", " ").replace("-", " ").split()))
    if audit_type is None:
        errors.append(f"audit_type {r['audit_type']!r} is not one of monthly, dip sample, thematic, service review")
    manager = r.get("team_manager_email", "").lower()
    if manager and not EMAIL.match(manager):
        errors.append(f"team_manager_email {manager!r} is not an email address")
    if errors:
        return None, errors
    return AllocationRow(auditor, case_ref.upper(), audit_type, manager), []


def reference(month: str, number: int) -> str:
    """The reference of the `number`-th allocation of `month`: AUD-2026-11-017."""
    return audits.reference(month, number)
