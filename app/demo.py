"""`demo [DIR]`: a fictional council plays December 2026 through the real daemon on the embedded mailbox.

Every step delivers mail into the Maildir inbox with its receipt time and runs one real pass with
the clock fixed at that instant, exactly as `--now … once` would; the narration is read back from
what the service actually sent.
"""
import email
import shutil
from dataclasses import dataclass
from datetime import datetime
from email import policy
from pathlib import Path
from typing import Callable

from app import commands, demo_mail as mail
from app.daemon import one_pass
from app.context import open_context
from app.status import month_status
from core.clock import LONDON, Clock
from core.config import load_config
from core.errors import AuditMailError
from inbox.maildir import deliver
from workflows.audits import audits_in
from workflows.registry import references_in

MONTH = "2026-12"
MARKER = ".auditmail-demo"
QA = "qa-audits@wexcombe.example"


def london(text: str) -> datetime:
    """A London wall-clock time in the demo's month."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


@dataclass(frozen=True)
class Step:
    """One moment of the demo month: who writes what, in which mail client, answering which letter."""

    when: str
    what: str
    sender: str = ""                 # "" for a moment when only the clock moves
    shape: Callable | None = None    # a builder from demo_mail
    words: str = ""
    reply_to: str = "Your audits"    # the subject of the newest letter to the sender being answered
    subject: str = ""                # for a new email (shape=new_email)


AISHA, OWEN = "Aisha Patel <aisha.patel@wexcombe.example>", "Owen Tranter <owen.tranter@wexcombe.example>"
BEN, HANNAH = "Ben Hartley <ben.hartley@wexcombe.example>", "Hannah Brightwell <hannah.brightwell@wexcombe.example>"
SIOBHAN, MARCUS = "Siobhan Reilly <siobhan.reilly@wexcombe.example>", "Marcus Ellery <marcus.ellery@wexcombe.example>"
DIRECTOR, PRIYA = "Imogen Thackeray <imogen.thackeray@wexcombe.example>", "Priya Ramsden <priya.ramsden@wexcombe.example>"
TARIQ, LAURA = "Tariq Mahmood <tariq.mahmood@wexcombe.example>", "Laura Penrose <laura.penrose@wexcombe.example>"

STORY: list[Step] = [
    Step("2026-12-02T09:15", "Siobhan asks for an exemption: she is giving evidence at a final hearing", SIOBHAN,
         mail.new_email, "I am giving evidence at a final care proceedings hearing for most of December.",
         subject="Exemption request"),
    Step("2026-12-02T11:40", "Marcus, her Head of Service, supports it from Outlook", MARCUS, mail.outlook_reply,
         "Support - the hearing is listed for three weeks.", reply_to="Support or Decline"),
    Step("2026-12-02T19:05", "the Director approves it from her iPhone", DIRECTOR, mail.apple_reply, "Yes, approve",
         reply_to="Approve or Reject"),
    Step("2026-12-03T10:12", "Aisha replies from Outlook", AISHA, mail.outlook_reply, "Grade: Good"),
    Step("2026-12-04T14:40", "Owen replies from Gmail", OWEN, mail.gmail_reply, "requires improvement to be good"),
    Step("2026-12-07T11:05", "Hannah replies from her iPhone, raising remedial action", HANNAH, mail.apple_reply,
         "Grade: Inadequate\nRemedial action: yes - the plan has not been reviewed since September"),
    Step("2026-12-08T16:20", "Ben replies with a grade that does not exist", BEN, mail.outlook_reply, "Grade: Excellent"),
    Step("2026-12-09T09:10", "Ben corrects it", BEN, mail.outlook_reply, "Sorry, typo - Grade: Outstanding"),
    Step("2026-12-10T13:00", "someone outside the council writes in", "Pat Doe <pat.doe@mailprovider.example>",
         mail.new_email, "Could you tell me how your audits work?", subject="Question about your audits"),
    Step("2026-12-15T09:00", "the 10-working-day reminders fall due"),
    Step("2026-12-15T09:02", "Chloe's out-of-office answers her reminder", "Chloe Dunmore <chloe.dunmore@wexcombe.example>",
         mail.out_of_office, reply_to="Reminder"),
    Step("2026-12-17T16:30", "Tariq warns of slippage", TARIQ, mail.outlook_reply,
         "I may not make the deadline: two of my families are in crisis this week. I expect to finish by 8 January.",
         subject="Slippage"),
    Step("2026-12-18T10:05", "the QA team finds capacity", PRIYA, mail.gmail_reply, "Yes, by 8 January",
         reply_to="accommodate"),
    Step("2026-12-22T09:00", "the 5-working-day reminders fall due (Christmas and the Boxing Day substitute are skipped)"),
    Step("2026-12-23T17:45", "Laura submits two audits from Outlook on her phone", LAURA, mail.outlook_mobile_reply,
         "{0} Good\n{1} Requires improvement"),
    Step("2026-12-31T09:00", "the last-day reminders fall due"),
    Step("2026-12-31T23:59", "Neil submits at 23:59 on the last day", "Neil Ashdown <neil.ashdown@wexcombe.example>",
         mail.outlook_reply, "Grade: Good"),
    Step("2027-01-01T00:01", "Yvonne submits a minute after midnight", "Yvonne Carr <yvonne.carr@wexcombe.example>",
         mail.gmail_reply, "Grade: Good"),
    Step("2027-01-04T09:00", "the first working day after the deadline: not-counted notices and Heads of Service's lists"),
    Step("2027-01-06T15:20", "Tariq submits within his agreed date", TARIQ, mail.outlook_reply, "Grade: Good"),
]


# The moment the closing status is shown: `status` run later needs it as --now to show the same
# (the demo plays a month on its own clock, not the machine's).
SHOWN_AT = "2027-01-06T16:00"


def run_demo(folder: Path, say: Callable[[str], None]) -> Path:
    """Make the sample council in `folder`, play the month, and narrate; returns the sent/ folder."""
    folder = _fresh(Path(folder))
    commands.init(folder)
    config = load_config(folder / "config.toml")
    sent_before: set[str] = set()

    def step(when: datetime, action: Callable | None = None) -> None:
        ctx = open_context(config, Clock(when))
        try:
            if action:
                action(ctx)
            one_pass(ctx)
        finally:
            ctx.close()
        _narrate(list(_sent(folder, sent_before)), say)

    issue_at = london("2026-12-01T08:30")
    say(f"{_when(issue_at)}  the QA team issues December's audits")
    step(issue_at, lambda s: commands.issue(s, MONTH, folder / "allocations.csv"))
    for step_ in STORY:
        when = london(step_.when)
        say(f"{_when(when)}  {step_.what}")
        if step_.sender:
            deliver(folder / "mailbox" / "inbox", _email(folder, step_, when), received_at=when)
        step(when)
    say("")
    with _reader(config, london(SHOWN_AT)) as ctx:
        say(month_status(ctx, MONTH))
    return folder / "mailbox" / "sent"


def _email(folder: Path, step: Step, when: datetime) -> bytes:
    if step.shape is mail.new_email:
        return mail.new_email(step.sender, QA, step.subject, when, step.words)
    letter = _letter_to(folder, step.sender.split("<")[1].rstrip(">"), step.reply_to)
    if step.shape is mail.out_of_office:
        return mail.out_of_office(step.sender, QA, letter, when)
    refs = audits_in(references_in(letter["Subject"]))
    raw = step.shape(step.sender, QA, letter, when, step.words.format(*refs))
    if step.subject:
        raw = raw.replace(b"Subject: ", f"Subject: {step.subject} - ".encode(), 1)
    return raw


def _letter_to(folder: Path, address: str, subject_part: str):
    for path in sorted((folder / "mailbox" / "sent" / "new").iterdir(), reverse=True):
        letter = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in letter["To"] and subject_part in letter["Subject"]:
            return letter
    raise AuditMailError(f"demo: no letter to {address} with {subject_part!r}")


def _sent(folder: Path, seen: set[str]):
    for path in sorted((folder / "mailbox" / "sent" / "new").iterdir()):
        if path.name not in seen:
            seen.add(path.name)
            yield email.message_from_bytes(path.read_bytes(), policy=policy.default)


def _narrate(letters: list, say: Callable[[str], None]) -> None:
    """One line per letter; a batch of the same kind (reminders, notices) as one line with a count."""
    kinds: dict[str, list] = {}
    for letter in letters:
        kind = letter["Subject"].split("] ")[-1] if "] " in letter["Subject"] else letter["Subject"]
        kinds.setdefault(kind.split(":")[0], []).append(letter)
    for kind, batch in kinds.items():
        if len(batch) > 3:
            names = ", ".join(sorted(letter["To"].split("@")[0] for letter in batch))
            say(f"{'':18}-> {len(batch)} x '{kind}' ({names})")
            continue
        for letter in batch:
            say(f"{'':18}-> {letter['To']}: {letter['Subject']}")


def _fresh(folder: Path) -> Path:
    # A folder the demo made before is replaced; anything else is never touched.
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise AuditMailError(f"{folder} exists and is not a demo folder; choose another folder for the demo")
        shutil.rmtree(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MARKER).write_text("made by `auditmail demo`; safe to delete\n", encoding="utf-8")
    return folder


def _when(instant: datetime) -> str:
    return instant.astimezone(LONDON).strftime("%a %d %b %H:%M")


class _reader:
    """The service opened read-only for the final status, closed afterwards."""

    def __init__(self, config, now):
        self._service = open_context(config, Clock(now), read_only=True)

    def __enter__(self):
        return self._service

    def __exit__(self, *exc):
        self._service.close()
