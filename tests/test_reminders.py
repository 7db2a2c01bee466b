"""Reminders fall on working days, go only to those with audits outstanding, and are never doubled."""
from app.demo_mail import gmail_reply
from conftest import issue, letters_to, text_of, utc

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
HOS = "marcus.ellery@wexcombe.example"
DECEMBER = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"


def reminders(site) -> list[tuple[str, str]]:
    return [(m["To"], m["Subject"]) for m in site.sent() if "Reminder" in m["Subject"]]


def test_the_december_ladder_skips_christmas_and_the_boxing_day_substitute(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 12, 3, 10, 0), shape=gmail_reply)
    # 10 working days before Thursday 31st: 30, 29, 24, 23, 22, 21, 18, 17, 16, 15 (25th and 28th are holidays).
    site.once(utc(2026, 12, 15, 8, 59))
    assert reminders(site) == []
    site.once(utc(2026, 12, 15, 9, 0))
    assert reminders(site) == [(BEN, "[AUD-2026-12-002] Reminder: audits due by Thursday 31st December 2026")]
    site.once(utc(2026, 12, 15, 14, 0))
    site.once(utc(2026, 12, 21, 9, 0))
    assert len(reminders(site)) == 1
    site.once(utc(2026, 12, 22, 9, 0))   # 5 working days before: 30, 29, 24, 23, 22
    site.once(utc(2026, 12, 25, 9, 0))
    site.once(utc(2026, 12, 28, 9, 0))
    assert len(reminders(site)) == 2
    site.once(utc(2026, 12, 31, 9, 0))
    assert reminders(site)[-1] == (BEN, "[AUD-2026-12-002] Reminder: audits due today")
    assert "23:59" in text_of(letters_to(site, BEN, "due today")[0])
    assert all(to == BEN for to, _ in reminders(site))  # never to Aisha, who submitted


def test_someone_who_submits_between_steps_gets_no_further_reminder(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    site.once(utc(2026, 12, 15, 9, 0))
    assert {to for to, _ in reminders(site)} == {AISHA, BEN}
    site.reply(BEN, "Your audits", "Grade: Good", at=utc(2026, 12, 16, 11, 0), shape=gmail_reply)
    site.once(utc(2026, 12, 22, 9, 0))
    assert [to for to, _ in reminders(site)].count(BEN) == 1
    assert [to for to, _ in reminders(site)].count(AISHA) == 2


def test_after_downtime_the_latest_step_is_sent_once_and_older_ones_never(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    # The daemon was down from the 1st until the afternoon of the 23rd: the 10- and 5-day steps passed.
    site.once(utc(2026, 12, 23, 14, 0))
    assert sorted(s for _, s in reminders(site)) == sorted(
        ["[AUD-2026-12-001] Reminder: audits due by Thursday 31st December 2026",
         "[AUD-2026-12-002] Reminder: audits due by Thursday 31st December 2026"])
    # Sent on the 23rd, the 5-day step says what is true that day: 24, 29, 30 and 31 remain.
    assert all("only 4 working days left" in text_of(m) for m in site.sent() if "Reminder" in m["Subject"])
    site.once(utc(2026, 12, 23, 14, 1))
    site.once(utc(2026, 12, 24, 9, 0))
    assert len(reminders(site)) == 2


def test_a_month_ending_on_a_saturday_has_its_last_reminder_on_the_friday(site):
    october = f"auditor_email,case_ref,audit_type\n{BEN},CR-40133,monthly\n"
    issue(site, "2026-10", october, utc(2026, 10, 1, 8, 0))
    site.once(utc(2026, 10, 30, 9, 0))     # Friday 30th, 09:00 (GMT again since the 25th)
    last = "[AUD-2026-10-001] Reminder: audits due by Saturday 31st October 2026"
    assert reminders(site)[-1][1] == last
    assert "last working day before the deadline of 23:59 on Saturday 31st October 2026" in text_of(site.sent()[-1])
    site.once(utc(2026, 10, 31, 9, 0))
    assert [s for _, s in reminders(site)].count(last) == 1


def test_after_the_deadline_auditors_and_heads_of_service_are_told_once_on_the_next_working_day(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2027, 1, 1, 0, 0, 5), shape=gmail_reply)  # five seconds late
    site.once(utc(2027, 1, 1, 9, 0))                   # New Year's Day: a bank holiday
    assert letters_to(site, BEN, "Not counted") == []
    site.once(utc(2027, 1, 4, 9, 0))                   # Monday: the first working day
    site.once(utc(2027, 1, 4, 9, 30))
    [ben] = letters_to(site, BEN, "Not counted")
    assert "CR-40133" in text_of(ben)
    # Aisha's receipt already told her that her late audit is not counted: no second notice for it.
    assert letters_to(site, AISHA, "Not counted") == []
    [hos] = [m for m in site.sent() if m["To"] == HOS and "not completed" in m["Subject"]]
    assert "Ben Hartley" in text_of(hos) and "Aisha Patel" in text_of(hos)
    assert "No reminder" not in text_of(hos)


def test_a_month_issued_on_a_reminder_day_gets_no_reminder_the_same_day(site):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 15, 10, 0))   # after the 10-day step's 09:00
    site.once(utc(2026, 12, 15, 10, 1))
    assert reminders(site) == []
    site.once(utc(2026, 12, 22, 9, 0))
    assert len(reminders(site)) == 2


def test_a_head_of_service_s_list_carries_the_same_figures_as_status(site):
    issue(site, "2026-12", DECEMBER + f"{HOS},CR-40140,service review\n", utc(2026, 12, 1, 8, 30))
    site.reply(AISHA, "Your audits", "Grade: Good", at=utc(2026, 12, 3, 10, 0), shape=gmail_reply)
    site.once(utc(2027, 1, 4, 9, 0))
    [hos] = [m for m in site.sent() if m["To"] == HOS and "not completed" in m["Subject"]]
    status = site.status(utc(2027, 1, 4, 10), "2026-12")
    row = next(line for line in status.splitlines() if line.startswith("Children in Care")).split()
    assert row[3:5] == ["3", "1"]                      # allocated 3 (Marcus's own included), 1 on time
    assert "33.3%" in text_of(hos) and row[-1] == "33.3%"
