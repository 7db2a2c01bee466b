"""One month's headline results against the improvement-plan targets, as the report and the letter use them.

Computed by `workflows/report.py` from stored records; read by the monthly report and by the
Director's letter (`workflows/director_letter.py`), which never recompute them. Percentages are
of the audits that count for the month (on time, or by an agreed slippage date), using the
moderated grade where there is one.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Targets:
    """The short-term targets: at least `good_or_better_min`% good or better, less than `inadequate_max`% inadequate."""

    good_or_better_min: float = 40.0
    inadequate_max: float = 12.0


@dataclass(frozen=True)
class MonthResult:
    """A month's completion and grade figures, and whether each target was met (None: no graded audits)."""

    month: str                          # YYYY-MM
    allocated: int
    exempt: int
    due: int                            # allocated - exempt
    completed: int                      # counted: on time or by an agreed date
    completion_rate: float | None       # percent of due, one decimal; None when nothing was due
    graded: int                         # counted audits with a grade
    good_or_better_pct: float | None    # percent of graded, one decimal
    inadequate_pct: float | None
    good_met: bool | None               # good_or_better_pct >= good_or_better_min
    inadequate_met: bool | None         # inadequate_pct < inadequate_max
    # Added for the monthly report (defaulted, so older callers are unchanged):
    late: int = 0                       # counted, received after the month's deadline by an agreed date
    not_counted: int = 0                # received after the deadline that applied
    outstanding: int = 0                # nothing received

    @property
    def both_met(self) -> bool:
        """Whether both targets were met (False when there were no graded audits to judge by)."""
        return bool(self.good_met and self.inadequate_met)


def percent(part: int, whole: int) -> float | None:
    """`part` of `whole` in percent, rounded to one decimal; None when `whole` is 0."""
    return round(100 * part / whole, 1) if whole else None


def verdict(met: bool | None) -> str:
    """"met", "not met", or "no graded audits"."""
    return "no graded audits" if met is None else "met" if met else "not met"
