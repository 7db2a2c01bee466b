"""The month-end at a running daemon: `auditmail run` in a subprocess on the maildir transport.

The daemon runs on the real clock (so its month is today's) with `poll_seconds = 60`: only its wait
on the mailbox can make it answer fast. A watcher thread looks at sent/ every 5 ms and matches each
receipt to its submission by In-Reply-To. Arrival is stamped just *before* the message is written
into inbox/ (so the figure includes the delivering agent's own write and fsync): conservative.
"""
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import suppress
from datetime import datetime, timezone
from pathlib import Path

from bench.bench_floor import floor_folder, floor_one, floor_per_message
from bench.month_end import month_end_site, submissions
from bench.pass_buckets import pass_buckets
from core.config import load_config
from inbox.maildir import MaildirMailbox, deliver

ROOT = Path(__file__).resolve().parent.parent
RUSH, RUSH_WINDOW = 150, 60.0  # the last 10 minutes of the month, compressed ten-fold
TRICKLE = 20
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.I | re.M)
IN_REPLY_TO = re.compile(rb"^In-Reply-To:\s*(<[^>]+>)", re.I | re.M)


class Receipts(threading.Thread):
    """Notes when each answer lands in sent/, by the Message-ID it answers."""

    def __init__(self, folder: Path):
        super().__init__(daemon=True)
        self.sent, self.seen, self.landed = folder / "mailbox" / "sent" / "new", set(), {}
        self.seen.update(p.name for p in self.sent.iterdir())
        self._stop = threading.Event()

    def run(self) -> None:
        while not self._stop.is_set():
            now = time.perf_counter()
            for entry in os.scandir(self.sent):
                if entry.name not in self.seen:
                    self.seen.add(entry.name)
                    found = IN_REPLY_TO.search(Path(entry.path).read_bytes())
                    if found:
                        self.landed.setdefault(found.group(1).decode(), now)
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()


def start_daemon(config: Path) -> subprocess.Popen:
    daemon = subprocess.Popen([sys.executable, "main.py", "--config", str(config), "run"], cwd=ROOT,
                              stderr=subprocess.DEVNULL)
    time.sleep(4)  # started, first pass done, waiting on the mailbox
    return daemon


def stop_daemon(daemon: subprocess.Popen) -> None:
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=60)


