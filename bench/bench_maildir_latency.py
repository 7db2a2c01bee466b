"""Measures how soon the real daemon answers on the maildir transport: arrival in inbox/ to receipt in sent/.

The daemon runs as `auditmail run` in a subprocess with `poll_seconds = 60`, so only its wait on the
mailbox (not the safety-net poll) can make it fast. The floor, measured in the same run, is one `once`
(warm) pass handling one message in this process: what an answer costs with no waiting at all.
Goal: median under 2 seconds.
"""
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import commands  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from app.context import open_context  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from inbox.maildir import deliver  # noqa: E402

SENDER = "Aisha Patel <aisha.patel@wexcombe.example>"
ROUNDS = 10


def mail(n: int) -> bytes:
    return (f"From: {SENDER}\r\nTo: qa-audits@wexcombe.example\r\nSubject: question {n}\r\n"
            f"Message-ID: <bench{n}@mail.wexcombe.example>\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHow do I send my audit?\r\n").encode()


def site(folder: Path, poll: int) -> Path:
    commands.init(folder)
    config = folder / "config.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("poll_seconds = 2 ", f"poll_seconds = {poll} ", 1), encoding="utf-8")
    return config


def sent_count(folder: Path) -> int:
    return sum(1 for _ in (folder / "mailbox" / "sent" / "new").iterdir())


def floor_seconds(folder: Path) -> float:
    """One warm pass handling one message, in this process: the cost of an answer without any waiting."""
    config = load_config(site(folder, 60))
    timings = []
    for n in range(2):  # the first pass also compiles the templates, as a daemon's first pass does
        deliver(folder / "mailbox" / "inbox", mail(100 + n))
        start = time.perf_counter()
        ctx = open_context(config, Clock())
        try:
            one_pass(ctx)
        finally:
            ctx.close()
        timings.append(time.perf_counter() - start)
    return timings[-1]


def daemon_latencies(folder: Path) -> list[float]:
    config = site(folder, 60)
    daemon = subprocess.Popen([sys.executable, "main.py", "--config", str(config), "run"], cwd=ROOT,
                              stderr=subprocess.DEVNULL)
    latencies = []
    try:
        time.sleep(3)  # started, first pass done, waiting on the mailbox
        for n in range(ROUNDS):
            start = time.perf_counter()
            deliver(folder / "mailbox" / "inbox", mail(n + 1))
            while sent_count(folder) < n + 1:
                if time.perf_counter() - start > 60:
                    raise SystemExit("no answer within 60 s: the daemon is not waking on new mail")
                time.sleep(0.01)
            latencies.append(time.perf_counter() - start)
            time.sleep(0.5)  # arrivals apart, as people write
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=30)
    return latencies


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        floor = floor_seconds(Path(tmp) / "floor")
        latencies = daemon_latencies(Path(tmp) / "daemon")
    print(f"floor (one pass, one message, no waiting): {floor:.3f} s")
    print(f"daemon on maildir, poll_seconds = 60, {ROUNDS} messages: median {statistics.median(latencies):.3f} s, "
          f"max {max(latencies):.3f} s (goal: median under 2 s)")


if __name__ == "__main__":
    main()
