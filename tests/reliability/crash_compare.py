"""Comparing a run of the daemon that was killed with one that never was: the figures that must be 0.

The store is compared record for record (less what differs by nature: our own Message-IDs, how often
handling was cut off), sent mail by a key that is the same in both runs, and every input message must
be in processed/ or failed/. See crash_harness.py for how the two runs are made.
"""
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.parser import BytesHeaderParser
from pathlib import Path

from mail_mix import Mail
from workflows.approvals import DECISIONS

HEADERS = BytesHeaderParser(policy=policy.compat32)


@dataclass
class Figures:
    """What the harness measured; `problems` lists every way the killed run differs from the clean one."""

    messages: int = 0
    kills: int = 0
    kills_with_mail_waiting: int = 0
    kills_while_handling: int = 0      # the daemon had started and handled or sent something in that life
    lost: int = 0
    handled_twice: int = 0
    sent_twice: int = 0
    letters_missing: int = 0
    resent_same_message_id: int = 0
    forged_decisions: int = 0
    forged_took_effect: int = 0
    daemon_deaths: int = 0
    set_aside_by_kills: int = 0
    tracebacks: int = 0
    letters_sent: int = 0
    outcomes: dict = field(default_factory=dict)
    request_states: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)     # must be empty
    differences: list = field(default_factory=list)  # store and letters: empty unless a message was set aside
    seconds: float = 0.0

    def zeroes(self) -> dict:
        """The figures that must all be 0."""
        return {k: getattr(self, k) for k in ("lost", "handled_twice", "sent_twice", "forged_took_effect",
                                              "daemon_deaths", "tracebacks")}


def maildir_names(site: Path, folder: str) -> list[str]:
    """Message file names in one Maildir (new/ and cur/), without the ':2,' info suffix."""
    base = site / "mailbox" / folder
    return [entry.name.split(":2,")[0] for sub in ("new", "cur") for entry in os.scandir(base / sub)
            if entry.is_file()]


def tables(site: Path, prefix: str) -> dict[str, Counter]:
    """Every table of every store file under `prefix`, as a multiset of canonical records."""
    found = {}
    for path in sorted((site / "data" / prefix).glob("*.json")):
        for table, rows in json.loads(path.read_text()).items():
            found[f"{prefix}/{path.stem}:{table}"] = Counter(json.dumps(row, sort_keys=True) for row in rows.values())
    return found


def store_view(site: Path) -> dict[str, Counter]:
    """What the store recorded, without what differs between runs by nature (our own Message-IDs, attempts)."""
    view = tables(site, "months")
    for name, rows in tables(site, "ledgers").items():
        if name.endswith(":attempts"):
            continue  # how often handling was cut off is what differs; the results must not
        if name.endswith(":sent"):
            rows = Counter(json.dumps({k: v for k, v in json.loads(r).items() if k != "message_id"}, sort_keys=True)
                           for r in rows.elements())
        view[name] = rows
    return view


def letters(site: Path) -> tuple[Counter, dict[str, tuple]]:
    """Sent mail counted by a key that is the same in both runs, and each Message-ID's key."""
    keys, by_id = Counter(), {}
    for sub in ("new", "cur"):
        for path in (site / "mailbox" / "sent" / sub).iterdir():
            msg = HEADERS.parsebytes(path.read_bytes())  # the headers as written: the same bytes in both runs
            key = (str(msg["To"]), str(msg["Cc"] or ""), str(msg["Subject"]), str(msg["In-Reply-To"] or ""))
            keys[key] += 1
            by_id[str(msg["Message-ID"])] = key
    return keys, by_id


def message_id(raw: bytes) -> str | None:
    try:
        value = message_from_bytes(raw, policy=policy.compat32)["Message-ID"]
    except Exception:  # noqa: BLE001 - junk in the mix has no id
        return None
    return str(value).strip().strip("<>") if value else None


