"""Where one pass with one message spends its time, in timing buckets (and optionally a cProfile).

The daemon opens the service around its mailbox for every pass (app/context.py open_context),
handles the inbox, lets each scheduled job decide whether anything is due, and folds the store's
log at close. This plays the same passes in-process, on a site a daemon just used, with each step
wrapped in a timer, and prints the mean of each bucket over a few warm passes.
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


def one_message_pass(config, folder: Path, raw: bytes, buckets: dict) -> None:
    deliver(folder / "mailbox" / "inbox", raw)
    start, cpu = time.perf_counter(), time.process_time()
    ctx = app.context.open_context(config, Clock())
    buckets["open_context (all of it)"].append((time.perf_counter() - start, time.process_time() - cpu))
    try:
        app.daemon.one_pass(ctx)
    finally:
        closing, closing_cpu = time.perf_counter(), time.process_time()
        ctx.close()
        buckets["close (the fold)"].append((time.perf_counter() - closing, time.process_time() - closing_cpu))
    buckets["the whole pass"].append((time.perf_counter() - start, time.process_time() - cpu))


def pass_buckets(config, folder: Path, profile: bool = False) -> None:
    """Print the mean time of each step of a one-message pass over PASSES warm passes."""
    replies = submissions(folder, PASSES + 1, datetime.now(timezone.utc), first=101)
    buckets: dict[str, list[float]] = defaultdict(list)
    job_name = lambda args: f"job {getattr(args[1], '__module__', '')}.{getattr(args[1], '__name__', args[1])}"
    one_message_pass(config, folder, replies[0], defaultdict(list))  # warm: imports, templates, today's backup
    with wrapped(app.context, "open_checked_store", lambda a: "  open the store, read the roster", buckets), \
            wrapped(app.context, "Composer", lambda a: "  build the composer (templates)", buckets), \
            wrapped(app.daemon, "intake_pass", lambda a: "intake: the message and its receipt", buckets), \
            wrapped(app.daemon, "run_job", job_name, buckets):
        profiler = cProfile.Profile() if profile else None
        for raw in replies[1:]:
            if profiler:
                profiler.enable()
            one_message_pass(config, folder, raw, buckets)
            if profiler:
                profiler.disable()
    print(f"  one-message pass in this process, mean of {PASSES} warm passes, wall (CPU):")
    for name, times in sorted(buckets.items(), key=lambda item: -sum(wall for wall, _ in item[1])):
        wall, cpu = (sum(t[i] for t in times) / PASSES for i in (0, 1))
        if wall >= 0.0005:
            print(f"    {wall * 1000:7.1f} ms ({cpu * 1000:5.1f} ms)  {name}")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
