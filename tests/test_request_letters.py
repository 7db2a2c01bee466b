"""The letters of exemption requests, approvals and slippage, read as their recipients would read them.

Each template is rendered with the real Composer and a fixed, zone-aware clock. Both parts of every
letter must carry the same words and data; cases appear only as case references, never a child's name.
The rules they explain come from the Director's letter: exemptions only in exceptional circumstances,
via the Head of Service and decided by the Director case by case; requests before the audits are issued,
never in the last week; slippage raised early, with the QA team confirming capacity.
What every letter must do (test_every_letter.py) is checked for each template in `contexts()`.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

import jinja2
import pytest

from letters import LONDON, body, readable, words
from letters import render as render_letter
from mailer.compose import Composer

DEADLINE = datetime(2026, 12, 31, 23, 59, 59, tzinfo=LONDON)
DEADLINE_WORDS = "23:59 on Thursday 31st December 2026"
EXTENDED = datetime(2027, 1, 7, 23, 59, 59, tzinfo=LONDON)
EXTENDED_WORDS = "23:59 on Thursday 7th January 2027"
RECEIVED = datetime(2026, 12, 24, 10, 2, tzinfo=timezone.utc)
RECEIVED_WORDS = "10:02 on Thursday 24th December 2026"
LATE_ARRIVAL = datetime(2027, 1, 1, 10, 2, tzinfo=timezone.utc)
LATE_WORDS = "10:02 on Friday 1st January 2027"
A1 = dict(reference="AUD-2026-12-001", case_ref="CR-40117", audit_type="monthly")
A2 = dict(reference="AUD-2026-12-002", case_ref="CR-40118", audit_type="dip sample")
A3 = dict(reference="AUD-2026-12-007", case_ref="CR-40200", audit_type="service review")
ABSENCE = "Prolonged absence (e.g. ill-health)"
MONTHS = ["December 2026", "January 2027"]
REASON = "I am having surgery on 3rd December and will be signed off until February.\nMy manager knows <b>all</b> about it."
EXM_OPTIONS = "Support or Decline"
SLP_OPTIONS = 'Yes with a date (for example "Yes, by 7 January"), or No'


def contexts() -> dict[str, dict]:
    """Every template's context, exactly the keys its header comment documents (fresh each call)."""
    from test_moderation_letters import contexts as moderation_contexts  # moderation/ (issue 9)

    return {
        **moderation_contexts(),
        "exemption/acknowledgement": dict(
            person_name="Sam", reference="EXM-2026-12-003", reason_label=ABSENCE, outside_examples=False,
            months=MONTHS, next_step="hos", hos_name="Priya Shah", on_behalf_of="", timing="last-week",
            received_at=RECEIVED),
        "exemption/to_hos": dict(
            person_name="Priya", reference="EXM-2026-12-003", requester_name="Sam Okafor",
            requester_service="Safeguarding East", reason=REASON, reason_label="Other", outside_examples=True,
            months=MONTHS, timing="last-week", allocations=[A1, A2], allocated_months=["December 2026"],
            received_at=RECEIVED, delegate_for=""),
        "exemption/to_director": dict(
            person_name="Imogen", reference="EXM-2026-12-003", requester_name="Sam Okafor",
            requester_service="Safeguarding East", hos_name="Priya Shah",
            hos_comment="Supported: the surgery is booked.\nSam has <i>no</i> cover.", on_behalf=False,
            reason=REASON, reason_label="Other", outside_examples=True, months=MONTHS, timing="last-week",
            allocations=[A1, A2], allocated_months=["December 2026"], received_at=RECEIVED, delegate_for=""),
        "exemption/declined_by_hos": dict(
            person_name="Sam", reference="EXM-2026-12-003", hos_name="Priya Shah",
            comment="Let's talk about cover instead.", months=["December 2026"]),
        "exemption/decided": dict(
            reference="EXM-2026-12-003", requester_name="Sam Okafor", decision="approved",
            decided_by="Imogen Thackeray", comment="Approved given the surgery.", months=MONTHS,
            allocations=[A1, A2]),
        "approvals/ask_again": dict(
            person_name="Priya", reference="EXM-2026-12-003", options=EXM_OPTIONS,
            what_was_unclear='the first line said "maybe next week", which is neither Support nor Decline'),
        "approvals/already_decided": dict(
            person_name="Imogen", reference="EXM-2026-12-003", decided_by="Priya Shah",
            decided_at=RECEIVED, decision="declined"),
        "approvals/refused": dict(
            reference="EXM-2026-12-003", from_addr="lee.chen@wexcombe.example",
            reason="it failed the DMARC check (the sender's address may have been forged)",
            received_at=RECEIVED, message_id="<AM0PR01MB1234@eurprd01.prod.exchangelabs.com>"),
        "approvals/reminder": dict(
            person_name="Priya", reference="EXM-2026-12-003", kind="exemption", requester_name="Sam Okafor",
            waiting_working_days=3, options=EXM_OPTIONS),
        "approvals/escalation": dict(
            reference="SLP-2026-12-002", kind="slippage", approver_name="Priya Shah",
            requester_name="Sam Okafor", waiting_working_days=6, options=SLP_OPTIONS),
        "slippage/acknowledgement": dict(
            person_name="Sam", reference="SLP-2026-12-002", allocations=[A1, A2], deadline=DEADLINE,
            received_at=RECEIVED, hos_name="Priya Shah"),
        "slippage/to_hos": dict(
            person_name="Priya", reference="SLP-2026-12-002", auditor_name="Sam Okafor",
            auditor_words="I am in court all next week.\nI can finish by 7 January.", allocations=[A1, A2],
            deadline=DEADLINE),
        "slippage/to_qa": dict(
            reference="SLP-2026-12-002", auditor_name="Sam Okafor", auditor_service="Safeguarding East",
            hos_name="Priya Shah", auditor_words="I am in court all next week.\nI can finish by 7 January.",
            allocations=[A1, A2], deadline=DEADLINE),
        "slippage/outcome": dict(
            reference="SLP-2026-12-002", auditor_name="Sam Okafor", agreed=True, agreed_until=EXTENDED,
            comment="We can moderate it in the second week.", allocations=[A1, A2], deadline=DEADLINE,
            decided_by="Lee Chen"),
        "slippage/too_late": dict(person_name="Sam", allocations=[A3], deadline=DEADLINE, received_at=LATE_ARRIVAL),
        "slippage/too_late_qa": dict(auditor_name="Sam Okafor", allocations=[A3], deadline=DEADLINE,
                                     received_at=LATE_ARRIVAL),
    }


