"""Five years of history should cost nothing: the same month, the same commands, with and without 60 months behind it.

Builds two sites side by side: one with an empty history, one with 60 settled months of 150 auditors
(150-300 allocations a month, submissions with grades, exemptions, slippage, moderations, remedial
actions, the Director's letter, ledgers the size a real month leaves), written straight through the
repos. Then, in one run, it measures on both:

- intake: the per-message cost of COUNT submissions handled in one pass (goal: history within 1.3x of empty);
- a daemon pass with nothing to do, in-process, with the service kept as the daemon keeps it (goal:
  within 1.3x of empty), and opened afresh as `once` from cron does;
- `once`, `status` and `report --month` as separate processes, so each has its own peak RSS
  (goals: status and report under 1 s; peak RSS under 150 MB).

The history is built by bench/history_site.py.
"""
import email
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from email import policy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app import commands  # noqa: E402
from app.context import open_context  # noqa: E402
from app.daemon import one_pass  # noqa: E402
from bench.bench_service import AUDITOR, replies_in_inbox, site_with_month  # noqa: E402
from bench.history_site import (AUDITORS, HISTORY_MONTHS, MONTH, add_history, demo_rows,  # noqa: E402
                                months_before, more_auditors)
from core.clock import Clock  # noqa: E402
from db.months import MonthRepo  # noqa: E402
from db.store import Store  # noqa: E402


def intake(config, folder: Path, count: int) -> tuple[float, float]:
    """Seconds per message for `count` submissions (replies to the auditor's allocation letter) handled in
    one pass, and the floor's mean over the same messages (bench_floor.py), measured just before."""
    at = datetime.fromisoformat(f"{MONTH}-10T10:00+00:00")
    letter = next(m for m in map(_parsed, sorted((folder / "mailbox" / "sent" / "new").iterdir()))
                  if m["To"] and AUDITOR in str(m["To"]) and f"[AUD-{MONTH}-" in str(m["Subject"]))
    floor = replies_in_inbox(folder, letter, MONTH, count, at)
    ctx = open_context(config, Clock(at + timedelta(hours=1)))
    ctx.postman._max_answers = 10_000  # the storm brake would otherwise hold back most receipts
    try:
        start = time.perf_counter()
        one_pass(ctx)
        elapsed = time.perf_counter() - start
        recorded = len([s for s in MonthRepo(ctx.store, MONTH).submissions() if s.get("counts")])
    finally:
        ctx.close()
    if recorded != count:
        raise SystemExit(f"only {recorded} of {count} submissions were recorded: the bench measures something else")
    return elapsed / count, floor


def _parsed(path: Path):
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def in_process_pass(config, at: datetime) -> float:
    """Seconds for one daemon pass with nothing to do: open the store, run every job, close."""
    start = time.perf_counter()
    ctx = open_context(config, Clock(at))
    try:
        one_pass(ctx)
    finally:
        ctx.close()
    return time.perf_counter() - start


def daemon_passes(config, at: datetime, passes: int = 9) -> float:
    """Median seconds of a daemon's pass with nothing to do, its service kept (opened once, before)."""
    service = open_context(config, Clock(at))
    try:
        one_pass(service)
        service.pause(fold=True)
        times = []
        for _ in range(passes):
            start = time.perf_counter()
            if not service.resume():
                raise SystemExit("the store changed under the bench: it measures something else")
            one_pass(service)
            service.pause(fold=True)
            times.append(time.perf_counter() - start)
    finally:
        service.close()
    return statistics.median(times)


def in_process_reading(config, at: datetime, what: str) -> float:
    """Seconds for `status` or `report --month` in this process (opened read-only, as the commands are):
    the command's own work, without starting Python and importing the service."""
    start = time.perf_counter()
    ctx = open_context(config, Clock(at), read_only=True)
    try:
        commands.status(ctx, None) if what == "status" else commands.report(ctx, MONTH)
    finally:
        ctx.close()
    return time.perf_counter() - start