def compare(clean: Path, crashed: Path, mix: list[Mail], log_text: str, figures: Figures) -> Figures:
    """Fill in the figures from the two finished runs."""
    names = {m.name for m in mix}
    figures.messages = len(mix)
    done = {run: (set(maildir_names(run, "processed")), set(maildir_names(run, "failed"))) for run in (clean, crashed)}
    for run in (clean, crashed):
        processed, failed = done[run]
        figures.lost += len(names - processed - failed) + len(processed & failed)
        figures.problems += [f"{run.name}: {n!r} is in neither processed/ nor failed/" for n in names - processed - failed]
    interrupted = {t.get("failed") for path in (crashed / "data" / "ledgers").glob("*.json")
                   for t in json.loads(path.read_text()).get("triage", {}).values() if "interrupted" in t.get("note", "")}
    figures.set_aside_by_kills = len(done[crashed][1] - done[clean][1])
    unexplained = (done[crashed][1] ^ done[clean][1]) - interrupted
    figures.problems += [f"filed differently without being set aside by kills: {n!r}" for n in unexplained]
    clean_view, crash_view = store_view(clean), store_view(crashed)
    for name in sorted(set(clean_view) | set(crash_view)):
        only_crash = crash_view.get(name, Counter()) - clean_view.get(name, Counter())
        only_clean = clean_view.get(name, Counter()) - crash_view.get(name, Counter())
        if only_crash or only_clean:
            figures.differences.append(f"store {name}: {sum(only_crash.values())} record(s) only after the kills, "
                                    f"{sum(only_clean.values())} only in the clean run; e.g. "
                                    f"{next(iter(only_crash or only_clean))[:300]}")
    figures.handled_twice = _handled_twice(crashed)
    clean_letters, _ = letters(clean)
    crash_letters, by_id = letters(crashed)
    figures.letters_sent = sum(crash_letters.values())
    figures.sent_twice = sum((crash_letters - clean_letters).values())
    figures.letters_missing = sum((clean_letters - crash_letters).values())
    if figures.letters_missing:
        figures.differences.append(f"{figures.letters_missing} letter(s) of the clean run never sent after the kills, "
                                   f"e.g. {next(iter(clean_letters - crash_letters))}")
    sends = Counter(re.findall(r"sent message_id=(<[^>]+>)", log_text))
    figures.resent_same_message_id = sum(n - 1 for n in sends.values() if n > 1)
    forged_ids = {message_id(m.raw) for m in mix if m.forged} - {None}
    figures.forged_decisions = sum(1 for m in mix if m.forged)
    for run in (clean, crashed):
        for request in _requests(run):
            figures.forged_took_effect += sum(1 for e in request["history"]
                                              if e["action"] in DECISIONS and e["message_id"].strip("<>") in forged_ids)
    figures.tracebacks = log_text.count("Traceback")
    figures.outcomes = dict(Counter(h["outcome"] for path in (clean / "data" / "ledgers").glob("*.json")
                                    for h in json.loads(path.read_text()).get("handled", {}).values()))
    figures.request_states = dict(Counter(f"{r['reference'][:3]} {r['state']}" for r in _requests(clean)))
    return figures


def _requests(site: Path) -> list[dict]:
    rows = []
    for path in (site / "data" / "months").glob("*.json"):
        content = json.loads(path.read_text())
        rows += [r for table in ("exemptions", "slippage") for r in content.get(table, {}).values()]
    return rows


def _handled_twice(site: Path) -> int:
    """Messages marked handled twice, decisions recorded twice, grades recorded twice from one email."""
    twice = 0
    for path in (site / "data" / "ledgers").glob("*.json"):
        ledger = json.loads(path.read_text())
        keys = Counter(h["key"] for h in ledger.get("handled", {}).values())
        # A message set aside is noted once on the QA team's list, however often a kill interrupted it.
        keys.update((t["key"], t["failed"]) for t in ledger.get("triage", {}).values() if "failed" in t)
        twice += sum(n - 1 for n in keys.values() if n > 1)
    for path in (site / "data" / "months").glob("*.json"):
        content = json.loads(path.read_text())
        subs = Counter((s["reference"], s["message_id"], s["received_at"]) for s in content.get("submissions", {}).values())
        twice += sum(n - 1 for n in subs.values() if n > 1)
    events = Counter((r["reference"], e["message_id"], e["action"]) for r in _requests(site) for e in r["history"])
    return twice + sum(n - 1 for n in events.values() if n > 1)