TEMPLATES = sorted(contexts())


def render(composer: Composer, name: str, **overrides) -> tuple[str, str]:
    return render_letter(composer, name, contexts()[name], **overrides)


def both(composer: Composer, name: str, **overrides) -> tuple[str, str]:
    """The text and HTML letters from "Dear" to the sign-off, each as the words a reader sees."""
    text, html = render(composer, name, **overrides)
    return words("Dear " + body(text)), readable("Dear " + body(html))


def bold(html: str) -> list[str]:
    """The words the HTML part sets in bold."""
    return [readable(s) for s in re.findall(r'<span style="font-weight:bold;">(.*?)</span>', html, flags=re.DOTALL)]


# --- every letter ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", TEMPLATES)
def test_cases_appear_only_as_references(composer, name):
    """Allocations are shown by audit reference, case reference and type: nothing else about the child."""
    context = contexts()[name]
    for part in both(composer, name):
        for a in context.get("allocations", []):
            if context.get("decision") != "rejected":
                assert f"{a['reference']} {a['case_ref']} {a['audit_type'].capitalize()}" in part


# --- exemption: acknowledgement ---------------------------------------------------------------------

def test_acknowledgement_says_it_went_to_the_head_of_service_and_the_deadline_stands(composer):
    for part in both(composer, "exemption/acknowledgement", timing="after-issue"):
        for value in ("Dear Sam", "Re: Your exemption request EXM-2026-12-003",
                      "exempted from quality assurance auditing for December 2026 and January 2027",
                      f"reached the audit mailbox at {RECEIVED_WORDS}", "its reference is EXM-2026-12-003",
                      "gone to Priya Shah, your Head of Service", "If they support it, it will come to me",
                      "case by case", f"The reason is recorded as: {ABSENCE}.", "exceptional circumstances",
                      "your audits for December 2026 and January 2027 are still due as usual",
                      "last day of each month", "risk of slippage"):
            assert value in part, value
        for absent in ("last week", "outside the examples", "forward planning"):
            assert absent not in part


