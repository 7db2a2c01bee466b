"""The monthly report's first step: what became of each allocated audit, as one plain row.

    allocation ──exempted (approved)──────────────────────────▶ exempt       (leaves the denominator)
        ├──grade received by the month's deadline──────────────▶ on time      (counted)
        ├──grade received later, by a date the QA team agreed──▶ late         (counted)
        ├──grade received after the deadline that applied──────▶ not counted  (recorded, not counted)
        └──nothing received───────────────────────────────────▶ outstanding

Whether a submission counts is the submission rule's decision, stored with it (`counts`); the row
only reads it. The audit's grade is that of its latest submission that counts (or, for an audit not
counted, its latest submission); a moderation that agreed or changed that grade gives the moderated one.
"""
from dataclasses import dataclass
from datetime import datetime

from workflows.calendar import month_deadline
from workflows.grades import Grade

STATES = ("on time", "late", "not counted", "exempt", "outstanding")
COUNTED = ("on time", "late")
# Best first: a change of grade towards the start of this list is a change up.
GRADES = (Grade.OUTSTANDING.value, Grade.GOOD.value, Grade.REQUIRES_IMPROVEMENT.value, Grade.INADEQUATE.value)
GOOD_OR_BETTER = frozenset(GRADES[:2])
ANSWERED = ("agreed", "changed")        # moderation states that carry a moderated grade


@dataclass(frozen=True)
class AuditRow:
    """One allocated audit as the report counts it; only references, never a child's name."""

    reference: str
    month: str
    service: str
    team: str                       # the team manager's name, or "(no team manager)"
    auditor: str                    # the auditor's name (staff, not a child)
    case_ref: str
    audit_type: str
    state: str                      # one of STATES
    received_at: datetime | None    # of the submission the grade comes from
    original_grade: str | None
    moderated_grade: str | None     # None unless a moderation agreed or changed the grade
    moderation_state: str           # "" (not selected), awaiting_moderator, agreed, changed, unmoderated
    moderation: str                 # the MOD reference, or ""

    @property
    def counted(self) -> bool:
        """Whether the audit counts for the month (on time, or by an agreed later date)."""
        return self.state in COUNTED

    @property
    def grade(self) -> str | None:
        """The grade the figures use: the moderated grade where there is one, else the submission's."""
        return self.moderated_grade or self.original_grade

    @property
    def change(self) -> str:
        """"up", "down" or "" for how moderation moved the grade."""
        if not (self.moderated_grade and self.original_grade) or self.moderated_grade == self.original_grade:
            return ""
        return "up" if _rank(self.moderated_grade) < _rank(self.original_grade) else "down"


def audit_rows(allocations: list[dict], submissions: list[dict], moderations: list[dict],
               names: dict[str, str]) -> list[AuditRow]:
    """One row per allocation, in reference order; `names` maps an email to a person's name."""
    by_audit: dict[str, list[dict]] = {}
    for submission in sorted(submissions, key=lambda s: s["received_at"]):
        by_audit.setdefault(submission["reference"], []).append(submission)
    latest_moderation: dict[str, dict] = {}
    for moderation in sorted(moderations, key=lambda m: m["reference"]):
        latest_moderation[moderation["audit"]] = moderation  # a later request replaces an earlier one
    return [_row(a, by_audit.get(a["reference"], []), latest_moderation.get(a["reference"]), names)
            for a in sorted(allocations, key=lambda a: a["reference"])]


def _row(allocation: dict, submissions: list[dict], moderation: dict | None, names: dict[str, str]) -> AuditRow:
    counting = [s for s in submissions if s.get("counts")]
    graded = counting[-1] if counting else (submissions[-1] if submissions else None)
    state = _state(allocation, counting, submissions)
    moderated, moderation_state = None, ""
    if moderation is not None:
        moderation_state = moderation.get("state", "")
        # A moderation is of one submission: a grade sent again since then has not been moderated.
        same = graded is not None and moderation.get("submitted_at") in (None, graded["received_at"])
        if moderation_state in ANSWERED and same:
            moderated = moderation.get("moderated_grade") or None
    manager = allocation.get("team_manager") or ""
    return AuditRow(
        reference=allocation["reference"], month=allocation["month"],
        service=allocation.get("service") or "(no service)",
        team=names.get(manager, manager) if manager else "(no team manager)",
        auditor=allocation.get("auditor_name") or names.get(allocation["auditor"], allocation["auditor"]),
        case_ref=allocation.get("case_ref", ""), audit_type=allocation.get("audit_type", ""), state=state,
        received_at=datetime.fromisoformat(graded["received_at"]) if graded else None,
        original_grade=graded["grade"] if graded else None, moderated_grade=moderated,
        moderation_state=moderation_state, moderation=moderation["reference"] if moderation else "")


def _state(allocation: dict, counting: list[dict], submissions: list[dict]) -> str:
    if allocation.get("exempt"):
        return "exempt"
    if counting:
        first = datetime.fromisoformat(counting[0]["received_at"])
        return "on time" if first <= month_deadline(allocation["month"]) else "late"
    return "not counted" if submissions else "outstanding"


def _rank(grade: str) -> int:
    return GRADES.index(grade) if grade in GRADES else len(GRADES)
