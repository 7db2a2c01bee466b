"""The monthly report's tallies: completion and grade mix for any group of audit rows.

Completion rate = counted / (allocated - exempt), counted being on time or by an agreed later date.
The grade mix is over the counted audits that have a grade, using the moderated grade where there is
one. Percentages are rounded to one decimal (`workflows.results.percent`).
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from workflows.report_audits import GOOD_OR_BETTER, GRADES, AuditRow
from workflows.results import MonthResult, Targets, percent


@dataclass
class Completion:
    """How many audits of a group were allocated, exempt, counted, late, not counted and outstanding."""

    name: str
    allocated: int = 0
    states: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("on time", "late", "not counted", "exempt", "outstanding"), 0))

    def add(self, row: AuditRow) -> None:
        """Count one audit."""
        self.allocated += 1
        self.states[row.state] += 1

    @property
    def exempt(self) -> int:
        return self.states["exempt"]

    @property
    def due(self) -> int:
        """Allocated less exempt: the completion rate's denominator."""
        return self.allocated - self.exempt

    @property
    def counted(self) -> int:
        """On time, or by an agreed later date."""
        return self.states["on time"] + self.states["late"]

    @property
    def rate(self) -> float | None:
        """Counted as a percentage of due (None when nothing was due)."""
        return percent(self.counted, self.due)


@dataclass
class GradeMix:
    """The grades of a group's counted audits (moderated where moderated)."""

    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(GRADES, 0))

    def add(self, row: AuditRow) -> None:
        """Count one audit's grade, if it counts and has one."""
        if row.counted and row.grade in self.counts:
            self.counts[row.grade] += 1

    @property
    def graded(self) -> int:
        return sum(self.counts.values())

    @property
    def good_or_better(self) -> int:
        return sum(n for grade, n in self.counts.items() if grade in GOOD_OR_BETTER)

    def pct(self, grade: str) -> float | None:
        """One grade's share of the graded audits, in percent."""
        return percent(self.counts[grade], self.graded)

    @property
    def good_or_better_pct(self) -> float | None:
        return percent(self.good_or_better, self.graded)

    @property
    def inadequate_pct(self) -> float | None:
        return percent(self.counts[GRADES[-1]], self.graded)


def grouped(rows: Iterable[AuditRow], key: Callable[[AuditRow], str], make) -> list:
    """One tally per value of `key` (alphabetical), each built by `make(name)` and fed its rows."""
    groups: dict[str, object] = {}
    for row in rows:
        name = key(row)
        groups.setdefault(name, make(name)).add(row)
    return [groups[name] for name in sorted(groups)]


def overall(rows: Iterable[AuditRow], make, name: str = "All services"):
    """One tally over every row."""
    tally = make(name)
    for row in rows:
        tally.add(row)
    return tally


def month_result(month: str, rows: list[AuditRow], targets: Targets) -> MonthResult:
    """The month's headline figures and whether each target was met (None: no graded audits)."""
    completion, mix = overall(rows, Completion), overall(rows, GradeMix)
    good, inadequate = mix.good_or_better_pct, mix.inadequate_pct
    return MonthResult(
        month=month, allocated=completion.allocated, exempt=completion.exempt, due=completion.due,
        completed=completion.counted, completion_rate=completion.rate, graded=mix.graded,
        good_or_better_pct=good, inadequate_pct=inadequate,
        # The targets compare the percentages as the report prints them (one decimal), so the
        # verdict can never disagree with the figure a reader checks it against.
        good_met=None if good is None else good >= targets.good_or_better_min,
        inadequate_met=None if inadequate is None else inadequate < targets.inadequate_max,
        late=completion.states["late"], not_counted=completion.states["not counted"],
        outstanding=completion.states["outstanding"])
