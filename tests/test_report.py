"""The monthly QA report: a month with known figures, played through the real daemon, checked by hand.

November 2026, ten audits. An exemption, a slippage notice and every submission arrive by email;
moderation outcomes and remedial actions are stored as their own workflows store them (those
workflows are built alongside this one). Every expected figure below is worked out by hand in the
comments beside it, never by calling the code under test.
"""
import csv
import io

import pytest
from openpyxl import load_workbook

from app import commands
from app.demo_mail import gmail_reply, new_email, outlook_reply
from app.reports.build import monthly_report
from conftest import MAILBOX, issue, letters_to, text_of, utc
from db.months import MonthRepo, month_file

AISHA, BEN, CHLOE = "aisha.patel", "ben.hartley", "chloe.dunmore"
SIOBHAN, HANNAH, OWEN, RUTH = "siobhan.reilly", "hannah.brightwell", "owen.tranter", "ruth.castell"
LAURA, NEIL, YVONNE = "laura.penrose", "neil.ashdown", "yvonne.carr"
MARCUS, DIRECTOR, PRIYA = "marcus.ellery", "imogen.thackeray", "priya.ramsden"
CHILD = "Kayden Marsh-Oduya"   # an invented child's name an auditor wrote: it must never reach the report

OCTOBER = f"""auditor_email,case_ref,audit_type,team_manager_email
{AISHA}@wexcombe.example,CR-49001,monthly,gareth.lyle@wexcombe.example
{BEN}@wexcombe.example,CR-49002,monthly,gareth.lyle@wexcombe.example
"""
NOVEMBER = f"""auditor_email,case_ref,audit_type,team_manager_email
{AISHA}@wexcombe.example,CR-50001,monthly,gareth.lyle@wexcombe.example
{BEN}@wexcombe.example,CR-50002,monthly,gareth.lyle@wexcombe.example
{CHLOE}@wexcombe.example,CR-50003,dip sample,gareth.lyle@wexcombe.example
{SIOBHAN}@wexcombe.example,CR-50004,monthly,gareth.lyle@wexcombe.example
{HANNAH}@wexcombe.example,CR-50005,monthly,samir.haddad@wexcombe.example
{OWEN}@wexcombe.example,CR-50006,monthly,samir.haddad@wexcombe.example
{RUTH}@wexcombe.example,CR-50007,thematic,samir.haddad@wexcombe.example
{LAURA}@wexcombe.example,CR-50008,monthly,kieran.molloy@wexcombe.example
{NEIL}@wexcombe.example,CR-50009,monthly,
{YVONNE}@wexcombe.example,CR-50010,monthly,kieran.molloy@wexcombe.example
"""
# References follow the file's order: AUD-2026-11-001 is Aisha's ... -010 is Yvonne's.
REF = {who: f"AUD-2026-11-{n:03d}" for n, who in enumerate(
    (AISHA, BEN, CHLOE, SIOBHAN, HANNAH, OWEN, RUTH, LAURA, NEIL, YVONNE), start=1)}


def person(who: str) -> str:
    first, last = who.split(".")
    return f"{first.title()} {last.title()} <{who}@wexcombe.example>"


def reply(site, who: str, subject_part: str, words: str, at, shape=gmail_reply):
    """`who` replies to the newest letter to them whose subject holds `subject_part`; one pass runs."""
    letter = letters_to(site, f"{who}@wexcombe.example", subject_part)[-1]
    site.receive(shape(person(who), MAILBOX, letter, at, words), at=at)
    site.once(at)


def submit(site, who: str, month_words: str, grade: str, at, more: str = ""):
    reply(site, who, f"Your audits for {month_words}", f"Grade: {grade}\n{more}", at, shape=outlook_reply)


