"""The daemon keeps its mailbox open, wakes when mail lands, survives a mailbox that goes away, stops promptly.

The daemon runs in the test's main thread (it installs signal handlers, as in production); a helper
thread plays the world: mail arriving, a signal, a mailbox going away.
"""
import logging
import os
import re
import signal
import threading
import time

import pytest

from app.daemon import Daemon
from app.context import open_context
from app.transports import open_mailbox
from app import commands
from conftest import MAILBOX, new_mail
from core.backoff import Backoff
from core.clock import Clock
from core.errors import ConfigError, TemporaryFailure

AISHA = "aisha.patel@wexcombe.example"
QUICK = Backoff(first=0.05, cap=0.2)  # the real policy waits seconds; a story need not


class CountingMailbox:
    """The real mailbox, with a count of what the daemon did to it (and a fault it can be given)."""

    def __init__(self, mailbox, counts: dict):
        self._mailbox, self.counts = mailbox, counts

    def __getattr__(self, name):
        return getattr(self._mailbox, name)

    def waiting(self):
        self.counts["passes"] += 1  # every pass looks at the inbox once
        return self._mailbox.waiting()

    def wait_for_mail(self, seconds, should_stop):
        self.counts["waits"] += 1
        fault = self.counts.pop("fault_on_wait", None)
        if fault:
            raise fault
        return self._mailbox.wait_for_mail(seconds, should_stop)

    def close(self):
        self.counts["closed"] += 1
        self._mailbox.close()


class World:
    """The daemon over a site, with counted connections, run until the story says stop."""

    def __init__(self, site, connect_faults=()):
        self.site = site
        self.counts = {"opens": 0, "closed": 0, "waits": 0, "passes": 0, "services": 0}
        self.connect_faults = list(connect_faults)
        config = site.config
        self.daemon = Daemon(self._open_pass, config, connect=self._connect, retry=QUICK)

    def _connect(self, config):
        if self.connect_faults:
            raise self.connect_faults.pop(0)
        self.counts["opens"] += 1
        return CountingMailbox(open_mailbox(config), self.counts)

    def _open_pass(self, mailbox):
        self.counts["services"] += 1
        return open_context(self.site.config, Clock(), mailbox=mailbox)

    def run(self, story) -> None:
        """Run the daemon here; `story(world)` runs beside it and must end by stopping it."""
        failure = []

        def play():
            try:
                story(self)
            except BaseException as exc:  # noqa: BLE001 - reported in the test's own thread
                failure.append(exc)
            finally:
                self.daemon.stop()

        watchdog = threading.Timer(60, self.daemon.stop)
        watchdog.start()
        threading.Thread(target=play, daemon=True).start()
        try:
            self.daemon.run()
        finally:
            watchdog.cancel()
        if failure:
            raise failure[0]

    def until(self, condition, seconds=20.0) -> float:
        """Wait (in the story's thread) until `condition()`; returns how long it took."""
        start = time.monotonic()
        while not condition():
            assert time.monotonic() - start < seconds, "the daemon did not get there in time"
            time.sleep(0.02)
        return time.monotonic() - start

    def receive(self, n: int):
        self.site.receive(new_mail(sender=AISHA, subject="hello", body="?", message_id=f"<d{n}@mail.wexcombe.example>"),
                          at=None)


@pytest.fixture
def slow_poll(site):
    """poll_seconds of a minute: only the mailbox's own wake-up can make the daemon answer fast."""
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(re.sub(r"(?m)^poll_seconds = \d+", "poll_seconds = 60", text), encoding="utf-8")
    assert site.config.poll_seconds == 60
    return site


def test_mail_delivered_while_the_daemon_waits_is_answered_at_once_on_one_open_mailbox(slow_poll):
    world, latencies = World(slow_poll), []

    def story(w):
        for n in range(3):
            w.until(lambda: w.counts["waits"] > n)  # the daemon is waiting on the mailbox
            time.sleep(0.3)
            w.receive(n)
            latencies.append(w.until(lambda: len(w.site.files("sent")) == n + 1))

    world.run(story)
    assert len(latencies) == 3 and max(latencies) < 10, latencies  # generous; bench/ has the real figure
    assert world.counts["opens"] == 1, "one mailbox for the daemon's whole life"
    assert world.counts["passes"] >= 4 and world.counts["closed"] == 1
    assert world.counts["services"] == 1, "the service (its store read once) kept from pass to pass"
    assert len(slow_poll.files("processed")) == 3


def test_sigterm_stops_a_waiting_daemon_promptly_and_closes_the_mailbox(slow_poll):
    world, stopped = World(slow_poll), {}

    def story(w):
        w.until(lambda: w.counts["waits"] > 0)
        stopped["at"] = time.monotonic()
        os.kill(os.getpid(), signal.SIGTERM)

    world.run(story)
    assert time.monotonic() - stopped["at"] < 5  # it was waiting 60 s for mail; generous bound
    assert world.counts["closed"] == 1


