"""The command line as IT and the QA team use it: clear messages and exit codes, never a traceback."""
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import main
from conftest import new_mail, utc

ROOT = Path(__file__).parent.parent


def run_main(*argv, capsys):
    code = main.main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def with_config_change(site, old: str, new: str) -> None:
    text = site.config_path.read_text(encoding="utf-8")
    assert old in text
    site.config_path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("old, new, key", [
    ('transport = "maildir"', 'transport = "carrier-pigeon"', "mailbox.transport"),
    ("poll_seconds = 2", 'poll_seconds = "often"', "daemon.poll_seconds"),
    ("poll_seconds = 2", "poll_seconds = 0", "daemon.poll_seconds"),
    ('address = "qa-audits@wexcombe.example"', 'address = "qa-audits"', "mailbox.address"),
    ('name = "Imogen Thackeray"', "", "director.name"),
    ("[store]", "[store]\npth = 'x'", "store.pth"),
])
def test_a_wrong_config_names_the_key_and_exits_2(site, capsys, old, new, key):
    with_config_change(site, old, new)
    code, out, err = run_main("--config", site.config_path, "once", capsys=capsys)
    assert code == 2
    assert f"config: {key}:" in err and "Traceback" not in err


def test_config_that_is_not_toml_or_missing_is_one_clear_line(site, capsys, tmp_path):
    site.config_path.write_text("[mailbox\n", encoding="utf-8")
    code, _, err = run_main("--config", site.config_path, "once", capsys=capsys)
    assert code == 2 and "not valid TOML" in err
    code, _, err = run_main("--config", tmp_path / "nowhere.toml", "once", capsys=capsys)
    assert code == 2 and "no configuration file" in err


def test_init_never_overwrites_an_existing_configuration(site, capsys):
    code, _, err = run_main("init", site.folder, capsys=capsys)
    assert code != 0 and "already exists" in err


def test_roster_import_tolerates_excel_habits(site, capsys, tmp_path):
    csv = tmp_path / "roster.csv"
    text = site.folder.joinpath("roster.csv").read_text(encoding="utf-8")
    text = text.replace("aisha.patel@wexcombe.example,Aisha Patel", "  Aisha.Patel@Wexcombe.EXAMPLE , Aisha  Patel ")
    text = text.replace("auditor;moderator", "Auditor; Moderator")
    csv.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8") + b"\r\n,,,,\r\n")
    code, out, _ = run_main("--config", site.config_path, "roster", "import", csv, capsys=capsys)
    assert code == 0 and "20 people" in out
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    site.once(utc(2026, 11, 2, 9))
    assert "Dear Aisha" in site.sent()[0].get_body(("plain",)).get_content()