def store_moderations_and_actions(site):
    """What the moderation and remedial-action workflows store, in the record shapes they share."""
    subs = {s["reference"]: s["received_at"] for s in _read(site, lambda ctx: MonthRepo(ctx.store, "2026-11").submissions())}

    def moderation(n, who, state, original, moderated):
        return {"reference": f"MOD-2026-11-{n:03d}", "audit": REF[who], "auditor": f"{who}@wexcombe.example",
                "moderator": "priya.ramsden@wexcombe.example", "service": "", "state": state,
                "original_grade": original, "moderated_grade": moderated, "comment": "",
                "selected_because": "inadequate" if original == "Inadequate" else "sample",
                "submitted_at": subs[REF[who]], "requested_at": subs[REF[who]], "waiting_since": subs[REF[who]],
                "answered_at": None, "history": []}

    ctx = site.open(utc(2026, 12, 7, 8, 0))
    try:
        with ctx.store.transaction():
            ctx.store.table(month_file("2026-11"), "moderations").insert_multiple([
                moderation(1, CHLOE, "changed", "Inadequate", "Requires improvement"),     # up
                moderation(2, HANNAH, "agreed", "Requires improvement", "Requires improvement"),
                moderation(3, LAURA, "changed", "Good", "Requires improvement"),           # down
                moderation(4, YVONNE, "unmoderated", "Inadequate", None),                 # closed unanswered
            ])
            # Chloe's submission raised ACT-2026-11-001 itself (due 4 December, open); Yvonne's is added done.
            ctx.store.table(month_file("2026-11"), "actions").insert_multiple([
                {"reference": "ACT-2026-11-002", "audit": REF[YVONNE], "case_ref": "CR-50010",
                 "auditor": f"{YVONNE}@wexcombe.example", "owner": "kieran.molloy@wexcombe.example",
                 "service": "Early Help and Family Support", "raised_at": subs[REF[YVONNE]], "due": "2026-12-04",
                 "state": "done", "details": "", "done_at": "2026-12-01T10:00:00+00:00", "done_note": "Visited",
                 "history": []},
            ])
    finally:
        ctx.close()


def _read(site, read, at=utc(2026, 12, 7, 10, 0)):
    ctx = site.open(at, read_only=True)
    try:
        return read(ctx)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def november(tmp_path_factory):
    """The site after October and November have been played through the daemon."""
    from conftest import Site

    site = Site(tmp_path_factory.mktemp("report") / "site")
    # October: two audits on time, Good and Inadequate.
    issue(site, "2026-10", OCTOBER, utc(2026, 10, 1, 8, 30))
    submit(site, AISHA, "October 2026", "Good", utc(2026, 10, 15, 10, 0))
    submit(site, BEN, "October 2026", "Inadequate", utc(2026, 10, 15, 11, 0))
    # November.
    issue(site, "2026-11", NOVEMBER, utc(2026, 11, 2, 8, 30))
    at = utc(2026, 11, 3, 9, 0)
    site.receive(new_email(person(SIOBHAN), MAILBOX, "Exemption request", at,
                           "I have been signed off sick until the end of November after surgery."), at=at)
    site.once(at)
    reply(site, MARCUS, "Exemption", "Support", utc(2026, 11, 3, 11, 0), shape=outlook_reply)
    reply(site, DIRECTOR, "Exemption", "Approve", utc(2026, 11, 4, 9, 0), shape=outlook_reply)
    letter = letters_to(site, f"{RUTH}@wexcombe.example", "Your audits for November")[-1]
    at = utc(2026, 11, 25, 10, 0)
    raw = outlook_reply(person(RUTH), MAILBOX, letter, at, "I am in court all week and may not make the deadline.")
    site.receive(raw.replace(b"Subject: RE: ", b"Subject: Slippage - RE: ", 1), at=at)
    site.once(at)
    reply(site, PRIYA, "accommodate", "Yes, by 4 December", utc(2026, 11, 25, 14, 0))
    for minute, (who, grade) in enumerate(((AISHA, "Good"), (BEN, "Outstanding"), (CHLOE, "Inadequate"),
                                           (HANNAH, "Requires improvement"), (LAURA, "Good"),
                                           (YVONNE, "Inadequate"))):
        more = f"Remedial action needed: yes - the safety plan for {CHILD} has lapsed" if who == CHLOE else ""
        submit(site, who, "November 2026", grade, utc(2026, 11, 20, 10, minute), more)
    submit(site, OWEN, "November 2026", "Good", utc(2026, 12, 1, 0, 0, 1))    # one second late: not counted
    submit(site, RUTH, "November 2026", "Good", utc(2026, 12, 3, 16, 0))      # by the agreed 4 December
    store_moderations_and_actions(site)                                         # Neil sends nothing
    return site


