"""A report run before its month is settled says so at the top, and never contradicts itself.

November 2026's deadline is 23:59 on Monday 30th November; its moderation closes on Monday 7th
December (five working days on). A report before either says its figures are provisional and why,
in the same words in the HTML and the text; once moderation has closed, an audit still awaiting its
moderator is counted as unmoderated, whether or not the daemon has passed since.
"""
from datetime import date

import pytest

from conftest import Site, issue, utc
from letters import body, readable, words
from test_report_letters import MONTH, _allocation, _submission
from test_report_outputs import report_cli
from workflows.report import MonthRecords, build_report
from workflows.results import Targets

ROSTER = "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n"
BEFORE_DEADLINE = ("These figures are provisional: the deadline for November 2026's audits (23:59 on Monday 30th "
                   "November 2026) has not passed yet, and moderation is still open until Monday 7th December 2026. "
                   "They will change as audits come in.")
MODERATION_OPEN = ("These figures are provisional: moderation is still open until Monday 7th December 2026, so "
                   "grades may still change.")


@pytest.mark.parametrize(("now", "says"), [("2026-11-20T10:00", BEFORE_DEADLINE),
                                           ("2026-12-02T10:00", MODERATION_OPEN),
                                           ("2026-12-07T09:30", None)])
def test_the_report_says_at_the_top_whether_its_figures_are_provisional_and_why(tmp_path, capsys, now, says):
    site = Site(tmp_path / "site")
    issue(site, "2026-11", ROSTER, utc(2026, 11, 2, 8, 30))
    assert report_cli(site, "2026-11", tmp_path / "out", now) == 0
    printed = words(body(capsys.readouterr().out))
    html = readable(body((tmp_path / "out" / "qa-report-2026-11.html").read_text(encoding="utf-8")))
    text = words(body((tmp_path / "out" / "qa-report-2026-11.txt").read_text(encoding="utf-8")))
    for part in (printed, html, text):
        opening = part.split("Re: Monthly QA report - November 2026 ", 1)[1]
        if says:
            assert opening.startswith(says)    # the first thing the reader sees, the same in each part
        else:
            assert "provisional" not in part and opening.startswith("This is the quality assurance report")


def test_a_report_sent_early_says_it_is_provisional_in_both_parts(tmp_path):
    site = Site(tmp_path / "site")
    issue(site, "2026-11", ROSTER, utc(2026, 11, 2, 8, 30))
    assert report_cli(site, "2026-11", tmp_path / "out", "2026-11-20T10:00", "--send") == 0
    [sent] = [m for m in site.sent() if "Monthly QA report" in m["Subject"]]
    assert BEFORE_DEADLINE in words(sent.get_body(("plain",)).get_content())
    assert BEFORE_DEADLINE in readable(sent.get_body(("html",)).get_content())


def awaiting_records() -> MonthRecords:
    """Two counted audits, both selected for moderation; one moderator never answered."""
    return MonthRecords(MONTH, [_allocation(1, "Children in Care"), _allocation(2, "Children in Care")],
                        [_submission(1, "Good"), _submission(2, "Inadequate")],
                        [{"reference": "MOD-2026-11-001", "audit": f"AUD-{MONTH}-001", "state": "agreed",
                          "original_grade": "Good", "moderated_grade": "Good"},
                         {"reference": "MOD-2026-11-002", "audit": f"AUD-{MONTH}-002",
                          "state": "awaiting_moderator", "original_grade": "Inadequate", "moderated_grade": None}])


def test_once_moderation_has_closed_nothing_is_still_with_a_moderator():
    closed = build_report(awaiting_records(), [], {}, Targets(), date(2026, 12, 7), moderation_closed=True)
    assert (closed.moderation.awaiting, closed.moderation.unmoderated) == (0, 1)
    assert [r.moderation_state for r in closed.rows] == ["agreed", "unmoderated"]


def test_while_moderation_is_open_an_unanswered_moderation_is_still_with_its_moderator():
    still_open = build_report(awaiting_records(), [], {}, Targets(), date(2026, 12, 3))
    assert (still_open.moderation.awaiting, still_open.moderation.unmoderated) == (1, 0)


def test_a_report_after_closing_with_no_daemon_pass_does_not_contradict_itself(tmp_path, capsys):
    """The story as the reviewer met it: moderation records still awaiting, the report run on the closing day."""
    from db.items import ItemRepo
    from workflows import moderation

    site = Site(tmp_path / "site")
    issue(site, "2026-11", ROSTER, utc(2026, 11, 2, 8, 30))
    ctx = site.open(utc(2026, 11, 20))
    try:
        with ctx.store.transaction():
            from db.months import MonthRepo
            repo = MonthRepo(ctx.store, "2026-11")
            [allocation] = repo.allocations()
            repo.add_submission({
                "reference": allocation["reference"], "message_id": "<s1@x>", "received_at": utc(2026, 11, 20).isoformat(),
                "from": allocation["auditor"], "grade": "Inadequate", "counts": True, "replaces_earlier": False,
                "remedial_needed": False, "remedial_details": "", "attachments": []})
            items = ItemRepo(ctx.store)
            items.add({"reference": items.next_reference(moderation.KIND, "2026-11"), "audit": allocation["reference"],
                       "auditor": allocation["auditor"], "moderator": "gareth.lyle@wexcombe.example",
                       "service": allocation.get("service", ""), "state": "awaiting_moderator",
                       "original_grade": "Inadequate", "moderated_grade": None, "comment": "",
                       "selected_because": "inadequate", "submitted_at": utc(2026, 11, 20).isoformat(),
                       "requested_at": utc(2026, 12, 1).isoformat(), "waiting_since": utc(2026, 12, 1).isoformat(),
                       "answered_at": None, "history": []})
    finally:
        ctx.close()
    assert report_cli(site, "2026-11", tmp_path / "out", "2026-12-07T09:30") == 0
    printed = words(capsys.readouterr().out)
    assert "Moderation of these audits closed on 7th December 2026" in printed
    assert "Still with a moderator: 0. Unmoderated when moderation closed: 1" in printed


def test_nothing_moderated_says_no_share_of_nothing_and_one_month_is_this_month(tmp_path, capsys):
    site = Site(tmp_path / "site")
    assert report_cli(site, "2027-03", tmp_path / "out") == 0
    printed = words(capsys.readouterr().out)
    assert "Moderated: 0 of 0 counted audits (-). Still with a moderator: 0." in printed
    assert "Grade changed" not in printed and "of those moderated" not in printed
    html = (tmp_path / "out" / "qa-report-2027-03.html").read_text(encoding="utf-8")
    assert 'alt="Line chart of this month against the targets' in html and "last 1 months" not in html


@pytest.mark.parametrize(("now", "says", "never"), [
    ("2026-12-02T10:00", "with the figures so far for the audits for November 2026", "have been"),
    ("2026-12-07T09:30", "now that the audits for November 2026 have been evaluated and reported", "moderated,")])
def test_the_directors_draft_opens_with_what_is_true_of_the_month(tmp_path, now, says, never):
    site = Site(tmp_path / "site")
    issue(site, "2026-11", ROSTER, utc(2026, 11, 2, 8, 30))
    assert report_cli(site, "2026-11", tmp_path / "out", now) == 0
    draft = words((tmp_path / "out" / "director-letter-2026-11.txt").read_text(encoding="utf-8"))
    assert says in draft
    assert never not in draft.split("I wanted to give an important update", 1)[1].split("I know", 1)[0]
