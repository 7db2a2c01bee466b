"""Five years of history should cost nothing: the same month, the same commands, with and without 60 months behind it.

Builds two sites side by side: one with an empty history, one with 60 settled months of 150 auditors
(150-300 allocations a month, submissions with grades, exemptions, slippage, moderations, remedial
actions, the Director's letter, ledgers the size a real month leaves), written straight through the
repos. Then, in one run, it measures on both:

- intake: the per-message cost of COUNT submissions handled in one pass (goal: history within 1.3x of empty);
- a daemon pass with nothing to do, in-process (goal: within 1.3x of empty);
- `once`, `status` and `report --month` as separate processes, so each has its own peak RSS
  (goals: status and report under 1 s; peak RSS under 150 MB).

The rows of every kind are cloned from the demo's own month, so they have the shapes the service writes.
"""
import email
import json
import random
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
from app.demo import run_demo  # noqa: E402
from bench.bench_service import AUDITOR, replies_in_inbox, site_with_month  # noqa: E402
from core.clock import Clock  # noqa: E402
from db.items import ItemRepo  # noqa: E402
from db.ledger import ledger_file  # noqa: E402
from db.months import MonthRepo  # noqa: E402
from db.roster import RosterRepo  # noqa: E402
from db.store import Store  # noqa: E402
from workflows import actions, director_letters, exemptions, moderation, slippage  # noqa: E402

MONTH = "2026-12"            # the month being handled, after the history
HISTORY_MONTHS = 60
AUDITORS = 150
GRADES = ["Outstanding"] * 5 + ["Good"] * 45 + ["Requires improvement"] * 40 + ["Inadequate"] * 10


def months_before(month: str, count: int) -> list[str]:
    """The `count` months before `month`, oldest first."""
    year, mon = map(int, month.split("-"))
    out = []
    for _ in range(count):
        year, mon = (year - 1, 12) if mon == 1 else (year, mon - 1)
        out.append(f"{year}-{mon:02d}")
    return out[::-1]


def months_after(month: str, count: int) -> str:
    """The month `count` months after `month`."""
    year, mon = map(int, month.split("-"))
    index = year * 12 + mon - 1 + count
    return f"{index // 12}-{index % 12 + 1:02d}"


def demo_rows(folder: Path) -> tuple[dict, dict]:
    """One row of every table the demo's month and ledger hold: the shapes the service writes."""
    run_demo(folder, lambda line: None)
    data = folder / "data"
    month = json.loads((data / "months" / f"{MONTH}.json").read_text())
    ledger = json.loads((data / "ledgers" / f"{MONTH}.json").read_text())
    pick = lambda tables: {name: list(rows.values()) for name, rows in tables.items()}  # noqa: E731
    return pick(month), pick(ledger)


