"""The monthly QA report's figures, computed from plain records: nothing here reads a file or a clock.

    MonthRecords (allocations, submissions, moderations, exemptions, remedial actions)
        └─ audit_rows ─▶ AuditRow per allocation ─▶ completion, grade mix, moderation, actions
                                                   ─▶ MonthResult per month: the trend and the targets

Only audits that count for the month (on time, or by an agreed slippage date) are graded; the
moderated grade is used where there is one. An audit still unmoderated when moderation closes is
reported as such, never counted as agreed.
"""
from dataclasses import dataclass, field, replace
from datetime import date

from workflows.report_audits import AuditRow, audit_rows
from workflows.report_figures import Completion, GradeMix, grouped, month_result, overall
from workflows.results import MonthResult, Targets, percent

TREND_MONTHS = 12
TARGET_MONTHS = 3
NO_CATEGORY = "Not recorded"


@dataclass(frozen=True)
class MonthRecords:
    """One audit month's stored records, as plain dicts (the shapes are in the common record contract)."""

    month: str
    allocations: list[dict]
    submissions: list[dict] = field(default_factory=list)
    moderations: list[dict] = field(default_factory=list)
    exemptions: list[dict] = field(default_factory=list)    # exemption requests that cover this month
    actions: list[dict] = field(default_factory=list)       # remedial actions raised for this month's audits


@dataclass(frozen=True)
class Moderation:
    """How many counted audits were moderated, and how moderation moved their grades."""

    counted: int
    moderated: int            # agreed or changed
    agreed: int
    changed: int              # the grade moved
    up: int
    down: int
    awaiting: int             # still with a moderator
    unmoderated: int          # moderation closed before an answer came

    @property
    def rate(self) -> float | None:
        """Moderated, in percent of the counted audits."""
        return percent(self.moderated, self.counted)

    @property
    def change_rate(self) -> float | None:
        """Grades changed, in percent of the audits moderated."""
        return percent(self.changed, self.moderated)


@dataclass(frozen=True)
class ExemptionCategory:
    """Approved exemptions of one kind of reason: how many requests, and how many audits they exempted."""

    label: str
    requests: int
    audits: int


@dataclass(frozen=True)
class Actions:
    """Remedial actions raised for the month's audits."""

    raised: int
    done: int
    open: int
    overdue: list[dict]       # open actions past their due date, oldest due first


@dataclass(frozen=True)
class MonthReport:
    """Everything the monthly QA report shows, for one month."""

    month: str
    targets: Targets
    rows: list[AuditRow]
    overall: Completion
    services: list[Completion]
    teams: list[Completion]
    grades: GradeMix
    service_grades: list[GradeMix]
    result: MonthResult
    last_three: list[MonthResult]        # oldest first, this month last
    trend: list[MonthResult]             # up to 12 months, oldest first, this month last
    late: list[AuditRow]
    not_counted: list[AuditRow]
    exemptions: list[ExemptionCategory]
    moderation: Moderation
    actions: Actions


def build_report(current: MonthRecords, earlier: list[MonthRecords], names: dict[str, str], targets: Targets,
                 today: date, moderation_closed: bool = False) -> MonthReport:
    """The report for `current`; `earlier` are the months before it (any order) for the trend.

    `moderation_closed`: moderation of `current` has closed by now. A moderation still awaiting its
    moderator then counts as unmoderated, as the daemon's next pass will record it: the report must
    never say both that moderation closed and that audits are still with a moderator.
    """
    rows = audit_rows(current.allocations, current.submissions, current.moderations, names)
    if moderation_closed:
        rows = [replace(r, moderation_state="unmoderated") if r.moderation_state == "awaiting_moderator" else r
                for r in rows]
    result = month_result(current.month, rows, targets)
    history = sorted((m for m in earlier if m.month < current.month and m.allocations), key=lambda m: m.month)
    trend = [month_result(m.month, audit_rows(m.allocations, m.submissions, m.moderations, names), targets)
             for m in history[-(TREND_MONTHS - 1):]] + [result]
    return MonthReport(
        month=current.month, targets=targets, rows=rows,
        overall=overall(rows, Completion), services=grouped(rows, lambda r: r.service, Completion),
        teams=grouped(rows, lambda r: r.team, Completion),
        grades=overall(rows, GradeMix), service_grades=grouped(rows, lambda r: r.service, GradeMix),
        result=result, last_three=trend[-TARGET_MONTHS:], trend=trend,
        late=[r for r in rows if r.state == "late"], not_counted=[r for r in rows if r.state == "not counted"],
        exemptions=exemptions_by_category(current), moderation=moderation_figures(rows),
        actions=action_figures(current.actions, today))


def moderation_figures(rows: list[AuditRow]) -> Moderation:
    """Moderation of the counted audits: rate, grade changes and their direction, what is still open."""
    counted = [r for r in rows if r.counted]
    answered = [r for r in counted if r.moderated_grade]
    changes = [r.change for r in answered]
    return Moderation(
        counted=len(counted), moderated=len(answered),
        agreed=sum(1 for c in changes if not c), changed=sum(1 for c in changes if c),
        up=changes.count("up"), down=changes.count("down"),
        awaiting=sum(1 for r in counted if r.moderation_state == "awaiting_moderator"),
        unmoderated=sum(1 for r in counted if r.moderation_state == "unmoderated"))


def exemptions_by_category(records: MonthRecords) -> list[ExemptionCategory]:
    """Approved exemptions covering the month, by the reason's category, with the audits each exempted."""
    approved = {e["reference"]: e for e in records.exemptions
                if e.get("state") == "approved" and records.month in e.get("months", [records.month])}
    requests: dict[str, set[str]] = {}
    audits: dict[str, int] = {}
    for reference, exemption in approved.items():
        requests.setdefault(_label(exemption), set()).add(reference)
    for allocation in records.allocations:
        if allocation.get("exempt"):
            exemption = approved.get(allocation.get("exempted_by") or "")
            label = _label(exemption) if exemption else NO_CATEGORY
            audits[label] = audits.get(label, 0) + 1
            if exemption is None and allocation.get("exempted_by"):
                requests.setdefault(label, set()).add(allocation["exempted_by"])
    labels = sorted(set(requests) | set(audits))
    return [ExemptionCategory(label, len(requests.get(label, ())), audits.get(label, 0)) for label in labels]


def _label(exemption: dict) -> str:
    return exemption.get("reason_label") or exemption.get("category") or exemption.get("reason_category") \
        or NO_CATEGORY


def action_figures(actions: list[dict], today: date) -> Actions:
    """Remedial actions raised, done and open, and the open ones past their due date on `today`."""
    still_open = [a for a in actions if a.get("state") != "done"]
    overdue = [a for a in still_open if a.get("due") and date.fromisoformat(a["due"]) < today]
    return Actions(raised=len(actions), done=len(actions) - len(still_open), open=len(still_open),
                   overdue=sorted(overdue, key=lambda a: (a["due"], a["reference"])))