def test_acknowledgement_in_the_last_week_gently_reminds_of_the_letter(composer):
    text, html = render(composer, "exemption/acknowledgement")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        assert "gently remind you" in part
        assert "not left to the last week of the month" in part
        assert "the audit has been left to the last minute" in part
        assert "Your request will still be considered" in part
    assert bold(body(html)) == []  # a gentle reminder to the requester; the approvers see it in bold


def test_acknowledgement_before_issue_thanks_them_for_planning(composer):
    for part in both(composer, "exemption/acknowledgement", timing="before-issue", months=["January 2027"]):
        assert "before the month's audits were issued" in part and "forward planning" in part
        assert "for January 2027." in part and "last day of the month" in part
        assert "last week" not in part


def test_acknowledgement_of_a_request_made_on_behalf_of_a_staff_member(composer):
    for part in both(composer, "exemption/acknowledgement", person_name="Priya", next_step="director",
                     hos_name="", on_behalf_of="Sam Okafor", outside_examples=True, reason_label="Other",
                     timing="after-issue"):
        assert "Dear Priya" in part
        assert "your request for Sam Okafor to be exempted" in part
        assert "your support is taken as given, and it has come straight to me" in part
        assert "outside the examples listed in my letter" in part
        assert "Sam Okafor's audits for December 2026 and January 2027 are still due as usual" in part
        assert "your Head of Service" not in part


def test_acknowledgement_going_straight_to_the_director(composer):
    for part in both(composer, "exemption/acknowledgement", next_step="director", hos_name="", timing="after-issue"):
        assert "It has come straight to me" in part and "Head of Service, " not in part


# --- exemption: to the Head of Service ----------------------------------------------------------------

def test_head_of_service_is_asked_to_support_or_decline(composer):
    text, html = render(composer, "exemption/to_hos")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        for value in ("Dear Priya", "Re: Exemption request EXM-2026-12-003 from Sam Okafor",
                      "Sam Okafor (Safeguarding East) has asked to be exempted",
                      "for December 2026 and January 2027", f"reached the audit mailbox at {RECEIVED_WORDS}",
                      "go via the Head of Service", words(REASON),
                      "The reason is recorded as: Other. This reason is outside the examples",
                      "Please note: this request was made in the last week of the month.",
                      "hasn't been any timely planning and the audit has been left to the last minute",
                      "These audits are already allocated to Sam Okafor",
                      '"Support" or "Decline" on the first line', "any comment on the lines below",
                      "it comes to me with your comment", "the deadline stands"):
            assert value in part, value
    assert "delegate" not in words(text)
    marked = bold(body(html))
    assert "Please note: this request was made in the last week of the month." in marked
    assert any("outside the examples" in b for b in marked)
    assert {"Support", "Decline"} <= set(marked)


def test_the_requesters_words_are_escaped_and_kept_line_by_line(composer):
    text, html = render(composer, "exemption/to_hos")
    assert "My manager knows <b>all</b> about it." in text
    assert "<b>" not in html and "My manager knows &lt;b&gt;all&lt;/b&gt; about it." in html
    assert "February.<br>My manager" in html
    assert "\n    My manager knows" in text  # set off, indented


def test_a_request_within_the_examples_and_before_issue(composer):
    text, html = render(composer, "exemption/to_hos", reason_label=ABSENCE, outside_examples=False,
                        timing="before-issue", allocations=[], delegate_for="Tom Reed")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        assert f"The reason is recorded as: {ABSENCE}. This is one of the examples" in part
        assert "before the month's audits were issued: the good forward planning my letter asks for" in part
        assert "No audits have been allocated to Sam Okafor for December 2026 and January 2027 yet." in part
        assert "as the delegate for Tom Reed" in part
        for absent in ("last week", "outside the examples", "already allocated"):
            assert absent not in part
    assert "Please note" not in html


