"""A month of mixed mail for the crash harness, the same bytes and receipt times for every run.

Stories (an exemption request and its decisions, a slippage notice and the QA team's answer) and
filler (submissions in every client shape, unclear mail, outsiders, out-of-office replies, bounces,
malformed messages, duplicates of one Message-ID) are laid on one timeline, sorted, and only then
given their EXM/SLP references, which the service hands out in order of receipt. Decisions name
their request in the subject, as a reply from a phone that dropped the threading headers does.
Forged decisions are marked, so the harness can prove none of them took effect.
"""
import csv
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path
from typing import Callable

from app import demo_mail as shapes
from mix_shapes import decision_mail, fresh_id, from_sample, new_id, read_sample, set_headers, with_from

ROOT = Path(__file__).parents[2]
MAILBOX = "qa-audits@wexcombe.example"
ATTACKER = "attacker@evil.example"
START = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)
SPAN_SECONDS = 15 * 24 * 3600          # receipts from 2 to 17 December
NOW = "2026-12-18T12:00"               # the fixed clock of every run: reminders and chases are due
GRADES = ["Outstanding", "Good", "Requires improvement", "Inadequate", "RI", "good", "Excellent"]
REPLY_SHAPES = [shapes.outlook_reply, shapes.gmail_reply, shapes.apple_reply, shapes.outlook_mobile_reply]
SAMPLE_SUBMISSIONS = ["outlook_desktop_submission.eml", "outlook_web_submission.eml", "gmail_submission.eml",
                      "apple_mail_submission.eml", "outlook_mobile_reply.eml", "html_only.eml",
                      "windows_1252.eml", "with_attachment.eml", "no_message_id.eml"]
# Approver, intent -> a sample decision from tests/data written by that person with that meaning.
SAMPLE_DECISIONS = {("marcus", "yes"): ["decision_outlook_web_support.eml", "decision_thunderbird_interleaved.eml"],
                    ("marcus", "no"): ["decision_gmail_cant_support.eml"],
                    ("fiona", "yes"): ["decision_corporate_signature_support.eml"],
                    ("fiona", "no"): ["decision_outlook_ios_declined.eml"],
                    ("imogen", "yes"): ["decision_outlook_desktop_approved.eml", "decision_apple_mail_iphone_yes.eml"],
                    ("imogen", "unclear"): ["decision_outlook_android_question.eml"],
                    ("priya", "yes"): ["decision_capacity_outlook_yes.eml"]}
FORGERIES = {
    "encoded display name": lambda who: [f"=?utf-8?q?{who.replace('@', '=40')}=0A?= <{ATTACKER}>"],
    "address as display name": lambda who: [f"{who} <{ATTACKER}>"],
    "two From headers": lambda who: [f"<{who}>", f"<{ATTACKER}>"],
    "two addresses": lambda who: [f"Someone <{who}> <{ATTACKER}>"],
}
AUTH_FAILURES = ["Authentication-Results: mx.wexcombe.example; spf=fail; dkim=none; dmarc=fail header.from=wexcombe.example",
                 "Authentication-Results: mx.wexcombe.example; spf=pass; dkim=pass; dmarc=temperror",
                 "Authentication-Results: mx.wexcombe.example; spf=pass; compauth=fail reason=601",
                 "X-MS-Exchange-Organization-AuthAs: Anonymous"]


@dataclass
class Mail:
    """One message of the mix: its file name in the Maildir, bytes, receipt time and what it is."""

    name: str
    raw: bytes
    at: datetime
    label: str
    forged: bool = False


@dataclass
class _Event:
    at: int                                   # seconds after START
    label: str
    render: Callable[[dict, datetime], bytes]
    opens: tuple[str, str] | None = None      # ("EXM"|"SLP", story id): hands out the next reference
    forged: bool = False
    order: int = field(default=0)


def roster() -> dict[str, dict]:
    """The sample roster, by first name in lower case."""
    with open(ROOT / "app" / "sample" / "roster.csv", encoding="utf-8") as handle:
        return {row["email"].split(".")[0]: row for row in csv.DictReader(handle)}


