"""The Director's letter says only what the figures say: its sentences change with the data.

Each story builds a few months of results by hand (as the monthly report computes them) and reads
the draft as a member of staff would, in both the plain text and the HTML.
"""
import pytest

from letters import NOW, body, readable, words
from workflows.calendar import month_deadline
from workflows.director_letter import Facts, draft_letter
from workflows.results import MonthResult, Targets

TARGETS = Targets(good_or_better_min=40.0, inadequate_max=12.0)
JANUARY_DEADLINE = month_deadline("2027-01")
CONSISTENT = "in the last 3 months we have consistently met our short-term targets"
APPEAL = "I am appealing for full cooperation to ensure this is addressed with immediate effect"
DROP = "address the recent drop in our audit completion rate"


def month(name: str, *, completed: int = 18, due: int = 20, good: float = 47.1, inadequate: float = 5.9,
          graded: int | None = None) -> MonthResult:
    """A month's results: `completed` of `due` counted, with the grade percentages given."""
    graded = completed if graded is None else graded
    return MonthResult(month=name, allocated=due + 1, exempt=1, due=due, completed=completed,
                       completion_rate=round(100 * completed / due, 1) if due else None, graded=graded,
                       good_or_better_pct=good if graded else None, inadequate_pct=inadequate if graded else None,
                       good_met=good >= 40 if graded else None, inadequate_met=inadequate < 12 if graded else None)


def letter(results, facts=Facts()) -> str:
    """The draft as one line of plain words."""
    return " ".join(" ".join(block.lines) for block in draft_letter(results, TARGETS, facts, JANUARY_DEADLINE))


MET = dict(good=47.1, inadequate=5.9)
GOOD_MISSED = dict(good=38.2, inadequate=5.9)
INADEQUATE_MISSED = dict(good=52.0, inadequate=14.3)


def test_targets_met_in_each_of_the_last_three_months_is_consistent_progress():
    text = letter([month("2026-10", **MET), month("2026-11", **MET), month("2026-12", **MET)])
    assert "In December 2026, 47.1% of the practice audited was rated good or better and 5.9% was rated inadequate" in text
    assert "so we met both of our short-term targets, at least 40% of practice rated as good or better and less than 12%" in text
    assert CONSISTENT in text and "fantastic progress" in text
    assert "let's keep up the good work" in text


def test_targets_met_in_one_of_the_last_three_months_is_said_so_and_never_called_consistent():
    text = letter([month("2026-10", **MET), month("2026-11", **GOOD_MISSED), month("2026-12", **INADEQUATE_MISSED)])
    assert CONSISTENT not in text and "fantastic" not in text
    assert "In the last 3 months we met both targets in one of them (October 2026)" in text
    assert ("we met our target of at least 40% of practice rated as good or better, but not our target of less than 12% of practice rated as inadequate"
            in text)
    assert "let's work together on this" in text and "keep up the good work" not in text


def test_targets_met_in_two_of_three_names_both_months():
    text = letter([month("2026-10", **MET), month("2026-11", **GOOD_MISSED), month("2026-12", **MET)])
    assert "we met both targets in two of them (October 2026 and December 2026)" in text and CONSISTENT not in text


def test_targets_missed_in_all_three_months():
    text = letter([month("2026-10", **GOOD_MISSED), month("2026-11", good=30.0, inadequate=20.0),
                   month("2026-12", good=30.0, inadequate=20.0)])
    assert "we did not meet either of our short-term targets" in text
    assert "In the last 3 months we have not met both targets in any month" in text
    assert CONSISTENT not in text and "of them (" not in text


def test_a_single_month_makes_no_claim_about_three_months():
    text = letter([month("2026-12", **MET)])
    assert "met both of our short-term targets" in text
    assert "last 3 months" not in text and "previous" not in text


def test_two_good_months_are_not_three():
    text = letter([month("2026-11", **MET), month("2026-12", **MET)])
    assert CONSISTENT not in text and "In the last 2 months we met both targets in two of them" in text


def test_a_month_with_no_graded_audits_reports_no_verdict():
    text = letter([month("2026-11", **MET), month("2026-12", completed=0, graded=0)])
    assert "No audits for December 2026 were graded in time to be counted" in text
    assert "we met" not in text.split("In the last")[0]
    assert "I would like to thank everyone" not in text   # nobody completed one to be thanked for


def test_completion_down_against_the_previous_three_months_brings_the_appeal():
    # Previous three: 90%, 85%, 80% -> average 85.0%; this month 14 of 20 = 70.0%.
    text = letter([month("2026-09", completed=18), month("2026-10", completed=17), month("2026-11", completed=16),
                   month("2026-12", completed=14)])
    assert "The audit completion rate for December 2026 was 70.0%: 14 of the 20 audits due were completed" in text
    assert f"This is down from an average of 85.0% over the previous 3 months, and {APPEAL}" in text
    assert DROP in text and "thank you to everyone who made that happen" not in text


def test_completion_up_thanks_people_and_makes_no_appeal():
    # Previous three: 70%, 75%, 80% -> average 75.0%; this month 19 of 20 = 95.0%.
    text = letter([month("2026-09", completed=14), month("2026-10", completed=15), month("2026-11", completed=16),
                   month("2026-12", completed=19)])
    assert "This is up from an average of 75.0% over the previous 3 months: thank you to everyone who made that happen" in text
    assert APPEAL not in text and DROP not in text
    assert "appealing" not in text


