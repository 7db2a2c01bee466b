"""The QA team's files as they really arrive from Excel: headings typed by people, workbooks, slips that would jam the cycle."""
import zipfile

import pytest

import main
from app import commands
from conftest import MAILBOX, issue, utc
from core.errors import InputFileError, UsageError
from db.roster import RosterRepo
from db.store import Store

SAMPLE_HEADER = "email,name,roles,service,head_of_service"


def roster_text(site) -> str:
    return site.folder.joinpath("roster.csv").read_text(encoding="utf-8")


def write(site, name: str, text: str):
    path = site.folder / name
    path.write_text(text, encoding="utf-8")
    return path


def import_text(site, text: str, name: str = "roster-new.csv") -> int:
    return commands.import_roster(site.folder / "data", write(site, name, text), mailbox_address=MAILBOX)


def problems_of(site, text: str) -> list[str]:
    with pytest.raises(InputFileError) as raised:
        import_text(site, text)
    return raised.value.problems


def stored_people(site) -> int:
    with Store(site.folder / "data") as store:
        return len(RosterRepo(store).all())


def run_main(capsys, *argv) -> tuple[int, str]:
    code = main.main([str(a) for a in argv])
    return code, capsys.readouterr().err


def test_headings_typed_in_excel_are_understood(site):
    text = roster_text(site).replace(SAMPLE_HEADER, "Email Address, Name ,ROLES,Service,Head of Service")
    assert import_text(site, text) == 20
    text = roster_text(site).replace(SAMPLE_HEADER, "\ufeffAuditor Email,Name,Roles,Service,Head-of-Service")
    assert import_text(site, text) == 20


def test_two_headings_that_mean_the_same_column_are_refused(site):
    text = roster_text(site).replace(SAMPLE_HEADER, "Email,Name,Roles,Service,Head of Service,Email Address")
    [problem] = problems_of(site, text)
    assert problem.startswith("line 1:") and "'Email', 'Email Address'" in problem and "read as email" in problem


def test_someone_who_is_their_own_head_of_service_is_refused_with_the_line(site):
    text = roster_text(site).replace(
        "aisha.patel@wexcombe.example,Aisha Patel,auditor,Children in Care,marcus.ellery@wexcombe.example",
        "aisha.patel@wexcombe.example,Aisha Patel,auditor;head_of_service,Children in Care,aisha.patel@wexcombe.example")
    [problem] = problems_of(site, text)
    assert problem.startswith("line 8: aisha.patel@wexcombe.example is their own head_of_service")
    assert stored_people(site) == 20  # nothing half-imported


def test_heads_of_service_who_go_round_in_a_circle_are_refused_with_their_lines(site):
    text = roster_text(site).replace(
        "marcus.ellery@wexcombe.example,Marcus Ellery,head_of_service;auditor,Children in Care,imogen.thackeray@wexcombe.example",
        "marcus.ellery@wexcombe.example,Marcus Ellery,head_of_service;auditor,Children in Care,fiona.blackwood@wexcombe.example",
    ).replace(
        "fiona.blackwood@wexcombe.example,Fiona Blackwood,head_of_service;auditor,Safeguarding and Assessment,imogen.thackeray@wexcombe.example",
        "fiona.blackwood@wexcombe.example,Fiona Blackwood,head_of_service;auditor,Safeguarding and Assessment,marcus.ellery@wexcombe.example",
    )
    [problem] = problems_of(site, text)
    assert problem.startswith("lines 5, 6: the heads of service go round in a circle")
    assert "marcus.ellery@wexcombe.example -> fiona.blackwood@wexcombe.example -> marcus.ellery@wexcombe.example" in problem


def test_two_directors_are_refused(site):
    text = roster_text(site).replace("daniel.okafor@wexcombe.example,Daniel Okafor,head_of_service;auditor",
                                     "daniel.okafor@wexcombe.example,Daniel Okafor,director")
    problems = problems_of(site, text)
    assert any(p.startswith("lines 2, 7: 2 people have the director role") for p in problems), problems


