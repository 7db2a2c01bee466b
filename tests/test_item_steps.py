"""The rules of each kind of item on their own: plain records and an answer in, a plan out.

No store, no mailbox, no deployment: these are the steps `app/plans.py` makes durable. The people
are the sample roster's (app/sample/roster.csv); the audits are December 2026's.
"""
from datetime import date, datetime, timezone

import pytest

from core.reference import Reference, find_references, month_of_reference, prefix_of
from workflows import approvals, audits, exemptions, registry, slippage
from workflows.answers import Intent
from workflows.items import Answer, Audits, People, Seen, with_audits
from workflows.roster import Person

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
MARCUS, DANIEL = "marcus.ellery@wexcombe.example", "daniel.okafor@wexcombe.example"
DIRECTOR, PRIYA = "imogen.thackeray@wexcombe.example", "priya.ramsden@wexcombe.example"
PEOPLE = People({p.email: p for p in (
    Person(DIRECTOR, "Imogen Thackeray", ("director",), "Directorate", ""),
    Person(PRIYA, "Priya Ramsden", ("qa", "moderator"), "Quality Assurance", ""),
    Person(MARCUS, "Marcus Ellery", ("head_of_service", "auditor"), "Children in Care", DIRECTOR),
    Person(DANIEL, "Daniel Okafor", ("head_of_service", "auditor"), "Early Help and Family Support", DIRECTOR),
    Person(AISHA, "Aisha Patel", ("auditor",), "Children in Care", MARCUS),
    Person(BEN, "Ben Hartley", ("auditor",), "Children in Care", MARCUS),
)}, director=DIRECTOR, delegates={MARCUS: DANIEL})
NOW = datetime(2026, 12, 10, 12, 0, tzinfo=timezone.utc)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def allocation(number: int, auditor: str = AISHA, month: str = "2026-12") -> dict:
    return {"reference": audits.reference(month, number), "month": month, "auditor": auditor,
            "case_ref": f"CR-4011{number}", "audit_type": "monthly", "service": "Children in Care", "exempt": False}


DECEMBER = Audits((allocation(1), allocation(2), allocation(3, BEN)), {})


def answer(sender: str, intent: Intent, comment: str = "", at: datetime = NOW, **more) -> Answer:
    return Answer(sender=sender, received_at=at, message_id=f"<{sender.split('@')[0]}-{at:%d%H%M}@wexcombe.example>",
                  intent=intent, comment=comment, **more)


# --- exemptions ---------------------------------------------------------------------------------

def exemption(state: str = "awaiting_hos", months=("2026-12",)) -> dict:
    requester, sender = PEOPLE.get(AISHA), PEOPLE.get(AISHA)
    record = exemptions.new_request("EXM-2026-12-001", "Exemption request\nI have been signed off sick after surgery.",
                                    "I have been signed off sick after surgery.", requester, sender,
                                    utc(2026, 12, 3, 9, 0), "<req@wexcombe.example>", DIRECTOR,
                                    issued_at=lambda month: utc(2026, 12, 1, 8, 30).isoformat())
    record |= {"months": list(months), "state": state,
               "approver": DIRECTOR if state != "awaiting_hos" else MARCUS}
    if state == "awaiting_director":
        record["history"].append(answer(MARCUS, Intent.YES).event("supported"))
    return with_audits(record, DECEMBER)


def test_a_new_request_is_placed_timed_and_waits_on_the_head_of_service():
    record = exemption()
    assert (record["state"], record["approver"], record["reason_category"]) == ("awaiting_hos", MARCUS, "absence")
    assert record["timing"] == "after-issue" and record["history"][0]["action"] == "requested"