def test_only_the_previous_three_months_make_the_average():
    # A poor month four months back does not make this month look like a rise.
    text = letter([month("2026-08", completed=2), month("2026-09", completed=18), month("2026-10", completed=18),
                   month("2026-11", completed=18), month("2026-12", completed=17)])
    assert "down from an average of 90.0% over the previous 3 months" in text


def test_completion_level_is_neither_thanked_nor_appealed():
    text = letter([month("2026-11", completed=16), month("2026-12", completed=16)])
    assert "This is the same as the average over the previous 1 month." in text
    assert APPEAL not in text and "made that happen" not in text


def test_the_rules_and_the_deadline_are_always_there_with_the_month_s_own_facts():
    text = letter([month("2026-12", completed=15)], Facts(exemption_requests=4, exemptions_last_week=1, slippage_agreed=2))
    for rule in ("exemptions will only be considered in exceptional circumstances",
                 "Prolonged absence from work, due to ill-health",
                 "multi-agency audits for the safeguarding children partnership",
                 "give evidence at final court care proceedings hearings",
                 "formal request via your Head of Service", "case by case",
                 "Please don't leave audit exemption requests to the last week of the month",
                 "notify your Head of Service at the earliest opportunity",
                 "liaise with the Quality Assurance Team to confirm if there is any capacity",
                 "your audit will not be counted",
                 "submitted on or before the last day of the month: this month, by 23:59 on Sunday 31st January 2027",
                 "remedial action", "I would like to thank everyone"):
        assert rule in text, rule
    assert "In December 2026, 1 of the 4 exemption requests came in the last week of the month." in text
    assert "agreed a later date for 2 audits where slippage was raised early" in text
    assert "In December 2026, 5 audits were not completed in time to be counted." in text


def test_a_month_with_nothing_late_and_no_late_planning_says_nothing_of_either():
    text = letter([month("2026-12", completed=20)])
    assert "not completed in time" not in text and "came in the last week" not in text
    assert "agreed a later date" not in text


def test_no_results_is_a_caller_error():
    with pytest.raises(ValueError):
        draft_letter([], TARGETS, Facts(), JANUARY_DEADLINE)


def contexts() -> dict[str, dict]:
    """Each director/ template's sample context (fresh each call), for the checks every letter gets."""
    results = [month("2026-10", **MET), month("2026-11", **MET), month("2026-12", completed=12, **MET)]
    blocks = [b.as_dict() for b in draft_letter(results, TARGETS, Facts(3, 1, 1), JANUARY_DEADLINE)]
    letter = {"title": "Monthly quality assurance auditing standards: December 2026 results", "blocks": blocks,
              "salutation": "Colleagues", "reference": "LTR-2026-12-001"}
    return {"director/letter": letter,
            "director/draft": {**letter, "person_name": "Imogen", "month_name": "December 2026", "auditors": 17}}


@pytest.mark.parametrize("template", ["director/letter", "director/draft"])
def test_the_html_and_the_text_say_the_same_and_the_html_is_self_contained(composer, template):
    text, html = composer.render(template, contexts()[template], now=NOW)
    assert words(body(text)).replace("-" * 72, "").split() == readable(body(html)).split()
    assert CONSISTENT in words(text) and APPEAL in readable(html)
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html
    assert "Our Ref: IT/qa/LTR-2026-12-001" in text
    assert "by 23:59 on Sunday 31st January 2027" in words(text)


def test_one_audit_is_written_in_the_singular():
    # A first month after go-live, or a small service: "1 graded audits" and "1 of the 18 audits due were"
    # are not sentences a Director signs.
    text = letter([month("2026-12", completed=1, due=18, good=100.0, inadequate=0.0)])
    assert "(1 graded audit), so we met both" in text
    assert "1 of the 18 audits due was completed by the deadline" in text
    text = letter([month("2026-12", completed=2, due=18)])
    assert "(2 graded audits)" in text and "2 of the 18 audits due were completed" in text


def test_a_single_late_exemption_request_is_not_one_of_the_one_requests():
    text = letter([month("2026-12", **MET)], Facts(exemption_requests=1, exemptions_last_week=1))
    assert "In December 2026, the one exemption request came in the last week of the month." in text
    text = letter([month("2026-12", **MET)], Facts(exemption_requests=3, exemptions_last_week=1))
    assert "In December 2026, 1 of the 3 exemption requests came in the last week of the month." in text


# -- the opening says only what the month's moderation shows ---------------------------------------------
def opening(**stage) -> str:
    blocks = draft_letter([month("2026-11", **MET)], TARGETS, Facts(), JANUARY_DEADLINE, **stage)
    return " ".join(blocks[1].lines)


def test_the_opening_says_moderated_only_when_moderation_closed_with_audits_moderated():
    assert "now that the audits for November 2026 have been moderated, evaluated and reported." in \
        opening(moderation_closed=True, moderated=3)


def test_a_month_with_nothing_moderated_is_not_called_moderated():
    said = opening(moderation_closed=True, moderated=0)
    assert "now that the audits for November 2026 have been evaluated and reported." in said
    assert "moderated" not in said


def test_a_draft_before_moderation_closes_speaks_of_the_figures_so_far():
    said = opening(moderation_closed=False, moderated=2)
    assert "with the figures so far for the audits for November 2026: moderation is still open, so they may " \
           "yet change." in said
    assert "have been" not in said
