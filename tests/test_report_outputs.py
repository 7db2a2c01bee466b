"""The monthly report's outputs: the files `report --out` writes, for an empty month and a month of 500.

The HTML carries no script and nothing fetched from elsewhere; the text says what the HTML says;
the workbook opens with three sheets; every file is readable by the service's user only.
"""
import csv
import io
import random
import re
import stat

import pytest
from openpyxl import load_workbook

import main
from conftest import Site, issue, utc
from db.months import MonthRepo
from letters import body, readable, words

NAMES = ["qa-report-{m}.html", "qa-report-{m}.txt", "qa-report-{m}.csv", "qa-report-{m}.xlsx",
         "director-letter-{m}.html", "director-letter-{m}.txt"]
AUDITORS = ["aisha.patel", "ben.hartley", "chloe.dunmore", "hannah.brightwell", "owen.tranter", "ruth.castell",
            "laura.penrose", "neil.ashdown", "yvonne.carr", "tariq.mahmood"]
GRADES = ["Outstanding", "Good", "Good", "Requires improvement", "Inadequate"]


def report_cli(site: Site, month: str, out, now: str = "2027-01-12T10:00", *more: str) -> int:
    return main.main(["--config", str(site.config_path), "--now", now, "report", "--month", month,
                      "--out", str(out), *more])


