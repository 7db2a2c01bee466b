"""Scheduled work never stalls: a reminder that cannot be written holds up no other letter, and is tried again."""
import logging

from app.demo_mail import new_email
from conftest import MAILBOX, issue, letters_to, utc
from mailer.compose import Composer

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
MARCUS = "marcus.ellery@wexcombe.example"  # Head of Service of both
DECEMBER = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"
# Tuesday 15th December, 09:00: ten working days before the deadline, and two working days after
# Ben's exemption request of Friday 11th, so the first reminders and Marcus's chase are due together.
MORNING = utc(2026, 12, 15, 9, 0)


def the_month_with_an_exemption_waiting(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    asked = utc(2026, 12, 11, 10, 0)
    site.receive(new_email(f"Ben Hartley <{BEN}>", MAILBOX, "Exemption request", asked,
                           "I am giving evidence at a final hearing for most of the month."), at=asked)
    site.once(asked)


def aisha_s_reminder_cannot_be_written(monkeypatch):
    """The composer fails for Aisha's reminder only, as a template bug meeting her data would."""
    real = Composer.letter

    def letter(self, template, *, to, **kwargs):
        if template == "cycle/reminder" and AISHA in to:
            raise ValueError("the reminder template met data it did not expect")
        return real(self, template, to=to, **kwargs)

    monkeypatch.setattr(Composer, "letter", letter)


def triage(site, month="2026-12") -> list[dict]:
    ctx = site.open(utc(2027, 1, 1), read_only=True)
    try:
        return ctx.ledger.triage(month)
    finally:
        ctx.close()


def test_a_reminder_that_fails_holds_up_no_other_letter_and_is_sent_at_the_next_pass(site, monkeypatch, caplog):
    the_month_with_an_exemption_waiting(site)
    aisha_s_reminder_cannot_be_written(monkeypatch)

    with caplog.at_level(logging.INFO, logger="auditmail"):
        site.once(MORNING)

    assert letters_to(site, AISHA, "Reminder") == []
    assert len(letters_to(site, BEN, "Reminder: audits due")) == 1          # the next reminder went
    assert len(letters_to(site, MARCUS, "Reminder: your decision")) == 1    # and so did the approver's chase
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"to {AISHA}" in failure.getMessage() and failure.exc_info is not None
    assert "Traceback" in caplog.text and "ValueError: the reminder template met data" in caplog.text
    [note] = [t for t in triage(site) if t.get("scheduled_failure")]
    assert AISHA in note["note"] and "tries again at every pass" in note["note"]

    site.once(utc(2026, 12, 15, 9, 5))       # still failing: tried again, but the QA team is told once a day
    assert letters_to(site, AISHA, "Reminder") == []
    assert len([t for t in triage(site) if t.get("scheduled_failure")]) == 1

    monkeypatch.undo()                       # mended: the next pass sends it, once
    site.once(utc(2026, 12, 15, 10, 0))
    site.once(utc(2026, 12, 15, 10, 5))
    assert len(letters_to(site, AISHA, "Reminder: audits due")) == 1
    assert len(letters_to(site, BEN, "Reminder: audits due")) == 1


def test_a_job_that_fails_whole_is_logged_and_the_next_job_still_runs(site, monkeypatch, caplog):
    the_month_with_an_exemption_waiting(site)

    def broken(*args, **kwargs):
        raise KeyError("ladder")

    monkeypatch.setattr("app.cycle.reminders.due_reminders", broken)
    with caplog.at_level(logging.INFO, logger="auditmail"):
        site.once(MORNING)

    assert letters_to(site, AISHA, "Reminder: audits") == letters_to(site, BEN, "Reminder: audits") == []
    assert len(letters_to(site, MARCUS, "Reminder: your decision")) == 1
    [failure] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert "send_due_letters" in failure.getMessage() and failure.exc_info is not None
    [note] = [t for t in triage(site) if t.get("scheduled_failure")]
    assert "send_due_letters" in note["note"] and "KeyError" in note["note"]

    monkeypatch.undo()
    site.once(utc(2026, 12, 15, 10, 0))
    assert len(letters_to(site, AISHA, "Reminder: audits due")) == len(letters_to(site, BEN, "Reminder: audits due")) == 1
