"""The Director's letter to all staff, drafted from the month's figures so that every sentence is true.

Modelled on the seed letter: greeting, context, the results against the targets, the completion
rate, the exemption and slippage rules, the deadline, thanks. The draft is data (a list of
`Block`s), so the HTML and the plain text say the same, and the stored draft is exactly what goes
out when the Director replies Send (`workflows/director_letters.py`).

    "consistently met ... in the last 3 months"  only when each of the last 3 months met both targets
    a fall in completion against the previous three months' average   brings a direct appeal
    a rise                                                            brings thanks
"""
from dataclasses import dataclass
from datetime import datetime

from core.clock import LONDON
from workflows.calendar import month_name
from workflows.results import MonthResult, Targets

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
SUBJECT = "Monthly quality assurance auditing standards"
EXAMPLES = (
    "Prolonged absence from work, due to ill-health for example",
    "Undertaking other quality assurance activity, for example multi-agency audits for the safeguarding "
    "children partnership",
    "Unusually high levels of statutory work, involving attendance to give evidence at final court care "
    "proceedings hearings, for example",
)
COUNTS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class Facts:
    """What the month's requests say about planning: exemptions asked for (and how late), slippage agreed."""

    exemption_requests: int = 0
    exemptions_last_week: int = 0      # requests that came in the last week of the month
    slippage_agreed: int = 0           # audits given an agreed later date by the QA team


@dataclass(frozen=True)
class Block:
    """One paragraph ("p") or bulleted list ("ul") of the letter, as plain text."""

    kind: str
    lines: tuple[str, ...]

    def as_dict(self) -> dict:
        """As stored with the draft and given to the templates."""
        return {"kind": self.kind, "lines": list(self.lines)}


def draft_letter(results: list[MonthResult], targets: Targets, facts: Facts, deadline: datetime, *,
                 moderation_closed: bool = True, moderated: int = 0) -> list[Block]:
    """The letter's paragraphs for the last of `results` (oldest first, up to 12), the next deadline in words.

    `moderation_closed`: whether moderation of the month has closed (its figures are final);
    `moderated`: how many of its audits a moderator answered. The opening claims only what they show.
    """
    if not results:
        raise ValueError("the Director's letter needs at least the month's own results")
    month, completion_down = results[-1], _completion_change(results)[0] == "down"
    blocks = [
        _p("I hope you are all keeping well."),
        _p("I wanted to give an important update on the children's social care quality assurance processes, "
           + opening_clause(month_name(month.month), moderation_closed, moderated) + " "
           "I know we are all determined to provide children, young people and families with the best quality "
           "service that we can, and quality assurance is one of our main ways of checking that we are doing this."),
        _p("Quality assurance activity allows all of us some protected time to reflect, evaluate, learn and improve. "
           "It can lead to a positive impact for the child who is the subject of the audit, and when all individual "
           "audits are considered together it provides important learning for the department as a whole. For this "
           "reason, all staff in management and leadership roles are expected to participate and undertake monthly "
           "audits, as part of your professional accountability for oversight of the quality of practice."),
        _p(*results_sentences(results, targets)),
        _p(*completion_sentences(results)),
    ]
    if month.completed:
        blocks.append(_p("Quality assurance auditing is an important aspect of our practice and to complete it well "
                         "it does take time. I would like to thank everyone who has participated in undertaking "
                         "regular audit activity: your continued commitment is key to evidencing the difference "
                         "our services make."))
    blocks += [
        _p("In order to ensure that we maintain a robust quality assurance process"
           + (" and address the recent drop in our audit completion rate" if completion_down else "")
           + ", I would like to take this opportunity to reiterate that audit exemptions will only be considered "
           "in exceptional circumstances, for example:"),
        Block("ul", EXAMPLES),
        _p(*exemption_sentences(month, facts)),
        _p(*slippage_sentences(month, facts)),
        _p(f"I would also like to remind all auditors that completed audits should always be submitted on or before "
           f"the last day of the month: this month, by {deadline_words(deadline)}. Once the audit process is "
           "complete there is an intense process to make sure all audits are moderated, evaluated and reported in "
           "the monthly quality assurance report, and the turnaround is very tight. Any delay has a knock-on effect. "
           "Very importantly, any remedial action that may be required for the child should also be actioned as "
           "soon as possible, so delays need to be avoided at all costs."),
        _p(("So, let's keep up the good work" if month.both_met else "So, let's work together on this")
           + " as we maintain our ethos of being a department that is professional, self-aware, and always learning "
           "and improving so that the lives of children, young people and families can get better."),
    ]
    return blocks


