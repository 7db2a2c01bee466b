"""The test suite's no-fsync switch: stories skip fsync, durability tests and any service outside pytest never do."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import new_mail, utc
from core import durable

ROOT = Path(__file__).parents[1]
QUESTION = new_mail(sender="aisha.patel@wexcombe.example", subject="Question", body="Where do I send my audit?")


def fsyncs_of_one_message(site, monkeypatch) -> int:
    """How many times the disk is asked to flush while one message is received, handled and answered."""
    real, calls = os.fsync, []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real(fd))
    site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))
    site.once(utc(2026, 11, 2, 9, 31))
    assert len(site.files("processed")) == 1 and len(site.sent()) == 1  # the same story either way
    return len(calls)


def test_a_story_runs_without_fsync_and_the_same_files_are_written(site, monkeypatch, request):
    if request.config.getoption("--fsync"):
        pytest.skip("pytest --fsync: every test has real fsync")
    assert fsyncs_of_one_message(site, monkeypatch) == 0
    assert (site.folder / "data" / "ledgers" / "2026-11.json").exists()  # folded at close, renamed into place


@pytest.mark.durable
def test_a_durable_test_has_every_fsync(site, monkeypatch):
    assert fsyncs_of_one_message(site, monkeypatch) > 0


def test_outside_a_pytest_run_the_switch_is_ignored(tmp_path, monkeypatch):
    real, calls = os.fsync, []
    monkeypatch.setattr(os, "fsync", lambda fd: calls.append(fd) or real(fd))
    monkeypatch.setenv(durable.NO_FSYNC_FOR_TESTS, "1")
    assert durable.fsync_skipped()
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # as in a service somebody started with the variable left set
    assert not durable.fsync_skipped()
    durable.fsync_folder(tmp_path)
    assert len(calls) == 1


def daemon_log_start(site, env: dict) -> str:
    """What the daemon logs until it has handled the message waiting, started with the environment `env`."""
    handled = len(site.files("processed")) + 1
    daemon = subprocess.Popen([sys.executable, "main.py", "--config", str(site.config_path), "run"],
                              cwd=ROOT, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while len(site.files("processed")) < handled and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(site.files("processed")) == handled
    finally:
        daemon.send_signal(signal.SIGTERM)
        _, err = daemon.communicate(timeout=30)
    assert "daemon started" in err
    return err


def test_a_daemon_a_story_starts_inherits_the_switch_and_says_so_and_a_service_never_does(site):
    story = {**os.environ, durable.NO_FSYNC_FOR_TESTS: "1"}  # as the fixture sets it for a story
    site.receive(QUESTION, at=utc(2026, 11, 2, 9, 30))
    assert "fsync is off" in daemon_log_start(site, story)
    site.receive(QUESTION.replace(b"<m1@", b"<m2@"), at=utc(2026, 11, 2, 9, 40))
    service = {k: v for k, v in story.items() if k != "PYTEST_CURRENT_TEST"}
    assert "fsync is off" not in daemon_log_start(site, service)