def cpu_seconds(pid: int) -> float:
    """CPU time of every thread of a process so far, in ns resolution from /proc/PID/task/*/schedstat
    (/proc/PID/stat counts clock ticks of 10 ms, too coarse for one message)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with suppress(FileNotFoundError, ProcessLookupError):  # a thread that ended meanwhile
            total += int((task / "schedstat").read_text().split()[0])
    return total / 1e9


def arrivals(count: int, window: float, seed: int = 11) -> list[float]:
    """Bursty month-end arrivals: two thirds more and more often toward the deadline (density rising
    linearly), the rest in bursts of ten within a second (a team finishing together)."""
    rng = random.Random(seed)
    bursts = count // 3 // 10
    times = [window * rng.random() ** 0.5 for _ in range(count - bursts * 10)]
    for _ in range(bursts):
        start = rng.uniform(0, window - 1)
        times += [start + rng.random() for _ in range(10)]
    return sorted(times)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _daemon_with_replies(folder: Path, count: int):
    """A month-end site with `count` replies ready (not yet delivered), the floor's mean over them, and
    `auditmail run` started on it with its receipts watched: (config, replies, floor, watcher, daemon)."""
    config = month_end_site(folder, poll_seconds=60)
    replies = submissions(folder, count, datetime.now(timezone.utc))
    floor = floor_per_message(replies, folder / "floor")[1]
    watcher = Receipts(folder)
    daemon = start_daemon(config)
    watcher.start()
    return config, replies, floor, watcher, daemon


def rush(folder: Path) -> None:
    """150 submissions in a compressed last 10 minutes; each receipt within 2 s of its arrival."""
    config, replies, floor, watcher, daemon = _daemon_with_replies(folder, RUSH)
    arrived, plan = {}, arrivals(RUSH, RUSH_WINDOW)
    try:
        begin = time.perf_counter()
        for at, raw in zip(plan, replies):
            time.sleep(max(0.0, begin + at - time.perf_counter()))
            arrived[MESSAGE_ID.search(raw).group(1).decode()] = time.perf_counter()
            deliver(folder / "mailbox" / "inbox", raw)
        deadline = time.perf_counter() + 120
        while len(set(arrived) & set(watcher.landed)) < len(arrived) and time.perf_counter() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
        stop_daemon(daemon)
    waits = [watcher.landed[m] - t for m, t in arrived.items() if m in watcher.landed]
    missing = len(arrived) - len(waits)
    print(f"rush: {RUSH} submissions in {RUSH_WINDOW:.0f} s (the last 10 minutes compressed 10x, bursty) to "
          f"`auditmail run` on maildir, poll_seconds = 60; floor {floor * 1000:.1f} ms per message")
    print(f"  arrival to receipt: median {statistics.median(waits):.2f} s, p95 {percentile(waits, 0.95):.2f} s, "
          f"max {max(waits):.2f} s; over 2 s: {sum(w > 2 for w in waits)} of {len(waits)}"
          f"{f'; NO RECEIPT: {missing}' if missing else ''} (goal: every one within 2 s)")


def trickle(folder: Path, profile: bool = False) -> None:
    """One message at a time to the daemon: arrival to receipt, and the daemon's CPU per message."""
    config, replies, floor, watcher, daemon = _daemon_with_replies(folder, TRICKLE + 1)
    waits, cpus, gaps, spaced_floor = [], [], random.Random(7), []

    def one(raw: bytes) -> float:
        """Deliver one message, wait for its receipt; seconds from arrival to receipt."""
        message_id, start = MESSAGE_ID.search(raw).group(1).decode(), time.perf_counter()
        deliver(folder / "mailbox" / "inbox", raw)
        while message_id not in watcher.landed and time.perf_counter() - start < 60:
            time.sleep(0.005)
        return watcher.landed.get(message_id, float("inf")) - start

    try:
        # A running daemon has handled mail before: the first message after its start also pays what a
        # process does once (compiling the letters' templates, the modules imported on first use), about
        # 60 ms, which is no message's own cost. It is sent first and not counted.
        one(replies[0])
        time.sleep(1)
        idle_start, idle_cpu = time.perf_counter(), cpu_seconds(daemon.pid)
        time.sleep(10)
        idle = (cpu_seconds(daemon.pid) - idle_cpu) / (time.perf_counter() - idle_start)
        spaced = floor_folder(folder / "floor-spaced")
        for n, raw in enumerate(replies[1:]):
            cpu, start = cpu_seconds(daemon.pid), time.perf_counter()
            waits.append(one(raw))
            # The pass finishes before the next arrives; a random gap, so arrivals do not lock in step
            # with the daemon's quarter-second look at the folder (always just after it, or just before).
            time.sleep(0.5 + gaps.uniform(0, 0.25))
            cpus.append(cpu_seconds(daemon.pid) - cpu - idle * (time.perf_counter() - start))
            # The floor handles the same message at the same moment, one at a time as the daemon does:
            # the disk and the CPU as they are now, not as they were when the batch floor ran.
            floor_start = time.perf_counter()
            floor_one(raw, n, spaced)
            spaced_floor.append(time.perf_counter() - floor_start)
            time.sleep(1.0 + gaps.uniform(0, 0.25))
    finally:
        watcher.stop()
        stop_daemon(daemon)
    cpu, middle = statistics.fmean(cpus), statistics.median(cpus)
    print(f"trickle: {TRICKLE} submissions one at a time to `auditmail run` (maildir, poll_seconds = 60), "
          f"after one not counted")
    print(f"  arrival to receipt: median {statistics.median(waits):.2f} s, max {max(waits):.2f} s (goal < 2 s)")
    print(f"  daemon CPU per message: mean {cpu * 1000:.1f} ms, median {middle * 1000:.1f} ms, max "
          f"{max(cpus) * 1000:.1f} ms (idle {idle * 1000:.1f} ms/s subtracted); floor {floor * 1000:.1f} ms: "
          f"{cpu / floor:.1f}x (mean), {middle / floor:.1f}x (median)")
    spaced = statistics.fmean(spaced_floor)
    print(f"  the floor run one message at a time between the daemon's (the same messages, the same moments): "
          f"mean {spaced * 1000:.1f} ms, median {statistics.median(spaced_floor) * 1000:.1f} ms: "
          f"{cpu / spaced:.1f}x (mean)")
    pass_buckets(load_config(config), folder, profile=profile)


def wake(folder: Path, rounds: int = 40) -> None:
    """How soon wait_for_mail returns once a message lands, and what waiting costs when nothing comes."""
    (folder / "inbox").mkdir(parents=True)
    mailbox, rng, delays = MaildirMailbox(folder), random.Random(4), []
    for n in range(rounds):
        landed = []
        timer = threading.Timer(rng.uniform(0.05, 0.6), lambda: landed.append(time.perf_counter()) or deliver(
            folder / "inbox", b"Subject: x\r\n\r\nx\r\n"))
        timer.start()
        mailbox.wait_for_mail(10, lambda: False)
        delays.append(time.perf_counter() - landed[0])
        timer.join()
    cpu, start = time.process_time(), time.perf_counter()
    mailbox.wait_for_mail(5, lambda: False)
    idle = (time.process_time() - cpu) / (time.perf_counter() - start)
    print(f"wake: maildir wait_for_mail over {rounds} arrivals: median {statistics.median(delays) * 1000:.0f} ms, "
          f"max {max(delays) * 1000:.0f} ms (goal < 2 s); waiting with nothing arriving costs "
          f"{idle * 1000:.2f} ms CPU per second")