def test_the_month_gives_exactly_the_figures_worked_out_by_hand(november):
    report = _read(november, lambda ctx: monthly_report(ctx, "2026-11"))
    states = {row.reference: row.state for row in report.rows}
    assert states == {REF[AISHA]: "on time", REF[BEN]: "on time", REF[CHLOE]: "on time", REF[SIOBHAN]: "exempt",
                      REF[HANNAH]: "on time", REF[OWEN]: "not counted", REF[RUTH]: "late", REF[LAURA]: "on time",
                      REF[NEIL]: "outstanding", REF[YVONNE]: "on time"}
    r = report.result
    # 10 allocated, Siobhan exempt: 9 due. Counted: the 6 on time + Ruth by her agreed date = 7.
    assert (r.allocated, r.exempt, r.due, r.completed) == (10, 1, 9, 7)
    assert r.completion_rate == 77.8                       # 7 / 9 = 77.77…
    # Grades of the 7 counted, moderated where moderated: Aisha Good, Ben Outstanding, Chloe RI (was
    # Inadequate), Hannah RI (agreed), Ruth Good, Laura RI (was Good), Yvonne Inadequate (unmoderated).
    assert report.grades.counts == {"Outstanding": 1, "Good": 2, "Requires improvement": 3, "Inadequate": 1}
    assert r.good_or_better_pct == 42.9                    # 3 / 7 = 42.857…
    assert r.inadequate_pct == 14.3                        # 1 / 7 = 14.285…
    assert (r.good_met, r.inadequate_met) == (True, False)  # 42.9 >= 40; 14.3 is not < 12
    m = report.moderation
    # Moderated (agreed or changed): Chloe, Hannah, Laura = 3 of 7 counted; Yvonne's is not counted as agreed.
    assert (m.counted, m.moderated, m.rate) == (7, 3, 42.9)
    assert (m.changed, m.change_rate, m.up, m.down, m.unmoderated) == (2, 66.7, 1, 1, 1)   # 2 / 3 = 66.66…
    assert [r.reference for r in report.late] == [REF[RUTH]]
    assert [r.reference for r in report.not_counted] == [REF[OWEN]]
    [exemption] = report.exemptions
    assert (exemption.label, exemption.requests, exemption.audits) == ("Prolonged absence (e.g. ill-health)", 1, 1)
    # Chloe's action was due 4 December and is open on 7 December; Yvonne's is done.
    assert (report.actions.raised, report.actions.open, [a["reference"] for a in report.actions.overdue]) == \
        (2, 1, ["ACT-2026-11-001"])


def test_services_teams_and_the_months_before(november):
    report = _read(november, lambda ctx: monthly_report(ctx, "2026-11"))
    services = {c.name: (c.due, c.counted, c.rate) for c in report.services}
    # Children in Care: Aisha, Ben, Chloe counted of 3 due (Siobhan exempt); Safeguarding: Hannah and Ruth
    # of Hannah, Owen, Ruth; Early Help: Laura and Yvonne of Laura, Neil, Yvonne.
    assert services == {"Children in Care": (3, 3, 100.0), "Safeguarding and Assessment": (3, 2, 66.7),
                        "Early Help and Family Support": (3, 2, 66.7)}
    teams = {c.name: (c.due, c.counted, c.rate) for c in report.teams}
    assert teams == {"Gareth Lyle": (3, 3, 100.0), "Samir Haddad": (3, 2, 66.7), "Kieran Molloy": (2, 2, 100.0),
                     "(no team manager)": (1, 0, 0.0)}
    # October: 2 of 2 on time; Good and Inadequate = 50.0% each: good met, inadequate not met.
    october, this = report.trend
    assert (october.month, october.completion_rate, october.good_or_better_pct, october.inadequate_pct) == \
        ("2026-10", 100.0, 50.0, 50.0)
    assert (october.good_met, october.inadequate_met) == (True, False)
    assert this == report.result and report.last_three == [october, this]


