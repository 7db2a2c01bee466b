"""Who answers what: the Director, a person's Head of Service, the QA team, delegates; and a few shared words."""
from app.cycle.letters import allocation_row, qa_team
from workflows.calendar import month_name


def director(service) -> str:
    """The Director's address: the roster's director, else the letterhead's."""
    directors = service.roster.with_role("director")
    return directors[0].email if directors else service.config.letterhead.email


def name_of(service, address: str) -> str:
    """A person's name from the roster, or their address."""
    person = service.roster.get(address) if address else None
    return person.name if person else address


def first_name(service, address: str) -> str:
    """What a letter to them says after "Dear"."""
    person = service.roster.get(address)
    return person.first_name if person else "Colleague"


def approvers_of(service, record: dict) -> list[str]:
    """Who must answer a waiting request now."""
    return qa_team(service) if record["reference"].startswith("SLP") else [record["approver"]]


def month_names(months: list[str]) -> list[str]:
    """"December 2026" for each YYYY-MM."""
    return [month_name(m) for m in months]


def rows(allocations: list[dict]) -> list[dict]:
    """Allocations as letters show them."""
    return [allocation_row(a) for a in allocations]