def test_a_request_after_issue_asks_for_the_earliest_opportunity(composer):
    for part in both(composer, "exemption/to_hos", timing="after-issue", allocations=[A3]):
        assert "made after the month's audits were issued" in part
        assert "at the earliest possible opportunity" in part and "last week" not in part
        assert "This audit is already allocated to Sam Okafor" in part


@pytest.mark.parametrize("name", ["exemption/acknowledgement", "exemption/to_hos", "exemption/to_director"])
def test_an_unknown_timing_is_an_error(composer, name):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, name, timing="late")


def test_an_unknown_next_step_is_an_error(composer):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, "exemption/acknowledgement", next_step="qa")


# --- exemption: to the Director -----------------------------------------------------------------------

def test_director_is_asked_to_approve_or_reject_with_the_head_of_services_view(composer):
    text, html = render(composer, "exemption/to_director")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        for value in ("Dear Imogen", "Sam Okafor (Safeguarding East) has asked to be exempted",
                      "Priya Shah, Sam Okafor's Head of Service, supports it. They wrote:",
                      "Supported: the surgery is booked. Sam has <i>no</i> cover.", words(REASON),
                      "outside the examples of exceptional circumstances",
                      "Please note: this request was made in the last week of the month.",
                      '"Approve" or "Reject" on the first line', "decided case by case",
                      "the audits listed above leave the completion figures and their reminders stop",
                      "If you reject it, the deadline stands",
                      "Sam Okafor, Priya Shah and the Quality Assurance Team will be told"):
            assert value in part, value
    assert "&lt;i&gt;no&lt;/i&gt;" in html and "<i>" not in html
    marked = bold(body(html))
    assert "Please note: this request was made in the last week of the month." in marked
    assert {"Approve", "Reject"} <= set(marked)


def test_director_sees_a_request_made_on_behalf_with_no_comment(composer):
    for part in both(composer, "exemption/to_director", on_behalf=True, hos_comment="", allocations=[],
                     timing="before-issue", delegate_for="Imogen Thackeray", person_name="Marcus"):
        assert "made the request on their behalf, so their support is implied. They added no comment." in part
        assert "as the delegate for Imogen Thackeray, to decide in their place" in part
        assert "any audits allocated to Sam Okafor for December 2026 and January 2027 leave" in part
        assert "good forward planning" in part and "supports it" not in part


# --- exemption: declined and decided -----------------------------------------------------------------

def test_declined_by_head_of_service_means_the_deadline_stands(composer):
    for part in both(composer, "exemption/declined_by_hos"):
        for value in ("Dear Sam", "Priya Shah, your Head of Service, has not supported your exemption request "
                      "EXM-2026-12-003 for December 2026", "Priya Shah wrote: Let's talk about cover instead.",
                      "the deadline stands", "last day of the month", "please speak to Priya Shah",
                      '"Slippage" in the subject'):
            assert value in part, value


def test_declined_without_a_comment(composer):
    text, _ = render(composer, "exemption/declined_by_hos", comment="")
    assert "wrote" not in text
    assert "has not been agreed.\n\nThis means the deadline stands" in text


def test_approved_exemption_takes_the_audits_out_of_the_figures(composer):
    text, html = render(composer, "exemption/decided", salutation="Colleagues")
    for part in (words(text), readable(html)):
        for value in ("Dear Colleagues", "Our Ref: IT/qa/EXM-2026-12-003",
                      # The Director's own decision, in her own letter, is in her own voice.
                      "I have approved the exemption request EXM-2026-12-003 from Sam Okafor, for "
                      "December 2026 and January 2027. My comment: Approved given the surgery.",
                      "These audits are now exempt. They leave the month's completion figures, "
                      "and no more reminders will be sent for them"):
            assert value in part, value
        assert "deadline stands" not in part and "by Imogen Thackeray" not in part


