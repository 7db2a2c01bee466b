"""From a submission's arrival to the auditor's receipt landing in their mailbox: median and p95.

    imap:    APPEND into a real Dovecot; the service waits in IDLE on its one kept-open connection,
             runs a pass, sends the receipt over SMTP (aiosmtpd), which delivers it to the auditor's
             Dovecot mailbox over LMTP. The clock stops when LMTP has said "Saved".
    maildir: a file delivered into inbox/; the service waits polling the folder; the clock stops
             when the receipt's file is in sent/.

The floors, measured in the same run: an APPEND then a FETCH of it from another connection (the
server's own round trip), and an APPEND until another connection's IDLE hears of it (Dovecot waits
half a second before telling IDLE clients, to gather changes: no IMAP client can beat that).
Needs Dovecot (apt-get install -y dovecot-imapd dovecot-lmtpd). Run from the project root:

    .venv/bin/python bench/bench_latency.py [count]
"""
import imaplib
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from app import commands  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from app.demo_mail import gmail_reply  # noqa: E402
from app.context import open_context  # noqa: E402
from app.transports import open_mailbox  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from inbox.imap_idle import idle  # noqa: E402
from inbox.maildir import deliver  # noqa: E402
from servers.dovecot import Dovecot  # noqa: E402
from servers.imap_site import ImapSite  # noqa: E402

AUDITOR = "aisha.patel@wexcombe.example"
MAILBOX = "qa-audits@wexcombe.example"


class Environment:
    """Stands in for pytest's monkeypatch where ImapSite sets the password variables."""

    def setenv(self, name: str, value: str) -> None:
        os.environ[name] = value


def prepare(site, count: int) -> tuple[list[bytes], object]:
    """A quiet site (no storm brake) with `count` audits issued to Aisha today; her replies, one per audit."""
    text = site.config_path.read_text().replace("max_answers_per_sender_per_day = 10", "max_answers_per_sender_per_day = 1000")
    site.config_path.write_text(text)
    month = datetime.now(timezone.utc).strftime("%Y-%m")
    rows = "auditor_email,case_ref,audit_type\n" + "".join(f"{AUDITOR},CR-{60000 + n},monthly\n" for n in range(count))
    (site.folder / "alloc.csv").write_text(rows)
    config = load_config(site.config_path)
    ctx = open_context(config, Clock())
    commands.issue(ctx, month, site.folder / "alloc.csv")
    ctx.close()
    [letter] = [m for m in site.sent() if m["To"] == AUDITOR]
    now = datetime.now(timezone.utc)
    replies = [gmail_reply(f"Aisha Patel <{AUDITOR}>", MAILBOX, letter, now, f"AUD-{month}-{n + 1:03d} Grade: Good")
               for n in range(count)]
    return replies, config


def daemon_loop(config, mailbox, stop: threading.Event) -> threading.Thread:
    """What the daemon does: wait on the kept-open mailbox, then a pass (the store opened for the pass only)."""
    def loop():
        while not stop.is_set():
            mailbox.wait_for_mail(60, stop.is_set)
            if stop.is_set():
                break
            ctx = open_context(config, Clock(), mailbox=mailbox)
            try:
                one_pass(ctx, stop.is_set)
            finally:
                ctx.close()
    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    return thread


def timed_arrivals(replies, arrive, delivered_count) -> list[float]:
    """For each reply: make it arrive, then wait until one more receipt is delivered; seconds each."""
    latencies = []
    for raw in replies:
        before = delivered_count()
        started = time.perf_counter()
        arrive(raw)
        while delivered_count() == before:
            time.sleep(0.002)
            if time.perf_counter() - started > 30:
                raise RuntimeError("no receipt within 30 s")
        latencies.append(time.perf_counter() - started)
        time.sleep(0.1)  # each arrival on its own, as mail comes in a working day
    return latencies


def imap_run(dovecot: Dovecot, folder: Path, count: int) -> list[float]:
    site = ImapSite(folder / "imap", dovecot, Environment())
    replies, config = prepare(site, count)
    mailbox, stop = open_mailbox(config), threading.Event()
    list(mailbox.waiting())  # connected and ready, as a daemon is after its first pass
    thread = daemon_loop(config, mailbox, stop)
    writer = dovecot.client(site.user)  # the delivering side, logged in beforehand like a mail server's
    try:
        stamp = imaplib.Time2Internaldate(datetime.now(timezone.utc))
        return timed_arrivals(replies, lambda raw: writer.append("INBOX", "", stamp, raw),
                              lambda: sum(1 for r in site.smtp.received if r.rcpt_tos == [AUDITOR]))
    finally:
        writer.logout()
        stop.set()
        thread.join(5)
        mailbox.close()
        site.smtp.stop()


def maildir_run(folder: Path, count: int) -> list[float]:
    from conftest import Site

    site = Site(folder / "maildir")
    replies, config = prepare(site, count)
    mailbox, stop = open_mailbox(config), threading.Event()
    thread = daemon_loop(config, mailbox, stop)
    sent = site.mailbox / "sent"
    try:
        return timed_arrivals(replies, lambda raw: deliver(site.mailbox / "inbox", raw),
                              lambda: len(os.listdir(sent / "new")) + len(os.listdir(sent / "cur")))
    finally:
        stop.set()
        thread.join(5)
        mailbox.close()


def floors(dovecot: Dovecot, count: int) -> tuple[list[float], list[float]]:
    """APPEND then FETCH from a second connection; APPEND until a second connection's IDLE hears of it."""
    raw = b"From: a@wexcombe.example\r\nSubject: floor\r\n\r\nx\r\n"
    writer, watcher = dovecot.client("floor"), dovecot.client("floor")
    watcher.select("INBOX")
    fetch, notify = [], []
    for _ in range(count):
        started = time.perf_counter()
        writer.append("INBOX", "", imaplib.Time2Internaldate(datetime.now(timezone.utc)), raw)
        watcher.noop()
        watcher.uid("FETCH", "*", "(BODY.PEEK[])")
        fetch.append(time.perf_counter() - started)
    stamp, started = imaplib.Time2Internaldate(datetime.now(timezone.utc)), [0.0]

    def append_later() -> None:
        started[0] = time.perf_counter()
        writer.append("INBOX", "", stamp, raw)

    for _ in range(count):
        threading.Timer(0.05, append_later).start()
        idle(watcher, 10, lambda: False)
        notify.append(time.perf_counter() - started[0])
    writer.logout()
    watcher.logout()
    return fetch, notify


def summary(name: str, seconds: list[float]) -> str:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{name:<48} median {statistics.median(ordered) * 1000:7.0f} ms   p95 {p95 * 1000:7.0f} ms   (n={len(ordered)})"


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    folder = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    dovecot = Dovecot().start()
    try:
        fetch, notify = floors(dovecot, count)
        print(summary("floor: APPEND + FETCH round trip", fetch))
        print(summary("floor: APPEND until IDLE hears of it", notify))
        print(summary("imap: APPEND to receipt in auditor's mailbox", imap_run(dovecot, folder, count)))
        print(summary("maildir: delivery to receipt in sent/", maildir_run(folder, count)))
    finally:
        dovecot.remove()


if __name__ == "__main__":
    main()
