"""The month-end surge, measured three ways against the floor (bench_floor.py) of the same run.

1. `surge`: 1,000 submissions (150 auditors, a handful of audits each) handled in one pass, in this
   process: per message against the floor (goal within 3x), and the last 100 messages' median
   against the first 100's (goal within 1.3x: the 1,000th costs what the 1st did).
2. `rush`: 150 submissions arriving in a compressed "last 10 minutes" (60 s, in bursts) at the real
   daemon (`auditmail run` on the maildir transport): arrival to receipt, each within 2 s.
3. `trickle`: one message at a time to the real daemon: arrival to receipt and the daemon's CPU per
   message (from /proc/PID/stat), and, in this process, where a one-message pass spends its time.
Also `wake`: how soon MaildirMailbox.wait_for_mail notices a message (goal: within 2 s).

    .venv/bin/python bench/bench_surge.py [surge] [rush] [trickle] [wake] [--profile]
"""
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.context import open_context  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from bench.bench_floor import floor_per_message  # noqa: E402
from bench.month_end import month_end_site, submissions  # noqa: E402
from bench.surge_daemon import rush, trickle, wake  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from inbox.maildir import deliver  # noqa: E402

SURGE = 1000


class TimedReader:
    """The pass's mailbox reader, noting when each message is handed out: the gaps are per-message costs
    (parse, classify, handle, file, and send its receipt), in the order the pass met them."""

    def __init__(self, reader):
        self._reader, self.stamps = reader, []

    def waiting(self):
        for incoming in self._reader.waiting():
            self.stamps.append(time.perf_counter())
            yield incoming
        self.stamps.append(time.perf_counter())

    def __getattr__(self, name):
        return getattr(self._reader, name)


def surge(folder: Path, count: int = SURGE, profile: bool = False) -> dict:
    """One pass over `count` month-end submissions; per-message times, and the floor over the same messages."""
    config = load_config(month_end_site(folder, audits=count))
    evening = datetime(2026, 12, 31, 18, 0, tzinfo=timezone.utc)
    replies = submissions(folder, count, evening)
    for n, raw in enumerate(replies):
        deliver(folder / "mailbox" / "inbox", raw, received_at=evening + timedelta(seconds=5 * n))
    floor_median, floor_mean = floor_per_message(replies, folder / "floor")
    ctx = open_context(config, Clock(evening + timedelta(hours=5)))
    ctx.reader = reader = TimedReader(ctx.reader)
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    try:
        if profiler:
            profiler.enable()
        counts = one_pass(ctx)
    finally:
        if profiler:
            profiler.disable()
        ctx.close()
    elapsed = time.perf_counter() - start
    if profiler:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    per = [b - a for a, b in zip(reader.stamps, reader.stamps[1:])]
    sent = sum(1 for _ in (folder / "mailbox" / "sent" / "new").iterdir())
    return {"count": count, "handled": counts["handled"], "elapsed": elapsed, "per": per,
            "floor_median": floor_median, "floor_mean": floor_mean, "sent": sent}


def report_surge(r: dict) -> None:
    per, hundred = r["per"], min(100, len(r["per"]) // 2)
    first, last = statistics.median(per[:hundred]), statistics.median(per[-hundred:])
    mean = r["elapsed"] / r["count"]
    print(f"surge: {r['handled']} of {r['count']} submissions handled in one pass in {r['elapsed']:.1f} s")
    print(f"  per message {mean * 1000:.1f} ms (median {statistics.median(per) * 1000:.1f} ms), floor "
          f"{r['floor_mean'] * 1000:.1f} ms (median {r['floor_median'] * 1000:.1f} ms): "
          f"{mean / r['floor_mean']:.1f}x the floor (goal < 3x)")
    print(f"  first {hundred}: median {first * 1000:.1f} ms; last {hundred}: median {last * 1000:.1f} ms: "
          f"{last / first:.2f}x (goal < 1.3x)")
    print(f"  of the pass, {r['elapsed'] - sum(per):.1f} s went outside the messages (listing the inbox, "
          f"scheduled jobs, the fold at close); the slowest message took {max(per) * 1000:.0f} ms")


def main() -> None:
    wanted = [a for a in sys.argv[1:] if not a.startswith("--")] or ["surge", "rush", "trickle", "wake"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "surge" in wanted:
            report_surge(surge(tmp / "surge", profile="--profile" in sys.argv))
        if "rush" in wanted:
            rush(tmp / "rush")
        if "trickle" in wanted:
            trickle(tmp / "trickle", profile="--profile" in sys.argv)
        if "wake" in wanted:
            wake(tmp / "wake")


if __name__ == "__main__":
    main()