def test_a_head_of_service_asking_for_their_staff_goes_straight_to_the_director_with_support_implied():
    record = exemptions.new_request("EXM-2026-12-002", "Exemption request for Ben", "for Ben", PEOPLE.get(BEN),
                                    PEOPLE.get(MARCUS), utc(2026, 11, 20, 9, 0), "<m@x>", DIRECTOR, lambda m: None)
    assert (record["state"], record["approver"], record["on_behalf"]) == ("awaiting_director", DIRECTOR, True)
    assert [e["action"] for e in record["history"]] == ["requested", "supported"]


def test_support_sends_it_to_the_director_with_the_head_of_services_words():
    plan = exemptions.step(exemption(), answer(MARCUS, Intent.YES, "Aisha has been unwell."), PEOPLE, NOW)
    [change] = plan.changes
    assert change.changes == {"state": "awaiting_director", "waiting_since": NOW.isoformat(),
                              "approver": DIRECTOR, "hos_comment": "Aisha has been unwell."}
    assert change.event["action"] == "supported" and change.event["by"] == MARCUS
    [ask] = plan.letters
    assert (ask.to, ask.kind, ask.template) == ([DIRECTOR], "exemption-ask:awaiting_director", "exemption/to_director")
    assert ask.subject == "[EXM-2026-12-001] Exemption request from Aisha Patel: please reply Approve or Reject"
    assert [a["reference"] for a in ask.context["allocations"]] == ["AUD-2026-12-001", "AUD-2026-12-002"]
    assert plan.outcome == "exemption-awaiting_director" and not plan.allocation_changes


def test_decline_tells_the_requester_and_never_reaches_the_director():
    plan = exemptions.step(exemption(), answer(MARCUS, Intent.NO, "Not this month."), PEOPLE, NOW)
    assert plan.changes[0].changes["state"] == "declined"
    [letter] = plan.letters
    assert (letter.to, letter.kind) == ([AISHA], "exemption-declined")
    assert letter.context["comment"] == "Not this month." and letter.context["hos_name"] == "Marcus Ellery"
    assert DIRECTOR not in [*letter.to, *letter.cc]


def test_approval_exempts_the_requesters_audits_and_tells_requester_head_and_qa():
    plan = exemptions.step(exemption("awaiting_director"), answer(DIRECTOR, Intent.YES), PEOPLE, NOW)
    assert plan.changes[0].changes["state"] == "approved"
    assert plan.allocation_changes == [(f"AUD-2026-12-00{n}", {"exempt": True, "exempted_by": "EXM-2026-12-001"})
                                       for n in (1, 2)]  # Ben's audit is not Aisha's
    [letter] = plan.letters
    assert (letter.to, letter.cc, letter.subject) == ([AISHA, MARCUS], [PRIYA],
                                                      "[EXM-2026-12-001] Exemption request approved")


def test_rejection_leaves_the_audits_due():
    plan = exemptions.step(exemption("awaiting_director"), answer(DIRECTOR, Intent.NO, "Please ask again in January."),
                           PEOPLE, NOW)
    assert plan.changes[0].changes["state"] == "rejected" and not plan.allocation_changes
    assert plan.letters[0].context["allocations"] == [] and plan.letters[0].kind == "exemption-rejected"


def test_a_settled_request_takes_no_further_answer():
    with pytest.raises(ValueError):
        exemptions.step(exemption("approved"), answer(DIRECTOR, Intent.NO), PEOPLE, NOW)
    assert exemptions.KIND.is_final({"state": "approved"}) and not exemptions.KIND.is_final({"state": "awaiting_hos"})


def test_who_answers_an_exemption_and_what_they_may_say():
    record = exemption()
    assert exemptions.KIND.answerers(record, PEOPLE) == [MARCUS]
    assert exemptions.KIND.options(record) == "Support or Decline"
    assert exemptions.KIND.options(exemption("awaiting_director")) == "Approve or Reject"
    assert exemptions.KIND.waiting_line(record, PEOPLE) == "EXM-2026-12-001  Aisha Patel: waiting on Marcus Ellery"