def no_external_resources(html: str) -> list[str]:
    """Every script, and every attribute that would fetch something from the web."""
    found = re.findall(r"<script\b", html, re.I)
    found += re.findall(r"""(?:src|href|background|poster)\s*=\s*["']?\s*(?:https?:)?//[^"'\s>]*""", html, re.I)
    found += re.findall(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    found += re.findall(r"<link\b[^>]*stylesheet", html, re.I)
    return found


def check_files(out, month: str) -> dict:
    files = {name.format(m=month): out / name.format(m=month) for name in NAMES}
    assert sorted(p.name for p in out.iterdir()) == sorted(files)
    for path in files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    html = files[f"qa-report-{month}.html"].read_text(encoding="utf-8")
    assert no_external_resources(html) == []
    text = files[f"qa-report-{month}.txt"].read_text(encoding="utf-8")
    # The same words, but for the charts: the text file holds none, so it has no captions for them either.
    assert "Chart:" not in text and html.count("Chart: ") == 2
    assert words(body(text)) == re.sub(r"Chart: [^.]*\. The figures are in the table above\. ", "", readable(body(html)))
    book = load_workbook(files[f"qa-report-{month}.xlsx"])
    assert book.sheetnames == ["Summary", "Audits", "Services"]
    rows = list(csv.reader(io.StringIO(files[f"qa-report-{month}.csv"].read_text(encoding="utf-8-sig"))))
    return {"html": html, "text": text, "book": book, "csv": rows}


def test_the_checker_finds_what_it_must():
    assert len(no_external_resources('<script>x</script><img src="https://x.example/a.png">'
                                     '<td style="background:url(//cdn.example/b.png)">')) == 3
    assert no_external_resources('<img src="cid:trend@x" alt="a"><a href="mailto:qa@x">qa</a>') == []


def test_an_empty_month_writes_every_file_and_says_there_is_nothing_yet(tmp_path, capsys):
    site = Site(tmp_path / "site")
    assert report_cli(site, "2027-03", tmp_path / "out") == 0
    printed = capsys.readouterr().out
    assert "Re: Monthly QA report - March 2027" in printed and "Completion: -" in printed
    got = check_files(tmp_path / "out", "2027-03")
    assert got["csv"] == [["reference", "month", "service", "team", "auditor", "case_ref", "audit_type", "state",
                           "received_at", "original_grade", "moderated_grade", "moderation_state", "counted"]]
    assert "no graded audits" in got["text"]


def test_a_month_of_500_audits_renders_and_lists_every_audit(tmp_path):
    site = Site(tmp_path / "site")
    rows = "".join(f"{AUDITORS[n % len(AUDITORS)]}@wexcombe.example,CR-{60000 + n},monthly,"
                   f"{'gareth.lyle@wexcombe.example' if n % 3 else ''}\n" for n in range(500))
    issue(site, "2026-11", "auditor_email,case_ref,audit_type,team_manager_email\n" + rows, utc(2026, 11, 2, 8, 30))
    pick = random.Random(11)
    ctx = site.open(utc(2026, 12, 10))
    try:
        with ctx.store.transaction():
            repo = MonthRepo(ctx.store, "2026-11")
            for allocation in repo.allocations()[:460]:   # 40 never sent; some of the rest after the deadline
                late = pick.random() < 0.1
                repo.add_submission({
                    "reference": allocation["reference"], "message_id": f"<{allocation['reference']}@x>",
                    "received_at": (utc(2026, 12, 2) if late else utc(2026, 11, 20)).isoformat(),
                    "from": allocation["auditor"], "grade": pick.choice(GRADES), "counts": not late,
                    "replaces_earlier": False, "remedial_needed": False, "remedial_details": "", "attachments": []})
    finally:
        ctx.close()
    assert report_cli(site, "2026-11", tmp_path / "out") == 0
    got = check_files(tmp_path / "out", "2026-11")
    assert len(got["csv"]) == 501 and len({row[0] for row in got["csv"][1:]}) == 500
    audits = got["book"]["Audits"]
    assert audits.max_row == 501 and audits["A2"].value == "AUD-2026-11-001"
    counted = sum(row[-1] == "yes" for row in got["csv"][1:])
    summary = {row[0]: row[1] for row in got["book"]["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Counted"] == counted and summary["Completion"] == round(100 * counted / 500, 1)
    assert got["html"].count("data:image/png;base64,") == 2


def test_send_mails_the_report_to_the_qa_team_and_the_director(tmp_path, capsys):
    site = Site(tmp_path / "site")
    issue(site, "2026-11", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n",
          utc(2026, 11, 2, 8, 30))
    assert report_cli(site, "2026-11", tmp_path / "out", "2026-12-02T10:00", "--send") == 0
    [sent] = [m for m in site.sent() if "Monthly QA report" in m["Subject"]]
    assert sent["Subject"] == "Monthly QA report: November 2026"
    assert {a.strip() for a in sent["To"].split(",")} == {
        "priya.ramsden@wexcombe.example", "tomasz.kowal@wexcombe.example", "imogen.thackeray@wexcombe.example"}
    assert "sent to the QA team and the Director" in capsys.readouterr().err


@pytest.mark.parametrize("month", ["2026-13", "November"])
def test_a_bad_month_is_refused_in_one_line(tmp_path, capsys, month):
    site = Site(tmp_path / "site")
    assert report_cli(site, month, tmp_path / "out") == 2
    assert "--month" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_an_out_that_is_a_file_is_refused_in_one_line(tmp_path, capsys):
    site = Site(tmp_path / "site")
    (tmp_path / "out").write_text("not a folder")
    assert report_cli(site, "2026-11", tmp_path / "out") == 2
    assert "--out" in capsys.readouterr().err


def test_one_graded_audit_is_written_in_the_singular_in_text_and_html(tmp_path, capsys):
    from app.demo_mail import outlook_reply
    from conftest import MAILBOX, letters_to
    site = Site(tmp_path / "site")
    issue(site, "2026-12", "auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,monthly\n",
          utc(2026, 12, 1, 8, 30))
    at = utc(2026, 12, 3, 10, 0)
    site.receive(outlook_reply("ben.hartley@wexcombe.example", MAILBOX,
                               letters_to(site, "ben.hartley@wexcombe.example", "Your audits")[0], at, "Grade: Good"),
                 at=at)
    site.once(at)
    assert report_cli(site, "2026-12", tmp_path / "out") == 0
    got = check_files(tmp_path / "out", "2026-12")
    text = words(got["text"])                  # check_files has found the HTML saying the same
    assert "Grades below are of 1 graded audit." in text and "1 graded audits" not in text
