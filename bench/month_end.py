"""A month-end site for the benchmarks: a council of many auditors, a month issued, and their replies.

bench_service.py plays one auditor with every audit, so each reply quotes a letter listing all of
them and the reply's own size grows with the month. A real month-end is many auditors with a few
audits each, replying to their own letter: that is what is built here (invented people only,
`auditorNNN@wexcombe.example`, in the three sample services under their sample Heads of Service).
"""
import email
import itertools
from datetime import datetime
from email import policy
from pathlib import Path

from app import commands
from app.context import open_context
from app.demo_mail import gmail_reply
from core.clock import Clock
from core.config import load_config

MONTH = "2026-12"
HEADS = {  # the sample roster's services and their Heads of Service (app/sample/roster.csv)
    "Children in Care": "marcus.ellery@wexcombe.example",
    "Safeguarding and Assessment": "fiona.blackwood@wexcombe.example",
    "Early Help and Family Support": "daniel.okafor@wexcombe.example",
}
MAILBOX = "qa-audits@wexcombe.example"


def auditor(n: int) -> str:
    """The address of the n-th invented auditor."""
    return f"auditor{n:03d}@wexcombe.example"


def month_end_site(folder: Path, *, auditors: int = 150, audits: int = 1000, poll_seconds: int | None = None,
                   month: str = MONTH) -> Path:
    """`init` a site, import the sample roster plus `auditors` invented ones, and issue `audits` audits
    of `month` among them in turn (so each has a handful); returns the config file's path."""
    commands.init(folder)
    config_path = folder / "config.toml"
    if poll_seconds is not None:
        text = config_path.read_text(encoding="utf-8")
        config_path.write_text(text.replace("poll_seconds = 2 ", f"poll_seconds = {poll_seconds} ", 1),
                               encoding="utf-8")
    config = load_config(config_path)
    roster = (folder / "roster.csv").read_text(encoding="utf-8").rstrip("\n") + "\n"
    services = itertools.cycle(HEADS.items())
    for n in range(1, auditors + 1):
        service, head = next(services)
        roster += f"{auditor(n)},Auditor {n:03d},auditor,{service},{head}\n"
    (folder / "roster-large.csv").write_text(roster, encoding="utf-8")
    commands.import_roster(config.store_path, folder / "roster-large.csv", mailbox_address=config.mailbox_address,
                           director_email=config.letterhead.email)
    rows = "auditor_email,case_ref,audit_type\n" + "".join(
        f"{auditor(n % auditors + 1)},CR-{50000 + n},monthly\n" for n in range(audits))
    (folder / "allocations-large.csv").write_text(rows, encoding="utf-8")
    ctx = open_context(config, Clock(datetime.fromisoformat(f"{month}-01T08:00+00:00")))
    try:
        commands.issue(ctx, month, folder / "allocations-large.csv")
    finally:
        ctx.close()
    return config_path


def submissions(folder: Path, count: int, when: datetime, *, month: str = MONTH, first: int = 1) -> list[bytes]:
    """`count` replies, each an auditor's grade for one of their audits, answering their own letter
    (Gmail style, quoting it), starting at audit number `first`; in audit order, so auditors interleave."""
    letters = {}
    for path in (folder / "mailbox" / "sent" / "new").iterdir():
        letter = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        letters.setdefault(letter["To"].addresses[0].addr_spec.lower(), letter)
    auditors = len([a for a in letters if a.startswith("auditor")])
    replies = []
    for number in range(first, first + count):
        who = auditor((number - 1) % auditors + 1)
        replies.append(gmail_reply(f"Auditor <{who}>", MAILBOX, letters[who], when,
                                   f"AUD-{month}-{number:03d} Grade: Good"))
    return replies