def test_a_decision_by_someone_else_names_them(composer):
    # A delegate deciding for the Director is named; the letter is still signed by the Director.
    for part in both(composer, "exemption/decided", decided_by="Priya Shah"):
        assert ("The exemption request EXM-2026-12-003 from Sam Okafor, for December 2026 and January 2027, "
                "has been approved by Priya Shah. Priya Shah wrote: Approved given the surgery.") in part


def test_approved_exemption_with_nothing_yet_allocated(composer):
    for part in both(composer, "exemption/decided", allocations=[], comment=""):
        assert "No audits had been allocated to Sam Okafor" in part
        assert "Quality Assurance Team will take the exemption into account" in part
        assert "wrote" not in part


def test_rejected_exemption_means_the_deadline_stands(composer):
    for part in both(composer, "exemption/decided", decision="rejected", allocations=[], months=["December 2026"]):
        assert "I have not approved the exemption request EXM-2026-12-003 from Sam Okafor" in part
        assert "The deadline stands: Sam Okafor's audits for December 2026 are due as usual" in part
        assert "exempt." not in part and "leave the month's completion figures" not in part


def test_an_unknown_decision_is_an_error(composer):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, "exemption/decided", decision="supported")


# --- approvals ---------------------------------------------------------------------------------------

def test_ask_again_says_nothing_is_decided_and_how_to_answer(composer):
    text, html = render(composer, "approvals/ask_again")
    assert '  - the first line said "maybe next week"' in text
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        assert "could not read it as a decision" in part
        assert "Nothing has been decided yet" in part
        assert "your answer on the first line, on its own" in part
        assert "Your answer can be: Support or Decline." in part


def test_already_decided_changes_nothing(composer):
    for part in both(composer, "approvals/already_decided"):
        assert f"it was declined by Priya Shah at {RECEIVED_WORDS}" in part
        assert "Your reply has not changed anything" in part


def test_refused_decision_is_reported_to_the_qa_team(composer):
    text, html = render(composer, "approvals/refused", salutation="Colleague")
    for part in (words(text), readable(html)):
        for value in ("Dear Colleagues", "a reply about EXM-2026-12-003 that tried to decide it",
                      "nothing has changed", "From lee.chen@wexcombe.example", f"Received {RECEIVED_WORDS}",
                      "Message-ID <AM0PR01MB1234@eurprd01.prod.exchangelabs.com>",
                      "- it failed the DMARC check", "assigned approver, or their configured delegate",
                      "check with the sender"):
            assert value in part, value
    assert "&lt;AM0PR01MB1234@eurprd01.prod.exchangelabs.com&gt;" in html
    assert "  Message-ID    <AM0PR01MB1234@eurprd01.prod.exchangelabs.com>" in text  # data, not wrapped


def test_reminder_asks_the_waiting_approver(composer):
    for part in both(composer, "approvals/reminder"):
        assert "Reminder: exemption request EXM-2026-12-003 is waiting for your answer" in part
        assert "from Sam Okafor has been waiting for your answer for 3 working days" in part
        assert "Your answer can be: Support or Decline." in part
        assert "Nothing is decided until you reply" in part


def test_reminder_about_slippage_with_one_day(composer):
    for part in both(composer, "approvals/reminder", kind="slippage", waiting_working_days=1, options=SLP_OPTIONS):
        assert "The slippage notice EXM-2026-12-003" in part and "for 1 working day." in part
        assert 'Your answer can be: Yes with a date (for example "Yes, by 7 January"), or No.' in part


@pytest.mark.parametrize("name", ["approvals/reminder", "approvals/escalation"])
def test_an_unknown_kind_is_an_error(composer, name):
    with pytest.raises(jinja2.UndefinedError):
        render(composer, name, kind="moderation")


def test_escalation_never_decides_on_a_timeout(composer):
    text, html = render(composer, "approvals/escalation")
    for part in (words(text), readable(html)):
        for value in ("Dear Colleagues", "Slippage notice SLP-2026-12-002 is still waiting for an answer",
                      "waiting for an answer from Priya Shah for 6 working days",
                      "Nothing is ever decided on a timeout", "please chase Priya Shah",
                      "their delegate can decide in their place", "The answer can be: Yes with a date"):
            assert value in part, value


