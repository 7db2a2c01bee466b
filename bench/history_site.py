"""Sixty settled months of 150 auditors, written straight through the repos, for bench_history.py.

150-300 allocations a month, submissions with grades, exemptions, slippage, moderations, remedial
actions, the Director's letter, and ledgers the size a real month leaves. The rows of every kind are
cloned from the demo's own month, so they have the shapes the service writes.
"""
import json
import random
from pathlib import Path

from app.demo import run_demo
from db.items import ItemRepo
from db.ledger import ledger_file
from db.months import MonthRepo
from db.roster import RosterRepo
from db.store import Store
from workflows import actions, director_letters, exemptions, moderation, slippage

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