@pytest.mark.parametrize("name", ["Ben\x00 Hartley", "Ben\x1b[31m Hartley", "Ben \u202eyeltraH", "Ben\tHartley"])
def test_control_characters_in_a_name_are_refused(site, name):
    text = roster_text(site).replace("ben.hartley@wexcombe.example,Ben Hartley,", f"ben.hartley@wexcombe.example,{name},")
    [problem] = problems_of(site, text)
    assert problem.startswith("line 9: name holds a control character")


def test_the_mailbox_s_own_address_is_not_a_person(site, capsys):
    text = roster_text(site) + f"{MAILBOX},QA Audits,qa,Quality Assurance,\n"
    write(site, "roster-new.csv", text)
    code, err = run_main(capsys, "--config", site.config_path, "roster", "import", site.folder / "roster-new.csv")
    assert code == 2 and f"line 22: {MAILBOX} is the shared mailbox's own address, not a person" in err


def workbook(path):
    """What Excel writes for File > Save (an .xlsx is a ZIP of XML parts), whatever the file is called."""
    with zipfile.ZipFile(path, "w") as book:
        book.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        book.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook/>')
    return path


@pytest.mark.parametrize("name", ["roster.xlsx", "roster-saved-as-xlsx.csv"])
def test_an_excel_workbook_is_answered_with_how_to_save_it_as_csv(site, capsys, name):
    path = workbook(site.folder / name)
    code, err = run_main(capsys, "--config", site.config_path, "roster", "import", path)
    assert code == 2 and err.count("\n") == 1
    assert "this is an Excel workbook; save it as CSV (File > Save As > CSV UTF-8) and import that" in err
    assert stored_people(site) == 20


def test_allocations_accept_excel_headings_and_refuse_a_workbook(site, capsys):
    counts = issue(site, "2026-12", "Auditor Email,Case Ref,Audit Type,Team Manager Email\n"
                   "aisha.patel@wexcombe.example,CR-40117,monthly,gareth.lyle@wexcombe.example\n",
                   utc(2026, 12, 1, 8, 30))
    assert counts["new"] == 1
    path = workbook(site.folder / "allocations.csv")
    code, err = run_main(capsys, "--config", site.config_path, "--now", "2026-12-01T09:00", "issue",
                         "--month", "2026-12", "--allocations", path)
    assert code == 2 and err.count("\n") == 1 and "Excel workbook" in err


@pytest.mark.parametrize("month, allocations, expected", [
    ("2026-11", "allocations.csv", "November 2026 is over"),
    ("2062-12", "allocations.csv", "more than 12 months ahead; check the year"),
    ("2026-13", "allocations.csv", "is not an audit month"),
    ("2026-12", "missing.csv", "cannot read the file"),
    ("2026-12", "empty.csv", "the file is empty"),
])
def test_issue_input_errors_are_one_line_and_exit_2(site, capsys, month, allocations, expected):
    (site.folder / "empty.csv").write_bytes(b"")
    code, err = run_main(capsys, "--config", site.config_path, "--now", "2026-12-01T09:00", "issue",
                         "--month", month, "--allocations", site.folder / allocations)
    assert code == 2 and expected in err and err.count("\n") == 1, err
    assert "Traceback" not in err


def test_checks_leave_a_good_roster_alone(site):
    assert import_text(site, roster_text(site)) == 20
    with pytest.raises(UsageError):
        import_text(site, "")


def test_a_roster_without_the_configured_director_is_refused_whole(site):
    from core.errors import InputFileError

    text = (site.folder / "roster.csv").read_text(encoding="utf-8").replace(
        "imogen.thackeray@wexcombe.example", "someone.else@wexcombe.example")
    with pytest.raises(InputFileError) as refused:
        commands.import_roster(site.folder / "data", write(site, "no-director.csv", text), mailbox_address=MAILBOX,
                               director_email="imogen.thackeray@wexcombe.example")
    assert "the configured Director (imogen.thackeray@wexcombe.example" in refused.value.message
    ctx = site.open()
    try:
        assert ctx.roster.get("imogen.thackeray@wexcombe.example") is not None, "nothing was changed"
    finally:
        ctx.close()