def test_an_away_head_of_service_hands_the_request_to_their_delegate_once():
    notice = answer(MARCUS, Intent.UNCLEAR)
    plan = approvals.away(exemptions.KIND, exemption(), notice, PEOPLE)
    assert plan.outcome == "sent-to-delegate" and [c.event["action"] for c in plan.changes] == ["away", "delegated"]
    assert plan.letters[0].to == [DANIEL] and plan.letters[0].context["delegate_for"] == "Marcus Ellery"
    again = exemption()
    again["history"].append(notice.event("delegated", f"sent to {DANIEL}"))
    assert approvals.away(exemptions.KIND, again, notice, PEOPLE).outcome == "approver-away"


# --- slippage -----------------------------------------------------------------------------------

def notice(submissions=None) -> dict:
    record = slippage.new_notice("SLP-2026-12-001", "2026-12", AISHA, ["AUD-2026-12-001"], "Court all week.",
                                 utc(2026, 12, 18, 10, 0), "<slp@wexcombe.example>")
    return with_audits(record, Audits(DECEMBER.allocations, submissions or {}))


def test_yes_with_a_date_moves_the_deadline_and_counts_a_late_submission_within_it():
    late = {"reference": "AUD-2026-12-001", "received_at": utc(2027, 1, 4, 9, 0).isoformat(), "counts": False}
    too_late = {"reference": "AUD-2026-12-001", "received_at": utc(2027, 1, 9, 9, 0).isoformat(), "counts": False}
    record = notice({"AUD-2026-12-001": [late, too_late]})
    plan = slippage.step(record, answer(PRIYA, Intent.YES, agreed_date=date(2027, 1, 7)), PEOPLE, NOW)
    until = slippage.agreed_deadline(date(2027, 1, 7))
    assert plan.changes[0].changes == {"state": "agreed", "agreed_until": until.isoformat()}
    assert plan.allocation_changes == [("AUD-2026-12-001", {"deadline": until.isoformat(),
                                                            "extended_by": "SLP-2026-12-001"})]
    assert plan.submission_changes == [("AUD-2026-12-001", late["received_at"],
                                        {"counts": True, "counted_by": "SLP-2026-12-001"})]
    [letter] = plan.letters
    assert (letter.to, letter.subject) == ([AISHA, MARCUS], "[SLP-2026-12-001] Slippage agreed")


def test_no_keeps_the_deadline_and_passes_on_the_qa_teams_own_words():
    plan = slippage.step(notice(), answer(PRIYA, Intent.NO, words="Sorry, no capacity this month."), PEOPLE, NOW)
    assert plan.changes[0].changes == {"state": "refused", "agreed_until": None}
    assert not plan.allocation_changes and not plan.submission_changes
    assert plan.letters[0].context["comment"] == "Sorry, no capacity this month."
    assert plan.letters[0].subject == "[SLP-2026-12-001] Slippage not agreed"
    bare = slippage.step(notice(), answer(PRIYA, Intent.NO, words="No."), PEOPLE, NOW)
    assert bare.letters[0].context["comment"] == ""


def test_an_agreed_date_must_fall_after_the_deadline():
    record = notice()
    assert slippage.KIND.doubt(record, answer(PRIYA, Intent.YES, agreed_date=date(2026, 12, 31))) == \
        "the date given is not after the month's deadline"
    assert slippage.KIND.doubt(record, answer(PRIYA, Intent.YES, agreed_date=date(2027, 1, 1))) is None
    assert slippage.KIND.doubt(record, answer(PRIYA, Intent.NO)) is None


def test_the_whole_qa_team_answers_a_slippage_notice_and_nobody_stands_in():
    record = notice()
    assert slippage.KIND.answerers(record, PEOPLE) == [PRIYA]
    assert approvals.away(slippage.KIND, record, answer(PRIYA, Intent.UNCLEAR), PEOPLE).letters == []
    assert slippage.KIND.waiting_line(record, PEOPLE) == "SLP-2026-12-001  Aisha Patel: waiting on the QA team"