def allocations_csv(people: dict[str, dict], per_auditor: int = 3) -> str:
    """Every auditor on the roster gets `per_auditor` audits (CR numbers invented)."""
    rows = ["auditor_email,case_ref,audit_type"]
    case = 40100
    for person in people.values():
        for _ in range(per_auditor if "auditor" in person["roles"] else 0):
            case += 1
            rows.append(f"{person['email']},CR-{case},monthly")
    return "\n".join(rows) + "\n"


def build_mix(count: int, letters: dict[str, object], seed: int) -> list[Mail]:
    """`count` messages (duplicates included), sorted by receipt time, answering the allocation `letters` (by address)."""
    mix = _Mix(random.Random(seed), letters)
    mix.stories(max(2, count // 40), max(1, count // 80))
    duplicates = max(1, count // 25)
    while len(mix.events) < count - duplicates:
        mix.filler()
    return mix.render(duplicates)


class _Mix:
    def __init__(self, rng: random.Random, letters: dict[str, object]):
        self.rng, self.letters, self.people = rng, letters, roster()
        self.events: list[_Event] = []
        self.auditors = [p for p in self.people if "auditor" in self.people[p]["roles"]]
        staff = [p for p in self.auditors if "head_of_service" not in self.people[p]["roles"]]
        # Those who warn of slippage submit nothing before their notice, so it always finds outstanding audits.
        self.slipping = staff[-3:]
        self.requesters = staff[:-3]

    def add(self, at, label, render, **kw) -> None:
        self.events.append(_Event(int(at), label, render, **kw))

    def when(self, after: int = 0, within: int = SPAN_SECONDS) -> int:
        return self.rng.randint(after, max(after, min(SPAN_SECONDS, after + within)))

    # -- stories ----------------------------------------------------------------------------
    def stories(self, exemptions: int, slippages: int) -> None:
        for n in range(exemptions):
            self.exemption(f"x{n}")
        for n in range(slippages):
            # An auditor's last notice is followed by their submission; earlier ones come first in the month.
            self.slippage(f"s{n}", self.slipping[n % len(self.slipping)], first=n < len(self.slipping),
                          last=n + len(self.slipping) >= slippages)

    def exemption(self, story: str) -> None:
        rng, requester = self.rng, self.rng.choice(self.requesters)
        hos = self.people[requester]["head_of_service"].split(".")[0]
        start = self.when(within=SPAN_SECONDS // 2)
        reason = rng.choice(["I am giving evidence at a final care proceedings hearing for most of December.",
                             "I have been signed off sick for three weeks after surgery.",
                             "I am leading a multi-agency audit for the safeguarding partnership this month."])
        self.add(start, "exemption request",
                 lambda refs, at: shapes.new_email(self._who(requester), MAILBOX, "Exemption request", at, reason),
                 opens=("EXM", story))
        t = start
        if rng.random() < 0.5:
            t = self.when(t + 60, 86400)
            self.forged_decision(t, story, hos, "Support")
        if rng.random() < 0.2:
            t = self.when(t + 60, 86400)
            self.decision(t, story, requester, "Support - it is needed", "self-decision (refused)")
        if rng.random() < 0.2:
            t = self.when(t + 60, 86400)
            self.decision(t, story, hos, "approve?", "unclear decision")
        step = rng.random()
        decider = "daniel" if hos == "marcus" and rng.random() < 0.3 else hos  # Daniel is Marcus's delegate
        t = self.when(t + 60, 2 * 86400)
        if step < 0.2:
            self.decision(t, story, decider, "I can't support this", "HoS declines", intent="no")
            return
        self.decision(t, story, decider, "Happy to support", "HoS supports", intent="yes")
        if rng.random() < 0.4:
            t = self.when(t + 60, 86400)
            self.forged_decision(t, story, "imogen", "Approved")
        t = self.when(t + 60, 2 * 86400)
        if step < 0.35:
            return  # left waiting on the Director: chased at NOW
        words, intent = ("Reject - see comments", "no") if step < 0.5 else ("Yes, approve", "yes")
        self.decision(t, story, "imogen", words, "Director decides", intent=intent)
        if rng.random() < 0.3:
            self.decision(self.when(t + 60, 86400), story, hos, "Support", "replayed decision")

    def slippage(self, story: str, auditor: str, first: bool, last: bool) -> None:
        start = self.when(0 if first else SPAN_SECONDS // 3, SPAN_SECONDS // 3)
        self.add(start, "slippage notice", lambda refs, at: self._reply(
            auditor, at, "I may not make the deadline: I am in court all week. I expect to finish by 8 January.",
            subject_prefix="Slippage - "), opens=("SLP", story))
        t = start
        if self.rng.random() < 0.5:
            t = self.when(t + 60, 86400)
            self.forged_decision(t, story, "priya", "Yes, by 8 January")
        t = self.when(t + 60, 2 * 86400)
        qa = self.rng.choice(["priya", "tomasz"])
        if self.rng.random() < 0.7:
            self.decision(t, story, qa, "Yes, by 8 January", "QA agrees a date", intent="yes")
        else:
            self.decision(t, story, qa, "Sorry, no capacity this month", "QA says no", intent="no")
        if last:
            self.add(self.when(t + 60, 3 * 86400), "submission after slippage",
                     lambda refs, at: self._reply(auditor, at, "Grade: Good"))

    def decision(self, t: int, story: str, who: str, words: str, label: str, intent: str = "") -> None:
        samples = SAMPLE_DECISIONS.get((who, intent))
        if samples and self.rng.random() < 0.5:
            sample = self.rng.choice(samples)
            self.add(t, label + " (sample)", lambda refs, at: from_sample(sample, refs[story], at))
        else:
            self.add(t, label, lambda refs, at: decision_mail(self._who(who), refs[story], at, words))

    def forged_decision(self, t: int, story: str, who: str, words: str) -> None:
        address = self.people[who]["email"]
        if self.rng.random() < 0.5:
            how = self.rng.choice(list(FORGERIES))
            self.add(t, f"forged: {how}", lambda refs, at: with_from(
                decision_mail(self._who(who), refs[story], at, words), FORGERIES[how](address)), forged=True)
        else:
            header = self.rng.choice(AUTH_FAILURES)
            self.add(t, "forged: " + header.split(":")[0], lambda refs, at: header.encode() + b"\r\n" +
                     decision_mail(self._who(who), refs[story], at, words), forged=True)

    # -- filler ------------------------------------------------------------------------------
    def filler(self) -> None:
        rng, t = self.rng, self.when()
        roll = rng.random()
        who = rng.choice([a for a in self.auditors if a not in self.slipping])
        if roll < 0.40:
            self.add(t, "submission", lambda refs, at: self._submission(who, at))
        elif roll < 0.48:
            sample = rng.choice(SAMPLE_SUBMISSIONS)
            self.add(t, f"sample {sample}", lambda refs, at: self._sample_submission(sample, at))
        elif roll < 0.56:
            self.add(t, "unclear", lambda refs, at: shapes.new_email(
                self._who(who), MAILBOX, "Quick question", at, "Hello, when is the deadline for this month?"))
        elif roll < 0.65:
            n = rng.randint(1, 40)
            self.add(t, "outsider", lambda refs, at: fresh_id(read_sample("outsider.eml"), at) if n < 8 else shapes.new_email(
                f"Pat Doe {n} <pat.doe{n}@mailprovider.example>", MAILBOX, "Question about your audits", at, "How do audits work?"))
        elif roll < 0.76:
            self.add(t, "out of office", lambda refs, at: shapes.out_of_office(
                self._who(who), MAILBOX, self.letters[self.people[who]["email"]], at) if rng.random() < 0.8
                else fresh_id(read_sample("exchange_out_of_office.eml"), at))
        elif roll < 0.86:
            self.add(t, "bounce", lambda refs, at: fresh_id(read_sample("dsn_bounce.eml"), at) if rng.random() < 0.5
                     else shapes.new_email("Mail Delivery System <postmaster@mx.wexcombe.example>", MAILBOX,
                                           "Undeliverable: Your audits for December 2026", at, "Delivery has failed."))
        else:
            junk = rng.choice([read_sample("malformed.eml"), rng.randbytes(rng.randint(1, 400)), b"",
                               b"no header block at all\r\n\r\nGrade: Good\r\n",
                               b"To: qa-audits@wexcombe.example\r\nSubject: no sender\r\n\r\nGrade: Good\r\n",
                               b"From: Undisclosed recipients:;\r\nSubject: [AUD-2026-12-001]\r\n\r\nGood\r\n"])
            self.add(t, "malformed", lambda refs, at: junk)

    def _submission(self, who: str, at: datetime) -> bytes:
        letter = self.letters[self.people[who]["email"]]
        mine = re.findall(r"AUD-2026-12-\d{3}", letter["Subject"])
        picked = self.rng.sample(mine, self.rng.randint(1, len(mine)))
        words = "\n".join(f"{ref} Grade: {self.rng.choice(GRADES)}" for ref in picked)
        if self.rng.random() < 0.15:
            words += "\nRemedial action: yes - the plan has not been reviewed since September"
        return self._reply(who, at, words)

    def _sample_submission(self, sample: str, at: datetime) -> bytes:
        raw = read_sample(sample)
        who = message_from_bytes(raw, policy=policy.default)["From"].addresses[0].addr_spec.split(".")[0]
        letter = self.letters[self.people[who]["email"]]
        ref = re.findall(r"AUD-2026-12-\d{3}", letter["Subject"])[0]
        raw = re.sub(rb"AUD-2026-11-\d{3}", ref.encode(), raw)
        return set_headers(raw, {"Message-ID": new_id(at) if b"Message-I" in raw[:4000] else None,
                                  "In-Reply-To": letter["Message-ID"], "References": letter["Message-ID"],
                                  "X-Mix-Received": at.isoformat()})

    def _reply(self, who: str, at: datetime, words: str, subject_prefix: str = "") -> bytes:
        raw = self.rng.choice(REPLY_SHAPES)(self._who(who), MAILBOX, self.letters[self.people[who]["email"]], at, words)
        return raw.replace(b"Subject: ", f"Subject: {subject_prefix}".encode(), 1) if subject_prefix else raw

    def _who(self, first: str) -> str:
        person = self.people[first]
        return f"{person['name']} <{person['email']}>"

    # -- the timeline ------------------------------------------------------------------------
    def render(self, duplicates: int) -> list[Mail]:
        for order, event in enumerate(self.events):
            event.order = order
        self.events.sort(key=lambda e: (e.at, e.order))
        refs, counters, seen, mails = {}, {"EXM": 0, "SLP": 0}, set(), []
        for event in self.events:
            at = event.at
            while at in seen:  # one receipt time per message, so the order of handling is the order of the mix
                at += 1
            seen.add(at)
            if event.opens:
                kind, story = event.opens
                counters[kind] += 1
                refs[story] = f"{kind}-2026-12-{counters[kind]:03d}"
            when = START + timedelta(seconds=at)
            mails.append(Mail(f"{len(mails):05d}.mix", event.render(refs, when), when, event.label, event.forged))
        for n, original in enumerate(self.rng.sample([m for m in mails if m.label != "malformed"], duplicates)):
            later = original.at + timedelta(seconds=self.rng.randint(1, 3600))
            mails.append(Mail(f"{len(mails):05d}.mix-dup", original.raw, later, "duplicate " + original.label,
                              original.forged))
        # Two file names that are not valid UTF-8 (a careless copy from another system does that).
        for mail in self.rng.sample(mails, 2):
            mail.name = mail.name + ".\udcff\udcfe"
        return sorted(mails, key=lambda m: (m.at, m.name))