def test_a_bad_roster_is_rejected_whole_with_every_bad_line(site, capsys, tmp_path):
    lines = site.folder.joinpath("roster.csv").read_text(encoding="utf-8").splitlines()
    lines[8] = "ben.hartley-at-wexcombe,Ben Hartley,auditor,Children in Care,marcus.ellery@wexcombe.example"
    lines[9] = "chloe.dunmore@wexcombe.example,,wizard,Children in Care,nobody@wexcombe.example"
    lines.append("aisha.patel@wexcombe.example,Aisha Again,auditor,Children in Care,marcus.ellery@wexcombe.example")
    lines.append("new.person@wexcombe.example,New Person,auditor,Children in Care,marcus.ellery@wexcombe.example")
    csv = tmp_path / "roster.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = run_main("--config", site.config_path, "roster", "import", csv, capsys=capsys)
    assert code == 2 and "nothing was changed" in err
    assert "line 9: email 'ben.hartley-at-wexcombe' is not an email address" in err
    assert "line 10: name is empty" in err and "line 10: role 'wizard'" in err
    assert "line 10: head_of_service nobody@wexcombe.example is not on the roster" in err
    assert "line 22: aisha.patel@wexcombe.example is already on line 8" in err
    # Nothing half-imported: the new person on the good line 23 is still unknown.
    site.receive(new_mail(sender="new.person@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    site.once(utc(2026, 11, 2, 9))
    assert site.sent() == []


def test_a_second_daemon_on_the_same_data_refuses_to_start(site):
    from db.lock import FolderLock

    running = FolderLock(site.folder / "data", "daemon.lock")
    running.acquire()
    try:
        other = subprocess.run([sys.executable, "main.py", "--config", str(site.config_path), "run"],
                               capture_output=True, text=True, cwd=ROOT, timeout=60)
    finally:
        running.release()
    assert other.returncode == 3
    assert "another audit mailbox daemon" in other.stderr and "Traceback" not in other.stderr


def test_a_command_waits_for_the_daemons_pass_to_finish_instead_of_failing(site, capsys):
    import threading

    from db.store import Store

    pass_in_progress = Store(site.folder / "data")
    threading.Timer(1.0, pass_in_progress.close).start()
    code, out, err = run_main("--config", site.config_path, "--now", "2026-12-01T08:30", "issue", "--month", "2026-12",
                              "--allocations", site.folder / "allocations.csv", capsys=capsys)
    assert code == 0, err
    assert "18 allocation(s) issued" in out


def test_once_with_a_fixed_clock_and_dry_run_from_the_command_line(site, capsys):
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    code, out, _ = run_main("--config", site.config_path, "--now", "2026-11-02T09:30", "--dry-run", "once", capsys=capsys)
    assert code == 0 and "would send" in out and "nothing was changed" in out
    assert "Date: 2nd November 2026" in out
    assert len(site.files("inbox")) == 1 and site.sent() == []


def test_a_dry_run_copies_the_store_between_the_daemons_passes_never_during_one(site):
    # The daemon is in the middle of a pass (it holds the store's writer lock, and may be folding its
    # log into the month's files). A dry run copied file by file now could take some files from before
    # the fold and some from after: it waits for the pass instead (here not at all, so it says why).
    from core.errors import StoreLocked
    from db.store import Store

    daemon_pass = Store(site.folder / "data", logged=True)
    try:
        with pytest.raises(StoreLocked, match="another audit mailbox process"):
            site.open(utc(2026, 11, 2, 9, 30), dry_run_output=print, wait_seconds=0)
    finally:
        daemon_pass.close()
    ctx = site.open(utc(2026, 11, 2, 9, 30), dry_run_output=print, wait_seconds=0)  # between passes: at once
    ctx.close()
    assert not (site.folder / "data" / "store.lock").read_text(), "the store's lock let go, nothing left in it"


def test_the_daemon_handles_mail_and_stops_cleanly_on_sigterm(site):
    with_config_change(site, "poll_seconds = 2", "poll_seconds = 5")
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    daemon = subprocess.Popen([sys.executable, "main.py", "--config", str(site.config_path),
                               "--now", "2026-11-02T09:30", "run"], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not site.files("sent") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert site.files("sent") and site.files("processed")
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0
    assert "daemon stopped" in err and "Traceback" not in err


def test_status_works_while_the_daemon_holds_the_store(site, capsys):
    from conftest import issue
    from db.store import Store

    issue(site, "2026-12", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n"
          "laura.penrose@wexcombe.example,CR-42301,monthly\n", utc(2026, 12, 1, 9))
    with Store(site.folder / "data"):
        code, out, err = run_main("--config", site.config_path, "--now", "2026-12-02T10:00", "status", capsys=capsys)
    assert code == 0, err
    assert "December 2026: deadline 23:59 on Thursday 31st December 2026" in out
    rows = {line.split("  ")[0]: line.split() for line in out.splitlines() if line.endswith("%")}
    assert rows["Children in Care"][-6:] == ["1", "0", "0", "1", "0", "0.0%"]
    assert rows["All services"][-6:] == ["2", "0", "0", "2", "0", "0.0%"]


def test_issue_from_the_command_line_says_what_it_did(site, capsys):
    argv = ["--config", site.config_path, "--now", "2026-12-01T08:30", "issue", "--month", "2026-12",
            "--allocations", site.folder / "allocations.csv"]
    code, out, _ = run_main(*argv, capsys=capsys)
    assert code == 0 and "18 allocation(s) issued in 17 letter(s); 0 already issued" in out
    code, out, _ = run_main(*argv, capsys=capsys)
    assert "0 allocation(s) issued in 0 letter(s); 18 already issued, not sent again" in out
    code, _, err = run_main("--config", site.config_path, "--now", "2027-01-01T00:00", "issue", "--month", "2026-12",
                            "--allocations", site.folder / "allocations.csv", capsys=capsys)
    assert code == 2 and "December 2026 is over" in err and err.count("\n") == 1  # one line, as the README says


def test_a_dry_run_of_the_daemon_is_one_pass_that_changes_nothing(site, capsys):
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    code, out, _ = run_main("--config", site.config_path, "--now", "2026-11-02T09:30", "--dry-run", "run", capsys=capsys)
    assert code == 0 and "one pass only" in out and out.count("would send") == 1
    assert len(site.files("inbox")) == 1 and site.sent() == []


def test_a_mistyped_maildir_path_is_refused_not_made_into_an_empty_mailbox(site, capsys):
    with_config_change(site, 'path = "mailbox"', 'path = "mailbx"')
    code, out, err = run_main("--config", site.config_path, "once", capsys=capsys)
    assert code == 2 and "config: mailbox.path: there is no mailbox at" in err
    assert not (site.folder / "mailbx").exists()


def test_shared_options_may_follow_the_command_as_people_type_them(site, capsys):
    code, out, err = run_main("purge", "--dry-run", "--config", site.config_path, capsys=capsys)
    assert code == 0 and "dry run, nothing removed" in out
    assert main._shared_options_first(["status", "--now=2026-12-01T09:00", "--month", "2026-12"]) == [
        "--now=2026-12-01T09:00", "status", "--month", "2026-12"]


def test_a_dry_run_issue_says_nothing_was_sent_and_logs_no_sending(site, capsys, caplog):
    code, out, err = run_main("--config", site.config_path, "--now", "2026-12-01T08:30", "issue", "--month", "2026-12",
                              "--allocations", site.folder / "allocations.csv", "--dry-run", capsys=capsys)
    assert code == 0 and out.rstrip().endswith("(dry run: nothing was changed or sent)")
    assert not [r for r in caplog.records if r.getMessage().startswith("sent message_id")]
    assert site.sent() == []


def test_output_cut_short_by_the_reader_is_not_a_traceback(site):
    command = f"{sys.executable} {ROOT / 'main.py'} --config {site.config_path} --now 2026-12-01T08:30 --dry-run " \
              f"issue --month 2026-12 --allocations {site.folder / 'allocations.csv'} | head -1"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
