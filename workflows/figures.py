"""The month's figures: each allocation's state, and completion per service and overall.

Completion rate = completed on time / (allocated - exempt). An exempted allocation leaves the
denominator; a late one stays in it but is not completed on time.
"""
from dataclasses import dataclass, field

from workflows.audits import state_of as allocation_state

STATES = ("on_time", "late", "outstanding", "exempt")


@dataclass
class Tally:
    """Counts for one service (or the whole department)."""

    name: str
    allocated: int = 0
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))

    def add(self, state: str) -> None:
        """Count one allocation in `state`."""
        self.allocated += 1
        self.counts[state] += 1

    @property
    def rate(self) -> float | None:
        """Completion rate in percent, or None when nothing is due (all exempt or none allocated)."""
        due = self.allocated - self.counts["exempt"]
        return round(100 * self.counts["on_time"] / due, 1) if due else None


def tally(allocations: list[dict], submissions_by_ref: dict[str, list[dict]]) -> tuple[list[Tally], Tally]:
    """Per-service tallies (alphabetical) and the overall one."""
    services: dict[str, Tally] = {}
    overall = Tally("All services")
    for allocation in allocations:
        state = allocation_state(allocation, submissions_by_ref.get(allocation["reference"], []))
        service = allocation.get("service") or "(no service)"
        services.setdefault(service, Tally(service)).add(state)
        overall.add(state)
    return [services[name] for name in sorted(services)], overall
