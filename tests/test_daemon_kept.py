"""The daemon's kept service (issue 11 review): scheduled work keeps its rhythm through a stream of mail, a
daemon stopped between passes folds its log, and the service is opened afresh every REOPEN_SECONDS.

The daemon runs in the test's main thread, a story beside it (tests/test_daemon.py's World).
"""
import re
import time

from test_daemon import World, slow_poll  # noqa: F401 - slow_poll is a fixture used by name


def test_scheduled_work_keeps_its_rhythm_through_a_stream_of_mail_without_running_at_every_message(site):
    # poll_seconds = 1 (the site's own). A month-end stream: a message every 0.3 s for about 4 s, each
    # waking a pass at once (so the timed poll never comes). The scheduled work (the 09:00 reminders,
    # the chases) must still run about once a second, not wait for the stream to end, and not at
    # every message either.
    text = site.config_path.read_text(encoding="utf-8")
    site.config_path.write_text(re.sub(r"(?m)^poll_seconds = \d+", "poll_seconds = 1", text), encoding="utf-8")
    world, job_runs, streaming = World(site), [], {"on": False}

    def open_pass(mailbox):
        ctx = World._open_pass(world, mailbox)
        ctx.scheduled.append(lambda ctx: job_runs.append(streaming["on"]))
        return ctx

    world.daemon._open_pass = open_pass

    def story(w):
        w.until(lambda: job_runs)  # the first pass ran the scheduled work
        streaming["on"] = True
        for n in range(14):
            w.receive(n)
            time.sleep(0.3)
        w.until(lambda: len(w.site.files("processed")) == 14)
        streaming["on"] = False

    world.run(story)
    during = job_runs.count(True)
    assert during >= 2, f"the stream starved the scheduled work ({during} runs in about 4 s of mail)"
    assert during < world.counts["passes"] - 1, "scheduled work ran at every pass woken by mail"


def test_a_daemon_stopped_between_passes_folds_what_its_last_pass_logged(slow_poll):
    world, data = World(slow_poll), slow_poll.folder / "data"

    def story(w):
        w.until(lambda: w.counts["waits"] >= 1)
        w.receive(1)
        w.until(lambda: len(w.site.files("sent")) == 1 and w.counts["waits"] >= 2)  # answered, paused again
        assert (data / "wal.jsonl").exists(), "a pass with mail leaves its log for a quiet pass to fold"

    world.run(story)  # the story's end stops the daemon, as SIGTERM does
    assert not (data / "wal.jsonl").exists(), "folded as the daemon stopped"
    assert not (data / "kept.tmp").exists() and not (data / "store.lock").read_text()
    ctx = slow_poll.open()
    try:
        assert ctx.ledger.sent_mail(world.site.sent()[0]["Message-ID"]) is not None, "the letter's record kept"
    finally:
        ctx.close()


def test_the_kept_service_is_opened_afresh_after_an_hour_so_memory_never_grows_with_the_daemons_age(slow_poll,
                                                                                                  monkeypatch):
    monkeypatch.setattr("app.daemon.REOPEN_SECONDS", 1.0)  # an hour, made a second
    world = World(slow_poll)

    def story(w):
        w.until(lambda: w.counts["waits"] >= 1)
        w.receive(1)
        w.until(lambda: len(w.site.files("sent")) == 1)
        assert w.counts["services"] == 1, "kept while young"
        time.sleep(1.2)
        w.receive(2)
        w.until(lambda: len(w.site.files("sent")) == 2)

    world.run(story)
    assert world.counts["services"] == 2, "opened afresh once the hour was up"
    assert not (slow_poll.folder / "data" / "wal.jsonl").exists() and len(slow_poll.files("processed")) == 2