def opening_clause(name: str, moderation_closed: bool, moderated: int) -> str:
    """Where the month's audits stand, saying no more than is true: moderated only when some were
    and moderation has closed; before it closes, the figures are the figures so far."""
    if not moderation_closed:
        return (f"with the figures so far for the audits for {name}: moderation is still open, "
                "so they may yet change.")
    if moderated:
        return f"now that the audits for {name} have been moderated, evaluated and reported."
    return f"now that the audits for {name} have been evaluated and reported."


def results_sentences(results: list[MonthResult], targets: Targets) -> list[str]:
    """This month's grades against the targets, then the last 3 months' record, as it truly is."""
    month, name = results[-1], month_name(results[-1].month)
    aims = (f"at least {targets.good_or_better_min:g}% of practice rated as good or better, and less than "
            f"{targets.inadequate_max:g}% of practice rated as inadequate")
    if not month.graded:
        sentences = [f"No audits for {name} were graded in time to be counted, so I cannot report our results "
                     f"against our short-term targets of {aims} this month."]
    else:
        good_aim = f"at least {targets.good_or_better_min:g}% of practice rated as good or better"
        bad_aim = f"less than {targets.inadequate_max:g}% of practice rated as inadequate"
        # Each target is named beside its own verdict: a reader must never have to work out which is which.
        verdict = (f"we met both of our short-term targets, {good_aim} and {bad_aim}" if month.both_met
                   else f"we met our target of {good_aim}, but not our target of {bad_aim}" if month.good_met
                   else f"we met our target of {bad_aim}, but not our target of {good_aim}" if month.inadequate_met
                   else f"we did not meet either of our short-term targets, {good_aim} and {bad_aim}")
        sentences = [f"In {name}, {_pct(month.good_or_better_pct)} of the practice audited was rated good or better "
                     f"and {_pct(month.inadequate_pct)} was rated inadequate ({_audits(month.graded, 'graded')}), so "
                     f"{verdict}."]
    last = results[-3:]
    met = [r for r in last if r.both_met]
    if len(last) == 3 and len(met) == 3:
        sentences.append("I am really pleased to report that in the last 3 months we have consistently met our "
                         "short-term targets, which is fantastic progress.")
    elif len(last) >= 2 and met:
        sentences.append(f"In the last {len(last)} months we met both targets in {COUNTS[len(met)]} of them "
                         f"({_names(met)}), so there is more to do before we can say we meet them consistently.")
    elif len(last) >= 2:
        sentences.append(f"In the last {len(last)} months we have not met both targets in any month, and I am "
                         "asking every one of us to focus on the quality of our practice.")
    return sentences


def completion_sentences(results: list[MonthResult]) -> list[str]:
    """The completion rate, compared with the average of the previous three months: thanks, or an appeal."""
    month, name = results[-1], month_name(results[-1].month)
    if month.completion_rate is None:
        return [f"No audits were due in {name} once exemptions were taken into account."]
    sentences = [f"The audit completion rate for {name} was {_pct(month.completion_rate)}: {month.completed} of "
                 f"the {_audits(month.due)} due {'was' if month.completed == 1 else 'were'} completed by the "
                 "deadline or an agreed later date."]
    change, average, count = _completion_change(results)
    if change == "down":
        sentences.append(f"This is down from an average of {_pct(average)} over the previous {count} "
                         f"month{'s' if count > 1 else ''}, and I am appealing for full cooperation to ensure this "
                         "is addressed with immediate effect.")
    elif change == "up":
        sentences.append(f"This is up from an average of {_pct(average)} over the previous {count} "
                         f"month{'s' if count > 1 else ''}: thank you to everyone who made that happen.")
    elif change == "same":
        sentences.append(f"This is the same as the average over the previous {count} month{'s' if count > 1 else ''}.")
    return sentences