def more_auditors(store: Store, count: int) -> list[str]:
    """Grow the sample roster to `count` auditors (invented: first and last names of the sample, recombined)."""
    roster = RosterRepo(store)
    people = roster.all()
    firsts = sorted({p.name.split()[0] for p in people})
    lasts = sorted({p.name.split()[-1] for p in people})
    heads = [p for p in people if p.has("head_of_service")]
    rows = [{"email": p.email, "name": p.name, "roles": list(p.roles), "service": p.service,
             "head_of_service": p.head_of_service} for p in people]
    have = {r["email"] for r in rows}
    n = 0
    while sum("auditor" in r["roles"] for r in rows) < count:
        first, last = firsts[n % len(firsts)], lasts[(n // len(firsts)) % len(lasts)]
        email = f"{first}.{last}{n}@wexcombe.example".lower()
        head = heads[n % len(heads)]
        if email not in have:
            rows.append({"email": email, "name": f"{first} {last}", "roles": ["auditor"],
                         "service": head.service, "head_of_service": head.email})
        n += 1
    table = store.table("roster", "people")
    with store.transaction():
        table.truncate()
        table.insert_multiple(rows)
    return [r["email"] for r in rows if "auditor" in r["roles"]]


def _clone(row: dict, month: str, **changes) -> dict:
    text = json.dumps(row).replace(MONTH, month)
    return {**json.loads(text), **changes}


def add_history(store: Store, month_rows: dict, ledger_rows: dict, auditors: list[str], months: list[str]) -> None:
    """Write `months` of settled history straight through the repos, one transaction a month."""
    rnd = random.Random(11)
    items, kinds = ItemRepo(store), [(exemptions.KIND, "exemptions", 3), (slippage.KIND, "slippage", 3),
                                     (actions.KIND, "actions", 4)]
    finals = {"exemptions": "approved", "slippage": "agreed", "actions": "done", "moderations": "agreed"}
    for month in months:
        with store.transaction():
            repo, count = MonthRepo(store, month), rnd.randint(150, 300)
            repo.take_numbers(count, f"{month}-01T08:30:00+00:00")
            repo.seed("moderation", lambda: "%032x" % rnd.getrandbits(128))
            allocations = [_clone(month_rows["allocations"][n % len(month_rows["allocations"])], month,
                                  reference=f"AUD-{month}-{n + 1:03d}", auditor=auditors[n % len(auditors)],
                                  case_ref=f"CR-{40000 + n}", exempt=n < 3, deadline=None) for n in range(count)]
            for a in allocations[3:5]:  # two agreed later dates a month (the slippage below)
                a["deadline"] = f"{months_after(month, 1)}-08T23:59:59.999999+00:00"
            repo.add_allocations(allocations)
            for a in allocations[: int(count * 0.92)]:
                repo.add_submission(_clone(month_rows["submissions"][0], month, reference=a["reference"],
                                           grade=rnd.choice(GRADES), counts=rnd.random() > 0.04,
                                           received_at=f"{month}-{rnd.randint(2, 28):02d}T10:00:00+00:00",
                                           message_id=f"{rnd.getrandbits(64):016x}@mail.wexcombe.example",
                                           **{"from": a["auditor"]}))
            for kind, table, many in kinds:
                for _ in range(many):
                    ref = items.next_reference(kind, month)
                    items.add(_clone(month_rows[table][0], month, reference=ref, state=finals[table]))
            for a in allocations[: count // 10]:
                ref = items.next_reference(moderation.KIND, month)
                items.add(_clone(month_rows["moderations"][0], month, reference=ref, audit=a["reference"],
                                 state=rnd.choice(["agreed", "agreed", "changed"])))
            ref = items.next_reference(director_letters.KIND, month)
            items.add({"reference": ref, "month": month, "state": "sent", "subject": "A letter to all staff",
                       "blocks": [{"heading": "Results", "text": "x" * 2000}], "history": [],
                       "waiting_since": f"{month}-20T09:00:00+00:00", "drafted_at": f"{month}-20T09:00:00+00:00"})
            _ledger(store, ledger_rows, month, count, rnd)


def _ledger(store: Store, rows: dict, month: str, count: int, rnd: random.Random) -> None:
    """A ledger the size a month of `count` allocations leaves: ~5 letters, ~4 done marks, ~1.3 messages each."""
    sizes = {"sent": count * 5, "done": count * 4, "handled": int(count * 1.3), "attempts": int(count * 1.3),
             "answers": count, "triage": 6}
    for table, size in sizes.items():
        template = rows[table]
        records = []
        for n in range(size):
            unique = f"{rnd.getrandbits(64):016x}"
            row = _clone(template[n % len(template)], month)
            for key in ("key", "message_id"):
                if key in row:
                    row[key] = f"<{month.replace('-', '')}01083000.{unique}.qa@wexcombe.example>" \
                        if table == "sent" else f"{row[key]}:{unique}"
            records.append(row)
        store.table(ledger_file(month), table).insert_multiple(records)
    store.table(ledger_file(month), "done").insert({"key": "qa-report", "at": f"{month}-28T09:00:00+00:00"})


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
    the parent's memory at the fork.
    """
    with tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _PEAK_AT_EXIT.format(out=peak.name, root=str(ROOT)),
                               "--config", str(config_path), "--now", now.isoformat(), *args],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
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
        for key, day, note in (("idle", "10", "November still in play"), ("idle_later", "28", f"only {MONTH} in play")):
            print(f"a pass with nothing to do, {MONTH}-{day}, {note}: at the daemon (service kept) "
                  f"{e[key + '_daemon'] * 1000:.0f} ms empty, {h[key + '_daemon'] * 1000:.0f} ms with history "
                  f"({h[key + '_daemon'] / e[key + '_daemon']:.2f}x, goal < 1.3x); opened afresh as `once` does "
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
