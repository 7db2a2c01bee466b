"""Who answers what: the Director, a person's Head of Service, the QA team, delegates; and a few shared words."""
from app.cycle.letters import allocation_row, qa_team
from workflows.calendar import month_name


def director(ctx) -> str:
    """The Director's address: the roster's director, else the letterhead's."""
    directors = ctx.roster.with_role("director")
    return directors[0].email if directors else ctx.config.letterhead.email


def name_of(ctx, address: str) -> str:
    """A person's name from the roster, or their address."""
    person = ctx.roster.get(address) if address else None
    return person.name if person else address


def first_name(ctx, address: str) -> str:
    """What a letter to them says after "Dear"."""
    person = ctx.roster.get(address)
    return person.first_name if person else "Colleague"


def approvers_of(ctx, record: dict) -> list[str]:
    """Who must answer a waiting request now."""
    return qa_team(ctx) if record["reference"].startswith("SLP") else [record["approver"]]


def month_names(months: list[str]) -> list[str]:
    """"December 2026" for each YYYY-MM."""
    return [month_name(m) for m in months]


def rows(allocations: list[dict]) -> list[dict]:
    """Allocations as letters show them."""
    return [allocation_row(a) for a in allocations]
