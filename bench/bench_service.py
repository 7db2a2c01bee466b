"""Measures the demo's wall time and the intake cost per message, with and without years of history."""
import email
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import commands, intake  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from app.demo import run_demo  # noqa: E402
from app.demo_mail import gmail_reply  # noqa: E402
from app.context import open_context  # noqa: E402
from core.clock import Clock  # noqa: E402
from core.config import load_config  # noqa: E402
from db.months import MonthRepo  # noqa: E402
from inbox.maildir import deliver  # noqa: E402
from bench.bench_floor import floor_per_message  # noqa: E402

AUDITOR = "aisha.patel@wexcombe.example"
FSYNCS: list[float] = []  # fsyncs per message of each measured pass
GROWTH: list[tuple[float, float]] = []  # the last tenth of a pass's messages against the first (medians): wall, CPU


def demo_seconds(folder: Path) -> float:
    start = time.perf_counter()
    run_demo(folder / "demo", lambda line: None)
    return time.perf_counter() - start


def site_with_month(folder: Path, month: str, count: int):
    commands.init(folder)
    config = load_config(folder / "config.toml")
    rows = "auditor_email,case_ref,audit_type\n" + "".join(f"{AUDITOR},CR-{50000 + n},monthly\n" for n in range(count))
    (folder / f"alloc-{month}.csv").write_text(rows)
    ctx = open_context(config, Clock(datetime.fromisoformat(f"{month}-01T08:00+00:00")))
    commands.issue(ctx, month, folder / f"alloc-{month}.csv")
    ctx.close()
    return config


def replies_in_inbox(folder: Path, letter, month: str, count: int, at: datetime) -> float:
    """Deliver `count` Gmail-style replies to `letter`, grading AUD-month-001 onwards, into the inbox at `at`
    (a second apart); returns the floor's mean seconds per message over them (bench_floor.py)."""
    for n in range(count):
        raw = gmail_reply(f"Aisha Patel <{AUDITOR}>", "qa-audits@wexcombe.example", letter, at,
                          f"AUD-{month}-{n + 1:03d} Grade: Good")
        deliver(folder / "mailbox" / "inbox", raw, received_at=at + timedelta(seconds=n))
    messages = [p.read_bytes() for p in sorted((folder / "mailbox" / "inbox" / "new").iterdir())]
    return floor_per_message(messages, folder / "floor")[1]


def intake_per_message(config, folder: Path, month: str, count: int) -> tuple[float, int, float]:
    """Seconds per message for `count` submissions handled in one pass, the process's peak resident memory in bytes, and
    the floor's mean seconds per message over the same messages (bench_floor.py), measured just before."""
    at = datetime.fromisoformat(f"{month}-10T10:00+00:00")
    letter_path = sorted((folder / "mailbox" / "sent" / "new").iterdir())[-1]
    letter = email.message_from_bytes(letter_path.read_bytes(), policy=policy.default)
    floor = replies_in_inbox(folder, letter, month, count, at)
    ctx = open_context(config, Clock(at + timedelta(hours=1)))
    config_limit = ctx.postman._max_answers
    ctx.postman._max_answers = 10_000  # the storm brake would otherwise hold back most receipts
    real_handle, handle_times, handle_cpu = intake.handle_one, [], []

    def timed_handle(*args):
        begun, cpu = time.perf_counter(), time.process_time()
        real_handle(*args)
        handle_times.append(time.perf_counter() - begun)
        handle_cpu.append(time.process_time() - cpu)  # the disk's fsync time does not move this one

    intake.handle_one = timed_handle
    real_fsync, synced = os.fsync, []
    os.fsync = lambda fd: synced.append(fd) or real_fsync(fd)
    start = time.perf_counter()
    try:
        one_pass(ctx)
    finally:
        os.fsync = real_fsync
        intake.handle_one = real_handle
    elapsed = time.perf_counter() - start
    # The process's peak resident size (tracemalloc would slow every allocation 2-3x and skew the
    # time against the floor, which runs without it).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    FSYNCS.append(len(synced) / count)
    tenth = max(len(handle_times) // 10, 1)
    GROWTH.append(tuple(statistics.median(times[-tenth:]) / statistics.median(times[:tenth])
                        for times in (handle_times, handle_cpu)))
    ctx.postman._max_answers = config_limit
    ctx.close()
    return elapsed / count, peak, floor


def add_history(config, months: int) -> None:
    ctx = open_context(config, Clock(datetime(2028, 1, 1, tzinfo=timezone.utc)))
    with ctx.store.transaction():
        for i in range(months):
            month = f"{2024 + i // 12}-{i % 12 + 1:02d}"
            MonthRepo(ctx.store, month).add_allocations(
                [{"reference": f"AUD-{month}-{n:03d}", "month": month, "auditor": AUDITOR, "case_ref": "CR-1",
                  "audit_type": "monthly", "exempt": False, "deadline": None} for n in range(1, 120)])
    ctx.close()


def report(what: str, per: float, peak: int, floor: float) -> None:
    print(f"{what}: {per * 1000:.1f} ms per submission, floor {floor * 1000:.1f} ms "
          f"({per / floor:.1f}x the floor, goal < 3x); {FSYNCS[-1]:.1f} fsyncs per message; "
          f"last tenth {GROWTH[-1][0]:.2f}x the first, by CPU time {GROWTH[-1][1]:.2f}x (goal < 1.3x); "
          f"process peak RSS {peak / 1e6:.0f} MB")


def main() -> None:
    count = next((int(a) for a in sys.argv[1:] if a.isdigit()), 300)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if "--no-demo" not in sys.argv:
            print(f"demo: {demo_seconds(tmp):.2f} s (goal < 30 s)")
        config = site_with_month(tmp / "fresh", "2026-12", count)
        report(f"intake of {count} in one pass, empty history", *intake_per_message(config, tmp / "fresh", "2026-12", count))
        config = site_with_month(tmp / "old", "2026-12", count)
        add_history(config, 24)
        report(f"intake of {count} in one pass, 24 months of history",
               *intake_per_message(config, tmp / "old", "2026-12", count))


if __name__ == "__main__":
    main()