def test_the_report_says_each_figure_as_written_and_each_target_met_or_not(november, tmp_path):
    def run(ctx):
        return commands.report(ctx, "2026-11", tmp_path / "out")

    done = _read(november, run)
    text = " ".join(done["text"].split())
    assert "Completion: 77.8% (7 of 9 audits due; 10 allocated, 1 exempt)" in text
    assert "Good or better 42.9% at least 40.0% met" in text
    assert "Inadequate 14.3% less than 12.0% not met" in text
    assert "October 2026 100.0% 50.0% met 50.0% not met" in text
    assert "Moderated: 3 of 7 counted audits (42.9%)" in text
    assert "Grade changed: 2 (66.7% of those moderated), 1 up and 1 down" in text
    assert "Unmoderated when moderation closed: 1" in text
    assert "Prolonged absence (e.g. ill-health) 1 1" in text
    assert "ACT-2026-11-001 AUD-2026-11-003 CR-50003 Gareth Lyle 2026-12-04" in text
    for path in done["written"]:
        assert CHILD.split()[0] not in path.read_bytes().decode("utf-8", "replace"), path.name
    book = load_workbook(tmp_path / "out" / "qa-report-2026-11.xlsx")
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert (summary["Completion"], summary["Good or better"], summary["Inadequate"]) == (77.8, 42.9, 14.3)
    assert summary["Good or better target (at least 40.0%)"] == "met"
    assert summary["Inadequate target (less than 12.0%)"] == "not met"
    services = {row[0]: row for row in book["Services"].iter_rows(values_only=True)}
    header = services.pop("service")
    care = dict(zip(header, services["Children in Care"]))
    assert (care["due"], care["counted"], care["completion_pct"], care["grade_inadequate"]) == (3, 3, 100.0, 0)
    assert dict(zip(header, services["All services"]))["grade_requires_improvement"] == 3
    [owen] = [row for row in csv.reader(io.StringIO((tmp_path / "out" / "qa-report-2026-11.csv")
                                                     .read_text(encoding="utf-8-sig"))) if row[0] == REF[OWEN]]
    assert owen[5:] == ["CR-50006", "monthly", "not counted", "2026-12-01T00:00:01+00:00", "Good", "", "", "no"]


def test_the_report_goes_once_at_nine_on_the_day_moderation_closes(november):
    # 5 working days after Monday 30 November: 1, 2, 3, 4 and 7 December.
    def reports():
        return letters_to(november, "priya.ramsden@wexcombe.example", "Monthly QA report: November 2026")

    november.once(utc(2026, 12, 7, 8, 59))
    assert reports() == []
    november.once(utc(2026, 12, 7, 9, 0))
    november.once(utc(2026, 12, 7, 9, 30))
    [sent] = reports()
    assert "imogen.thackeray@wexcombe.example" in sent["To"] and "tomasz.kowal@wexcombe.example" in sent["To"]
    assert "Completion: 77.8%" in text_of(sent)
    html = sent.get_body(("html",))
    images = [part for part in sent.walk() if part.get_content_type() == "image/png"]
    assert len(images) == 2 and html.get_content_type() == "text/html"
    related = [part for part in sent.walk() if part.get_content_type() == "multipart/related"]
    assert len(related) == 1
    for image in images:
        cid = image["Content-ID"].strip("<>")
        assert f'src="cid:{cid}"' in html.get_content()
        assert image.get_content_disposition() == "inline" and image.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert CHILD.split()[0] not in sent.as_string()
    assert _read(november, lambda ctx: ctx.ledger.done_at("2026-11", "qa-report")) == utc(2026, 12, 7, 9, 0)


def test_the_report_that_closes_the_month_brings_the_director_the_draft_letter_once(november):
    def drafts(who):
        return letters_to(november, who, "Draft letter to all staff")

    november.once(utc(2026, 12, 7, 9, 0))
    november.once(utc(2026, 12, 7, 9, 30))
    [draft] = [d for d in drafts("imogen.thackeray@wexcombe.example") if "November 2026" in d["Subject"]]
    assert "[LTR-2026-11-001]" in draft["Subject"] and draft["To"] == "imogen.thackeray@wexcombe.example"
    assert "77.8%" in text_of(draft), "drafted from the report's own figures"
    assert drafts("priya.ramsden@wexcombe.example") == [], "the draft goes to the Director only"
