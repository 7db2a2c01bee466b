"""`auditmail doctor`: a checklist IT can act on, exit 0 when all is well and 2 otherwise."""
import email
import os
import shutil
import socket
import subprocess
from contextlib import contextmanager
from email import policy
from pathlib import Path

import pytest

import main
from conftest import new_mail, utc


def doctor(site, *extra, capsys) -> tuple[int, list[str]]:
    code = main.main(["--config", str(site.config_path), "doctor", *extra])
    return code, capsys.readouterr().out.splitlines()


def test_a_healthy_maildir_gets_a_clean_checklist_and_exit_0(site, capsys):
    site.receive(new_mail(sender="aisha.patel@wexcombe.example", subject="hello", body="?"), at=utc(2026, 11, 2, 9))
    code, lines = doctor(site, capsys=capsys)
    assert code == 0, lines
    assert lines[0] == f"ok config {site.config_path.resolve()} (transport maildir)"
    assert lines[1] == f"ok store {(site.folder / 'data').resolve()} (20 people on the roster)"
    assert lines[2] == f"ok connected to maildir {site.mailbox.resolve()}"
    assert lines[3:] == ["ok folder inbox: 1 message", "ok folder processed: 0 messages",
                         "ok folder failed: 0 messages", "ok folder sent: 0 messages"]


def test_send_test_sends_a_real_letter_with_our_headers(site, capsys):
    code, lines = doctor(site, "--send-test", "it.support@wexcombe.example", capsys=capsys)
    assert code == 0, lines
    assert lines[-1].startswith("ok test message sent to it.support@wexcombe.example (Message-ID <")
    [sent] = site.files("sent")
    message = email.message_from_bytes(sent.read_bytes(), policy=policy.default)
    assert message["Subject"] == "auditmail doctor: test message" and message["To"] == "it.support@wexcombe.example"
    assert message["Auto-Submitted"] == "auto-generated" and message["X-Auto-Response-Suppress"] == "All"
    assert message["Message-ID"].endswith("@wexcombe.example>") and message["Message-ID"] in lines[-1]
    assert {p.get_content_type() for p in message.iter_parts()} == {"text/plain", "text/html"}
    assert "The Quality Assurance Team" in message.get_body(("plain",)).get_content()


def test_a_bad_config_is_the_first_failed_check(site, capsys):
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace('transport = "maildir"', 'transport = "pigeon"'), encoding="utf-8")
    code, lines = doctor(site, capsys=capsys)
    assert code == 2 and lines == ["FAILED config: mailbox.transport: must be one of maildir, imap, ews, graph, not 'pigeon'"]


def test_a_missing_mailbox_folder_is_named_and_not_quietly_created(site, capsys):
    shutil.rmtree(site.mailbox / "inbox")
    code, lines = doctor(site, capsys=capsys)
    assert code == 2
    assert lines[-1] == (f"FAILED connect to maildir {site.mailbox.resolve()}: missing folder "
                         f"{site.mailbox.resolve() / 'inbox'} (check mailbox.path in config.toml; "
                         "`auditmail init DIR` makes the folders)")
    assert not (site.mailbox / "inbox").exists()


def test_a_mailbox_folder_the_service_cannot_write_to_is_named(site, capsys):
    processed = site.mailbox / "processed"
    with unwritable(processed):
        code, lines = doctor(site, capsys=capsys)
    assert code == 2
    assert lines[-1].startswith(f"FAILED connect to maildir {site.mailbox.resolve()}: "
                                f"folder {processed.resolve()} is not writable by this user")


@contextmanager
def unwritable(folder: Path):
    """A folder this process cannot write to: read-only for a normal user, immutable for root (who ignores modes)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("running as root where `chattr +i` is not allowed: no way to make a folder root cannot write")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_imap_server_that_cannot_be_reached_is_diagnosed_plainly(site, capsys, monkeypatch):
    port = closed_port()
    text = site.config_path.read_text(encoding="utf-8").replace('transport = "maildir"', 'transport = "imap"')
    site.config_path.write_text(text + f'''
[imap]
host = "127.0.0.1"
port = {port}
security = "plain"
username = "qa-audits@wexcombe.example"
[smtp]
host = "127.0.0.1"
port = {closed_port()}
security = "plain"
username = "qa-audits@wexcombe.example"
''', encoding="utf-8")
    monkeypatch.setenv("AUDITMAIL_IMAP_PASSWORD", "not-a-real-password")
    monkeypatch.setenv("AUDITMAIL_SMTP_PASSWORD", "not-a-real-password")
    code, lines = doctor(site, capsys=capsys)
    assert code == 2
    assert lines[0].startswith("ok config") and lines[1].startswith("ok store")
    assert lines[2].startswith(f"FAILED connect to imap 127.0.0.1:{port}")
    assert len(lines) == 3 and "Traceback" not in lines[2]
    assert "refused the connection: nothing listens there" in lines[2]



def test_a_mistyped_store_path_fails_the_check_before_go_live(site, capsys):
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace('path = "data"', 'path = "dta"', 1), encoding="utf-8")
    code, lines = doctor(site, capsys=capsys)
    assert code == 2
    assert lines[1].startswith(f"FAILED store {(site.folder / 'dta').resolve()}: ") and "no store" in lines[1]
    assert not (site.folder / "dta").exists(), "doctor never makes a store"


def test_a_roster_without_the_configured_director_fails_the_check(site, capsys):
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(text.replace('email = "imogen.thackeray@wexcombe.example"',
                                             'email = "new.director@wexcombe.example"', 1), encoding="utf-8")
    code, lines = doctor(site, capsys=capsys)
    assert code == 2 and "new.director@wexcombe.example is not on the roster" in lines[1]