def test_a_mailbox_unreachable_at_start_is_logged_and_retried_and_mail_then_flows(slow_poll, caplog):
    diagnosis = "cannot reach imap.wexcombe.example:993: connection refused (is the host right and the port open?)"
    world = World(slow_poll, connect_faults=[TemporaryFailure(diagnosis)] * 3)
    slow_poll.receive(new_mail(sender=AISHA, subject="hello", body="?"), at=None)

    def story(w):
        w.until(lambda: len(w.site.files("sent")) == 1)

    with caplog.at_level(logging.INFO, logger="auditmail.daemon"):
        world.run(story)
    failures = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 3 and all(diagnosis in line and "trying again in" in line for line in failures)
    assert any("mailbox open again after 3 failed attempts" in r.getMessage() for r in caplog.records)
    assert world.counts["opens"] == 1


def test_a_mailbox_lost_later_is_reopened_and_the_daemon_goes_on(slow_poll, caplog):
    world = World(slow_poll)
    world.counts["fault_on_wait"] = TemporaryFailure("the IMAP server closed the connection")

    def story(w):
        w.until(lambda: w.counts["opens"] == 2 and w.counts["waits"] >= 2)
        w.receive(1)
        w.until(lambda: len(w.site.files("sent")) == 1)

    with caplog.at_level(logging.INFO, logger="auditmail.daemon"):
        world.run(story)
    assert any("lost the mailbox while waiting: the IMAP server closed the connection" in r.getMessage()
               for r in caplog.records)
    assert world.counts["closed"] == 2


def test_a_wrong_configuration_at_start_stops_the_daemon_with_its_message(site):
    world = World(site, connect_faults=[ConfigError("names AUDITMAIL_IMAP_PASSWORD, which is not set",
                                                    key="imap.password_env")])
    with pytest.raises(ConfigError):
        world.daemon.run()


def test_status_and_a_dry_run_issue_never_connect_to_the_mailbox(site, capsys, monkeypatch):
    import main
    from app import transports

    def unreachable(config):
        raise AssertionError("connected to the mailbox")

    monkeypatch.setitem(transports.BUILDERS, "maildir", unreachable)
    code = main.main(["--config", str(site.config_path), "--now", "2026-12-01T08:30", "status"])
    assert code == 0, capsys.readouterr().err
    code = main.main(["--config", str(site.config_path), "--now", "2026-12-01T08:30", "--dry-run", "issue",
                      "--month", "2026-12", "--allocations", str(site.folder / "allocations.csv")])
    assert code == 0 and "would send" in capsys.readouterr().out


def test_a_roster_that_loses_the_director_stops_the_daemon_instead_of_leaving_mail_unanswered(slow_poll, caplog):
    world = World(slow_poll)

    def story(world):
        world.until(lambda: world.counts["passes"] >= 1)
        roster = slow_poll.folder / "roster.csv"
        text = roster.read_text(encoding="utf-8").replace("imogen.thackeray@", "someone.else@")
        other = slow_poll.folder / "other.csv"
        other.write_text(text, encoding="utf-8")
        # Imported behind the daemon's back, as an older version or a hand edit could have done.
        commands.import_roster(slow_poll.folder / "data", other, mailbox_address=MAILBOX)
        world.receive(1)
        world.until(lambda: world.daemon._stop.is_set())

    world.run(story)
    assert any("stopping: config: director.email:" in r.getMessage() for r in caplog.records)
    assert len(slow_poll.files("inbox")) == 1, "the mail waits for a person to fix the roster"


def test_a_roster_imported_between_passes_is_what_the_next_pass_reads(slow_poll):
    world, newcomer = World(slow_poll), "rowan.pryce@wexcombe.example"

    def story(world):
        world.until(lambda: world.counts["waits"] >= 1)  # one pass done: the roster is held in memory
        roster = slow_poll.folder / "roster.csv"
        bigger = slow_poll.folder / "bigger.csv"
        bigger.write_text(roster.read_text(encoding="utf-8").rstrip("\n")
                          + f"\n{newcomer},Rowan Pryce,auditor,Children in Care,marcus.ellery@wexcombe.example\n", encoding="utf-8")
        # `roster import` gets the store while the daemon waits on the mailbox (the lock is free).
        commands.import_roster(slow_poll.folder / "data", bigger, mailbox_address=MAILBOX)
        slow_poll.receive(new_mail(sender=newcomer, subject="hello", body="?"), at=None)
        world.until(lambda: len(world.site.files("sent")) == 1)  # answered: known, though imported just now

    world.run(story)
    assert world.counts["services"] == 2, "opened afresh once, after the import; kept otherwise"