def exemption_sentences(month: MonthResult, facts: Facts) -> list[str]:
    """The exemption rule (via the Head of Service, early, never the last week), with the month's own facts."""
    sentences = ["Exemptions due to exceptional circumstances can only be agreed following a formal request via "
                 "your Head of Service, who will make the request to me, and I will consider these on a case by "
                 "case basis. With appropriate forward planning, requests should be made before the monthly audits "
                 "are issued or, if this cannot happen, at the earliest possible opportunity. Please don't leave "
                 "audit exemption requests to the last week of the month, as this often suggests that there hasn't "
                 "been any timely planning."]
    if facts.exemptions_last_week and facts.exemption_requests == 1:
        sentences.append(f"In {month_name(month.month)}, the one exemption request came in the last week of the month.")
    elif facts.exemptions_last_week:
        sentences.append(f"In {month_name(month.month)}, {facts.exemptions_last_week} of the "
                         f"{facts.exemption_requests} exemption requests came in the last week of the month.")
    return sentences


def slippage_sentences(month: MonthResult, facts: Facts) -> list[str]:
    """The slippage rule (tell the Head of Service early; the QA team looks for capacity; else not counted)."""
    sentences = ["If there is any risk of slippage you must notify your Head of Service at the earliest opportunity "
                 "so that they can liaise with the Quality Assurance Team to confirm if there is any capacity to "
                 "accommodate this. Failure to do so will mean that you will miss the end of the month completion "
                 "deadline and your audit will not be counted, which will be a huge shame given the effort that "
                 "will have gone into it."]
    name, missed = month_name(month.month), month.due - month.completed
    if facts.slippage_agreed:
        sentences.append(f"In {name} the Quality Assurance Team agreed a later date for {facts.slippage_agreed} "
                         f"audit{'s' if facts.slippage_agreed > 1 else ''} where slippage was raised early.")
    if missed > 0:
        sentences.append(f"In {name}, {missed} audit{'s' if missed > 1 else ''} {'were' if missed > 1 else 'was'} "
                         "not completed in time to be counted.")
    return sentences


def deadline_words(deadline: datetime) -> str:
    """"23:59 on Thursday 31st December 2026", London time (as the letters write deadlines)."""
    local = deadline.astimezone(LONDON)
    day = local.day
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{local:%H:%M} on {WEEKDAYS[local.weekday()]} {day}{suffix} {month_name(local.strftime('%Y-%m'))}"


def _completion_change(results: list[MonthResult]) -> tuple[str, float | None, int]:
    """("up" | "down" | "same" | "none", the previous three months' average rate, how many months it covers)."""
    rate = results[-1].completion_rate
    previous = [r.completion_rate for r in results[-4:-1] if r.completion_rate is not None]
    if rate is None or not previous:
        return "none", None, 0
    average = round(sum(previous) / len(previous), 1)
    return ("down" if rate < average else "up" if rate > average else "same"), average, len(previous)


def _names(months: list[MonthResult]) -> str:
    names = [month_name(r.month) for r in months]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _audits(count: int, what: str = "") -> str:
    """"1 graded audit", "8 graded audits": a sentence of the Director's must read as she would write it."""
    return f"{count} {what + ' ' if what else ''}audit{'' if count == 1 else 's'}"


def _pct(value: float) -> str:
    return f"{value:.1f}%"


def _p(*sentences: str) -> Block:
    return Block("p", (" ".join(sentences),))
