"""Remedial actions as people live them: raised at submission, owned, closed by the owner's Done, reminded when late."""
from app.demo_mail import outlook_reply
from conftest import MAILBOX, issue, letters_to, stored_item, text_of, utc

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
GARETH, MARCUS = "gareth.lyle@wexcombe.example", "marcus.ellery@wexcombe.example"
PRIYA = "priya.ramsden@wexcombe.example"
ALLOCATIONS = f"""auditor_email,case_ref,audit_type,team_manager_email
{AISHA},CR-40117,monthly,{GARETH}
{BEN},CR-40133,dip sample,
"""
ACT = "ACT-2026-12-001"


def reply(site, sender: str, letter, words: str, at):
    """`sender` answers one of our letters from Outlook, received at `at`."""
    site.receive(outlook_reply(sender, MAILBOX, letter, at, words), at=at)


def action(site, now, reference=ACT) -> dict:
    return stored_item(site, reference, now)


def submit(site, who: str, words: str, at):
    [letter] = letters_to(site, who, "Your audits")
    reply(site, who, letter, words, at)
    site.once(at)


def raised(site):
    """December issued; Aisha's audit (team manager Gareth) says remedial action is needed, on Thursday 3rd."""
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    submit(site, AISHA, "Grade: Inadequate\nRemedial action: yes - no visit since October", utc(2026, 12, 3, 10, 0))
    [alert] = letters_to(site, GARETH, "Remedial action needed")
    return alert


def test_an_alert_at_submission_is_an_action_with_an_owner_and_a_due_date(site):
    alert = raised(site)
    assert alert["Subject"] == f"[{ACT}] [AUD-2026-12-001] Remedial action needed: please act now"
    assert GARETH in alert["To"] and MARCUS in alert["To"] and PRIYA in alert["Cc"]
    body = text_of(alert)
    assert "owned by Gareth Lyle" in body and "Thursday 17th December 2026" in body
    assert "reply to this email with the word Done" in body and "CR-40117" in body
    record = action(site, utc(2026, 12, 3, 11))
    # 10 working days after Thursday 3rd December: Thursday 17th.
    assert (record["owner"], record["due"], record["state"]) == (GARETH, "2026-12-17", "open")
    assert (record["audit"], record["case_ref"], record["auditor"]) == ("AUD-2026-12-001", "CR-40117", AISHA)
    assert record["details"] == "no visit since October"
    [receipt] = letters_to(site, AISHA, "Received")
    assert "remedial action is needed for the child in AUD-2026-12-001" in text_of(receipt)


def test_without_a_team_manager_the_head_of_service_owns_it_and_missing_details_are_asked_for(site):
    issue(site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    submit(site, BEN, "Grade: Inadequate\nRemedial action: yes", utc(2026, 12, 3, 10, 0))
    [alert] = letters_to(site, MARCUS, "Remedial action needed")     # not held back for the details
    assert "no details were given" in text_of(alert)
    [ask] = letters_to(site, BEN, "please send the details")
    assert ask["Subject"] == f"[{ACT}] [AUD-2026-12-002] Remedial action: please send the details"
    assert action(site, utc(2026, 12, 3, 11))["owner"] == MARCUS
    # Ben's answer is kept with the action (not a Done, and not his to close).
    reply(site, BEN, ask, "The child has not been seen by the social worker for eight weeks.", utc(2026, 12, 3, 14))
    site.once(utc(2026, 12, 3, 14))
    history = action(site, utc(2026, 12, 3, 15))["history"]
    assert history[-1]["action"] == "comment" and "eight weeks" in history[-1]["comment"]


def test_done_from_the_owner_closes_it_with_their_note(site):
    alert = raised(site)
    reply(site, f"Gareth Lyle <{GARETH}>", alert, "Done - home visit made on 4 December and the plan reviewed.",
          utc(2026, 12, 4, 16, 0))
    site.once(utc(2026, 12, 4, 16, 0))
    record = action(site, utc(2026, 12, 4, 17))
    assert record["state"] == "done" and record["done_note"] == "home visit made on 4 December and the plan reviewed."
    assert record["history"][-1]["by"] == GARETH
    [done] = letters_to(site, GARETH, "recorded as done")
    assert AISHA in done["Cc"] and "home visit made on 4 December" in text_of(done)
    # A second Done is answered "already decided", never applied twice.
    reply(site, f"Gareth Lyle <{GARETH}>", alert, "Done - visit made.", utc(2026, 12, 4, 16, 30))
    site.once(utc(2026, 12, 4, 16, 30))
    assert letters_to(site, GARETH, "Already decided")


def test_done_from_anyone_else_is_refused_and_changes_nothing(site):
    alert = raised(site)
    reply(site, f"Ben Hartley <{BEN}>", alert, "Done - I visited the child.", utc(2026, 12, 4, 9, 0))
    site.once(utc(2026, 12, 4, 9, 0))
    record = action(site, utc(2026, 12, 4, 10))
    assert record["state"] == "open"
    assert record["history"][-1]["action"] == "refused" and record["history"][-1]["by"] == BEN
    assert not letters_to(site, PRIYA, "refused")   # gathered into the digest, no letter each
    ctx = site.open(utc(2026, 12, 4, 10), read_only=True)
    notes = [t["note"] for t in ctx.ledger.triage("2026-12")]
    ctx.close()
    assert any(n.startswith(f"{ACT}: decision from {BEN} refused") for n in notes)


def test_an_unclear_reply_from_the_owner_is_asked_again(site):
    alert = raised(site)
    reply(site, f"Gareth Lyle <{GARETH}>", alert, "Not done yet, the visit is booked for Monday.", utc(2026, 12, 4, 9))
    site.once(utc(2026, 12, 4, 9))
    [ask] = letters_to(site, GARETH, "Nothing decided yet")
    assert "Done, with a note of what was done" in ask["Subject"]
    assert action(site, utc(2026, 12, 4, 10))["state"] == "open"


def test_an_overdue_action_is_reminded_once_a_working_day(site):
    raised(site)
    site.once(utc(2026, 12, 17, 12, 0))                       # due today: not overdue yet
    assert not letters_to(site, GARETH, "Overdue")
    site.once(utc(2026, 12, 18, 7, 0))                        # overdue, but before the morning's hour
    assert not letters_to(site, GARETH, "Overdue")
    site.once(utc(2026, 12, 18, 8, 5))
    site.once(utc(2026, 12, 18, 15, 0))                       # a second pass the same day sends nothing
    [reminder] = letters_to(site, GARETH, "Overdue")
    assert reminder["Subject"] == f"[{ACT}] Overdue: remedial action for case CR-40117"
    assert "1 working day late" in text_of(reminder)
    site.once(utc(2026, 12, 19, 9, 0))                        # Saturday: no reminder
    site.once(utc(2026, 12, 21, 9, 0))                        # Monday: the next one
    assert len(letters_to(site, GARETH, "Overdue")) == 2
