"""Where one pass with one message spends its time, in timing buckets (and optionally a cProfile).

The daemon keeps the service around its mailbox from pass to pass (app/daemon.py): each pass takes
the store's lock again (checking nobody wrote meanwhile), handles the inbox and lets the lock go; the
pass at the poll lets each scheduled job decide whether anything is due, and, with no mail, folds the log. This plays
the same passes in-process, on a site a daemon just used, with each step wrapped in a timer, and
prints the mean of each bucket over a few warm passes, then the fold of the pass after them.
"""
import cProfile
import pstats
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import app.context
import app.daemon
from bench.month_end import submissions
from core.clock import Clock
from inbox.maildir import deliver

PASSES = 7


@contextmanager
def wrapped(module, name: str, bucket_of, buckets: dict):
    """Time every call of module.name into buckets[bucket_of(args)] while the block runs."""
    real = getattr(module, name)

    def timed(*args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        try:
            return real(*args, **kwargs)
        finally:
            buckets[bucket_of(args)].append((time.perf_counter() - start, time.process_time() - cpu))

    setattr(module, name, timed)
    try:
        yield
    finally:
        setattr(module, name, real)


def one_message_pass(service, folder: Path, raw: bytes | None, buckets: dict) -> None:
    """One pass of the daemon over its kept service (with `raw` delivered first; None: no mail, so it folds)."""
    if raw is not None:
        deliver(folder / "mailbox" / "inbox", raw)
    start, cpu = time.perf_counter(), time.process_time()
    if not service.resume():
        raise SystemExit("the store changed under the bench: it measures something else")
    buckets["resume (the lock, the stamps)"].append((time.perf_counter() - start, time.process_time() - cpu))
    counts = app.daemon.one_pass(service, jobs=raw is None)  # as the daemon: mail first, the jobs at the poll
    pausing, pausing_cpu = time.perf_counter(), time.process_time()
    service.pause(fold=not counts["handled"])
    buckets["pause (sync" + (")" if counts["handled"] else "; the fold)")].append(
        (time.perf_counter() - pausing, time.process_time() - pausing_cpu))
    buckets["the whole pass" + ("" if counts["handled"] else " with no mail")].append(
        (time.perf_counter() - start, time.process_time() - cpu))


def pass_buckets(config, folder: Path, profile: bool = False) -> None:
    """Print the mean time of each step of a one-message pass over PASSES warm passes."""
    replies = submissions(folder, PASSES + 1, datetime.now(timezone.utc), first=101)
    buckets: dict[str, list[float]] = defaultdict(list)
    job_name = lambda args: f"job {getattr(args[1], '__module__', '')}.{getattr(args[1], '__name__', args[1])}"
    service = app.context.open_context(config, Clock())
    try:
        service.pause()
        one_message_pass(service, folder, replies[0], defaultdict(list))  # warm: imports, templates, today's backup
        with wrapped(app.daemon, "intake_pass", lambda a: "intake: the message and its receipt", buckets), \
                wrapped(app.daemon, "run_job", job_name, buckets):
            profiler = cProfile.Profile() if profile else None
            for raw in replies[1:] + [None]:
                if profiler:
                    profiler.enable()
                one_message_pass(service, folder, raw, buckets)
                if profiler:
                    profiler.disable()
    finally:
        service.close()
    print(f"  one-message pass in this process, mean of {PASSES} warm passes, wall (CPU):")
    for name, times in sorted(buckets.items(), key=lambda item: -sum(wall for wall, _ in item[1])):
        wall, cpu = (sum(t[i] for t in times) / len(times) for i in (0, 1))
        if wall >= 0.0005:
            print(f"    {wall * 1000:7.1f} ms ({cpu * 1000:5.1f} ms)  {name}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