# --- slippage ----------------------------------------------------------------------------------------

def test_slippage_acknowledgement_says_who_was_told_and_that_the_deadline_stands(composer):
    for part in both(composer, "slippage/acknowledgement"):
        for value in ("Dear Sam", f"reached the audit mailbox at {RECEIVED_WORDS}", "its reference is SLP-2026-12-002",
                      "It is about these audits", "I have told Priya Shah, your Head of Service, and the "
                      "Quality Assurance Team", "capacity to accommodate a later date",
                      f"Until a later date is agreed, the deadline of {DEADLINE_WORDS} stands",
                      "cannot be counted in the month's completion figures"):
            assert value in part, value


def test_head_of_service_is_told_of_slippage_for_information(composer):
    text, html = render(composer, "slippage/to_hos")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        for value in ("Dear Priya", "(for information)", "Sam Okafor has told the audit mailbox of a risk of slippage",
                      f"due by {DEADLINE_WORDS}", "Sam Okafor wrote: I am in court all next week. "
                      "I can finish by 7 January.", "You do not need to reply",
                      "Without an agreed later date, the deadline stands"):
            assert value in part, value
    assert "next week.<br>I can finish" in html


def test_qa_team_is_asked_yes_with_a_date_or_no(composer):
    text, html = render(composer, "slippage/to_qa")
    assert "\n    Yes, by 7 January\n" in text
    for part in (words(text), readable(html)):
        for value in ("Dear Colleagues", "Sam Okafor (Safeguarding East) has told the audit mailbox",
                      "Priya Shah, their Head of Service, has been told", '"Yes" and the date they can be '
                      "completed by on the first line", "Yes, by 7 January", '"No" if there is no capacity',
                      "counts if it reaches the mailbox by 23:59 on that date",
                      "Without an agreed later date, the deadline stands"):
            assert value in part, value


def test_slippage_agreed_gives_the_new_date(composer):
    text, html = render(composer, "slippage/outcome")
    for part in (words(text), readable(html)):
        for value in ("Dear Colleagues", "Slippage SLP-2026-12-002: later date agreed",
                      "Lee Chen has confirmed, for the Quality Assurance Team, that there is capacity",
                      f"counted if they reach the audit mailbox by {EXTENDED_WORDS}, instead of the deadline "
                      f"of {DEADLINE_WORDS}", "Lee Chen wrote: We can moderate it in the second week."):
            assert value in part, value
    assert EXTENDED_WORDS in bold(body(html))


def test_slippage_not_agreed_means_the_deadline_stands(composer):
    for part in both(composer, "slippage/outcome", agreed=False, agreed_until=None, comment="", allocations=[A1]):
        assert "no later date agreed" in part and "there is no capacity" in part
        assert f"the deadline of {DEADLINE_WORDS} stands for this audit" in part
        assert "send it by then" in part and "wrote" not in part and "January 2027" not in part


def test_slippage_after_the_deadline_is_too_late(composer):
    text, html = render(composer, "slippage/too_late")
    for part in (words("Dear " + body(text)), readable("Dear " + body(html))):
        for value in ("Dear Sam", f"reached the audit mailbox at {LATE_WORDS}, after the deadline of {DEADLINE_WORDS}",
                      "must be raised with your Head of Service before the deadline",
                      "a later date can no longer be agreed", "Please still complete and send it",
                      "will not be counted in the month's completion figures",
                      "The Quality Assurance Team has been told"):
            assert value in part, value
    assert "Our Ref: IT/qa\n" in text  # no item reference: the notice was never opened


def test_qa_team_is_told_of_a_late_slippage_notice(composer):
    for part in both(composer, "slippage/too_late_qa"):
        for value in ("Dear Colleagues", f"Sam Okafor reported slippage at {LATE_WORDS}, after the deadline of "
                      f"{DEADLINE_WORDS}, for this audit", "nothing is asked of you", "not counted"):
            assert value in part, value