# --- audits, references and the registry --------------------------------------------------------

def test_an_audits_state_is_derived_from_its_submissions():
    assert audits.state_of(allocation(1), []) == "outstanding"
    assert audits.state_of(allocation(1), [{"counts": False}]) == "late"
    assert audits.state_of(allocation(1), [{"counts": False}, {"counts": True}]) == "on_time"
    assert audits.state_of({**allocation(1), "exempt": True}, [{"counts": True}]) == "exempt"


def test_a_reference_is_made_and_read_in_one_place():
    ref = Reference.parse("exm-2026-12-007")
    assert (ref.prefix, ref.month, ref.number, str(ref), ref.bracketed) == \
        ("EXM", "2026-12", 7, "EXM-2026-12-007", "[EXM-2026-12-007]")
    assert Reference.read("EXM-2026-13-001") is None and Reference.read("not one") is None
    assert prefix_of("SLP-2027-01-002") == "SLP" and month_of_reference("AUD-2026-11-017") == "2026-11"
    assert find_references(["Re: [aud-2026-12-004] and XYZ-2026-12-001, AUD-2026-12-004"], {"AUD"}) == \
        ["AUD-2026-12-004"]


def test_each_reference_belongs_to_the_kind_that_owns_it():
    assert registry.kind_of("EXM-2026-12-001") is exemptions.KIND
    assert registry.kind_of("SLP-2026-12-001") is slippage.KIND
    assert registry.kind_of("AUD-2026-12-001") is audits.KIND
    assert registry.kind_of("XYZ-2026-12-001") is None
    assert registry.answered_by_reply(["AUD-2026-12-001", "SLP-2026-12-001", "EXM-2026-12-001"]) == \
        ["SLP-2026-12-001", "EXM-2026-12-001"]
    assert [k.prefix for k in registry.chased()] == ["EXM", "SLP", "MOD"]


@pytest.mark.parametrize("subject, newest, thread, kind", [
    ("Re: [EXM-2026-12-001] Exemption request", "Happy to support", None, "reply"),
    ("Exemption request", "Signed off sick", None, "exemption"),
    ("Slippage", "[AUD-2026-12-001] Grade: Good by next week", None, "slippage"),
    ("Re: your audits", "Grade: Good", {"refs": ["AUD-2026-12-001"], "kind": "allocation"}, "submission"),
    ("[AUD-2026-12-001]", "", None, "submission"),
    ("Re: receipt", "Thank you!", {"refs": ["AUD-2026-12-001"], "kind": "receipt"}, "reply"),
    ("Hello", "Can you help?", None, None),
])
def test_the_recognisers_run_in_their_explicit_order(subject, newest, thread, kind):
    seen = Seen(subject, newest, thread, tuple(registry.references_in(" ".join((thread or {}).get("refs", [])),
                                                                       subject, newest)))
    found = next((k for k in (recognise(seen) for recognise in registry.RECOGNISERS) if k), None)
    assert found == kind


def test_a_daemon_back_at_midnight_chases_no_one_before_the_working_days_hour():
    from workflows.approvals import chases_due
    from workflows.calendar import WorkingCalendar

    waiting_since = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)  # Tuesday
    def due(now):
        return chases_due("MOD-2026-11-001", "awaiting_moderator", waiting_since, now, WorkingCalendar(),
                          remind_after=2, escalate_after=4, hour=9, reminded_on=None)
    assert due(datetime(2026, 12, 8, 0, 0, 1, tzinfo=timezone.utc)) == [], "overdue, but not at midnight"
    [reminder] = due(datetime(2026, 12, 8, 9, 0, tzinfo=timezone.utc))
    assert reminder.step == "reminder" and reminder.key == "chase:reminder:MOD-2026-11-001:awaiting_moderator"