def command(config_path: Path, now: datetime, *args: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one `main.py` command in its own process.

    The peak is the process's own VmHWM, read as it exits: a forked child's ru_maxrss would count
    the parent's memory at the fork. Run as an installed service runs, with its modules' bytecode
    cached (pip compiles it at install): a PYTHONDONTWRITEBYTECODE in the bench's environment would
    otherwise make every command compile the service's 140 modules again (0.27 s).
    """
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _PEAK_AT_EXIT.format(out=peak.name, root=str(ROOT)),
                               "--config", str(config_path), "--now", now.isoformat(), *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - start
        if done.returncode:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.decode()[-2000:]}")
        return elapsed, _vm_hwm(peak.read())


_PEAK_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: open({out!r}, "w").write(open("/proc/self/status").read()))
sys.argv[0] = {root!r} + "/main.py"
sys.path.insert(0, {root!r})
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def _vm_hwm(status: str) -> int:
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def python_floor(config_path: Path, now: datetime) -> tuple[float, int]:
    """The same measure of `main.py --help`: starting Python and importing the service, which no command goes below."""
    return command(config_path, now, "--help")


def main() -> None:
    count = next((int(a) for a in sys.argv[1:] if a.isdigit()), 200)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        month_rows, ledger_rows = demo_rows(tmp / "template")
        sites = {}
        for name in ("empty", "history"):
            config = site_with_month(tmp / name, MONTH, count)
            if name == "history":
                begun = time.perf_counter()
                with Store(config.store_path, logged=True) as store:
                    auditors = more_auditors(store, AUDITORS)
                    add_history(store, month_rows, ledger_rows, auditors, months_before(MONTH, HISTORY_MONTHS))
                size = sum(p.stat().st_size for p in config.store_path.rglob("*.json"))
                print(f"history: {HISTORY_MONTHS} months x {AUDITORS} auditors written in "
                      f"{time.perf_counter() - begun:.1f} s; store {size / 1e6:.0f} MB")
            else:
                with Store(config.store_path, logged=True) as store:
                    more_auditors(store, AUDITORS)  # the same roster: only the history differs
            # December's first week as the service lived it (its reminders and digests), and with history
            # the scheduled work those months left behind (notices, final figures, their ledger marks),
            # done by the service itself, so the history is settled as a real one is.
            catch_up = datetime.fromisoformat(f"{MONTH}-01T07:00+00:00")
            for day in range(3):
                in_process_pass(config, catch_up + timedelta(days=day * 3))
            sites[name] = config
        at = datetime.fromisoformat(f"{MONTH}-10T11:00+00:00")
        # A first pass in a process pays for what is built once (templates compiled, the calendar, lazy
        # imports): paid here, on a throwaway site, so neither measured site carries it.
        warm = site_with_month(tmp / "warm", MONTH, 50)
        intake(warm, tmp / "warm", 50)
        for args in (["once"], ["status"], ["report", "--month", MONTH]):  # each command's bytecode cached
            command(tmp / "warm" / "config.toml", datetime.fromisoformat(f"{MONTH}-10T14:00+00:00"), *args)
        figures = {}
        for name, config in sites.items():
            # The day's first pass takes the daily backup (a copy of the whole store, checked): once a day,
            # so measured on its own, and not inside the intake pass below.
            first_of_day = in_process_pass(config, at - timedelta(hours=2))
            per, floor = intake(config, tmp / name, count)
            once = command(tmp / name / "config.toml", at + timedelta(hours=3), "once")
            status = command(tmp / name / "config.toml", at + timedelta(hours=3), "status")
            report = command(tmp / name / "config.toml", at + timedelta(hours=3), "report", "--month", MONTH)
            reading = {what: sorted(in_process_reading(config, at + timedelta(hours=3), what) for _ in range(3))[1]
                       for what in ("status", "report")}
            figures[name] = {"intake": per, "floor": floor, "first_of_day": first_of_day, "once": once, "status": status, "report": report,
                             "reading": reading}
        # Passes with nothing to do, the two sites taking turns so the machine's load falls on both alike.
        # On the 28th November is settled too (the fortnight after its last agreed date, the 8th, is over).
        # As the daemon runs them: its service kept from pass to pass (app/daemon.py), each pass taking the
        # store's lock again, running every scheduled job and folding; and as `once` from cron, opened afresh.
        for key, when in (("idle", at + timedelta(hours=4)), ("idle_later", at + timedelta(days=18))):
            figures_at = {name: daemon_passes(config, when) for name, config in sites.items()}
            times = {name: [] for name in sites}
            for n in range(9):
                for name, config in sites.items():
                    times[name].append(in_process_pass(config, when + timedelta(minutes=n)))
            for name in sites:
                figures[name][key] = statistics.median(times[name])
                figures[name][key + "_daemon"] = figures_at[name]
        start_floor = python_floor(tmp / "empty" / "config.toml", at)
        e, h = figures["empty"], figures["history"]
        print(f"intake of {count} in one pass: {e['intake'] * 1000:.1f} ms/message empty, "
              f"{h['intake'] * 1000:.1f} ms with history ({h['intake'] / e['intake']:.2f}x, goal < 1.3x; "
              f"floor {h['floor'] * 1000:.1f} ms)")
        print(f"the day's first pass, which takes the daily backup (in-process): {e['first_of_day']:.2f} s empty, "
              f"{h['first_of_day']:.2f} s with history (a copy of every file, once a day)")
        # On the 10th the site with history has November's own month still in play (its moderation, its
        # chases), which the empty site has not: that is November's work, not the years', so no goal.
        for key, day, note, goal in (("idle", "10", "November still in play", "no goal: the empty site has no "
                                      "November"), ("idle_later", "28", f"only {MONTH} in play", "goal < 1.3x")):
            print(f"a pass with nothing to do, {MONTH}-{day}, {note}: at the daemon (service kept) "
                  f"{e[key + '_daemon'] * 1000:.0f} ms empty, {h[key + '_daemon'] * 1000:.0f} ms with history "
                  f"({h[key + '_daemon'] / e[key + '_daemon']:.2f}x, {goal}); opened afresh as `once` does "
                  f"{e[key] * 1000:.0f} / {h[key] * 1000:.0f} ms ({h[key] / e[key]:.2f}x)")
        print(f"`--help` (python and the imports alone): {start_floor[0]:.2f} s, {start_floor[1] / 1e6:.0f} MB")
        for what in ("status", "report"):
            te, th = e["reading"][what], h["reading"][what]
            print(f"`{what}` in-process: {te * 1000:.0f} ms empty, {th * 1000:.0f} ms with history "
                  f"({th / te:.2f}x; goal < 1 s)")
        for what in ("once", "status", "report"):
            (te, re_), (th, rh) = e[what], h[what]
            goal = "goal < 1 s" if what != "once" else "goal < 1.3x"
            print(f"`{what}` in its own process: {te:.2f} s / {re_ / 1e6:.0f} MB empty, {th:.2f} s / "
                  f"{rh / 1e6:.0f} MB with history ({goal}; peak RSS goal < 150 MB)")


if __name__ == "__main__":
    main()
