"""`demo [DIR]`: a fictional council plays December 2026 through the real daemon on the embedded mailbox.

Every step delivers mail into the Maildir inbox with its receipt time and runs one real pass with
the clock fixed at that instant, exactly as `--now … once` would; the narration is read back from
what the service actually sent.
"""
import email
import shutil
from datetime import datetime
from email import policy
from pathlib import Path
from typing import Callable

from app import commands, demo_mail as mail
from app.daemon import one_pass
from app.service import open_service
from app.status import month_status
from core.clock import LONDON, Clock
from core.config import load_config
from core.errors import AuditMailError
from inbox.maildir import deliver

MONTH = "2026-12"
MARKER = ".auditmail-demo"
QA = "qa-audits@wexcombe.example"


def london(text: str) -> datetime:
    """A London wall-clock time in the demo's month."""
    return datetime.fromisoformat(text).replace(tzinfo=LONDON)


# (when, what happens, who sends, how): the month as the demo plays it.
STORY: list[tuple[str, str, str, Callable | None, str]] = [
    ("2026-12-03T10:12", "Aisha replies from Outlook", "Aisha Patel <aisha.patel@wexcombe.example>", mail.outlook_reply, "Grade: Good"),
    ("2026-12-04T14:40", "Owen replies from Gmail", "Owen Tranter <owen.tranter@wexcombe.example>", mail.gmail_reply, "requires improvement to be good"),
    ("2026-12-07T11:05", "Hannah replies from her iPhone, raising remedial action", "Hannah Brightwell <hannah.brightwell@wexcombe.example>",
     mail.apple_reply, "Grade: Inadequate\nRemedial action: yes - the plan has not been reviewed since September"),
    ("2026-12-08T16:20", "Ben replies with a grade that does not exist", "Ben Hartley <ben.hartley@wexcombe.example>", mail.outlook_reply, "Grade: Excellent"),
    ("2026-12-09T09:10", "Ben corrects it", "Ben Hartley <ben.hartley@wexcombe.example>", mail.outlook_reply, "Sorry, typo - Grade: Outstanding"),
    ("2026-12-10T13:00", "someone outside the council writes in", "Pat Doe <pat.doe@mailprovider.example>", None, "outsider"),
    ("2026-12-15T09:00", "the 10-working-day reminders fall due", "", None, ""),
    ("2026-12-15T09:02", "Chloe's out-of-office answers her reminder", "Chloe Dunmore <chloe.dunmore@wexcombe.example>", None, "ooo"),
    ("2026-12-22T09:00", "the 5-working-day reminders fall due (Christmas and the Boxing Day substitute are skipped)", "", None, ""),
    ("2026-12-23T17:45", "Laura submits two audits from Outlook on her phone", "Laura Penrose <laura.penrose@wexcombe.example>",
     mail.outlook_mobile_reply, "{0} Good\n{1} Requires improvement"),
    ("2026-12-31T09:00", "the last-day reminders fall due", "", None, ""),
    ("2026-12-31T23:59", "Neil submits at 23:59 on the last day", "Neil Ashdown <neil.ashdown@wexcombe.example>", mail.outlook_reply, "Grade: Good"),
    ("2027-01-01T00:01", "Yvonne submits a minute after midnight", "Yvonne Carr <yvonne.carr@wexcombe.example>", mail.gmail_reply, "Grade: Good"),
    ("2027-01-04T09:00", "the first working day after the deadline: not-counted notices and Heads of Service's lists", "", None, ""),
]


def run_demo(folder: Path, say: Callable[[str], None]) -> Path:
    """Make the sample council in `folder`, play the month, and narrate; returns the sent/ folder."""
    folder = _fresh(Path(folder))
    commands.init(folder)
    config = load_config(folder / "config.toml")
    sent_before: set[str] = set()

    def step(when: datetime, action: Callable | None = None) -> None:
        service = open_service(config, Clock(when))
        try:
            if action:
                action(service)
            one_pass(service)
        finally:
            service.close()
        _narrate(list(_sent(folder, sent_before)), say)

    issue_at = london("2026-12-01T08:30")
    say(f"{_when(issue_at)}  the QA team issues December's audits")
    step(issue_at, lambda s: commands.issue(s, MONTH, folder / "allocations.csv"))
    for when_text, what, sender, shape, words in STORY:
        when = london(when_text)
        say(f"{_when(when)}  {what}")
        if sender:
            deliver(folder / "mailbox" / "inbox", _email(folder, sender, shape, words, when), received_at=when)
        step(when)
    say("")
    with _reader(config, london("2027-01-04T09:05")) as service:
        say(month_status(service, MONTH))
    return folder / "mailbox" / "sent"


def _email(folder: Path, sender: str, shape, words: str, when: datetime) -> bytes:
    address = sender.split("<")[1].rstrip(">")
    if words == "outsider":
        return mail.new_email(sender, QA, "Question about your audits", when, "Could you tell me how audits work?")
    letter = _letter_to(folder, address, "Your audits") if words != "ooo" else _letter_to(folder, address, "Reminder")
    if words == "ooo":
        return mail.out_of_office(sender, QA, letter, when)
    refs = [r.strip("[]") for r in letter["Subject"].split() if r.startswith("[AUD-")]
    return shape(sender, QA, letter, when, words.format(*refs))


def _letter_to(folder: Path, address: str, subject_part: str):
    for path in sorted((folder / "mailbox" / "sent" / "new").iterdir(), reverse=True):
        letter = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if letter["To"] == address and subject_part in letter["Subject"]:
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
        self._service = open_service(config, Clock(now), read_only=True)

    def __enter__(self):
        return self._service

    def __exit__(self, *exc):
        self._service.close()
