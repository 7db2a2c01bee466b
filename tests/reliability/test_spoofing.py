"""Forged decisions take no effect, at every step where a reply decides something.

An attacker outside the council can write any header they like; the receiving server adds
Authentication-Results on top. Each step below is brought to the point where one reply would
decide it (a Head of Service's support, the Director's approval, the QA team agreeing a slippage
date); then every attack in ATTACKS arrives in the same pass, and we count the forged decisions
that took effect: it must be 0. A genuine reply afterwards still decides, so the step was live.
"""
import base64
import re

import pytest

from app.demo_mail import gmail_reply, new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, utc
from db.months import MonthRepo
from db.items import ItemRepo
from workflows.approvals import DECISIONS

ATTACKER = "attacker@evil.example"
FAIL = "Authentication-Results: mx.wexcombe.example; spf=fail smtp.mailfrom=evil.example; dkim=none; dmarc=fail"
PASS = "Authentication-Results: mx.wexcombe.example; spf=pass; dkim=pass; dmarc=pass"


def set_from(raw: bytes, *values: str) -> bytes:
    """The message with its From header replaced by the given value(s)."""
    headers = b"".join(b"From: " + v.encode() + b"\r\n" for v in values)
    return re.sub(rb"(?m)^From: .*\r?\n(?:[ \t].*\r?\n)*", lambda _: headers, raw, count=1)


def on_top(raw: bytes, *lines: str) -> bytes:
    """Headers the receiving server put above everything else."""
    return "".join(f"{line}\r\n" for line in lines).encode() + raw


def below(raw: bytes, *lines: str) -> bytes:
    """Headers the sender wrote, among their own (after From)."""
    return re.sub(rb"(?m)^(From: .*\r?\n)", lambda m: m.group(1) + "".join(f"{l}\r\n" for l in lines).encode(), raw, count=1)


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# Each attack: (genuine reply from the approver `who`, their address) -> forged bytes.
ATTACKS = {
    "encoded display name with a line break": lambda r, w: set_from(r, f"=?utf-8?q?{w.replace('@', '=40')}=0A?= <{ATTACKER}>"),
    "address as display name": lambda r, w: set_from(r, f"{w} <{ATTACKER}>"),
    "quoted address as display name": lambda r, w: set_from(r, f'"{w}" <{ATTACKER}>'),
    "base64 encoded address as display name": lambda r, w: set_from(r, f"=?utf-8?b?{b64(w)}?= <{ATTACKER}>"),
    "name and brackets inside quotes": lambda r, w: set_from(r, f'"Approver <{w}>" <{ATTACKER}>'),
    "address in a comment": lambda r, w: set_from(r, f"{ATTACKER} ({w})"),
    "uppercase address in the name": lambda r, w: set_from(r, f"{w.upper()} <{ATTACKER}>"),
    "two From headers, approver first": lambda r, w: set_from(r, f"<{w}>", f"<{ATTACKER}>"),
    "two From headers, attacker first": lambda r, w: set_from(r, f"<{ATTACKER}>", f"<{w}>"),
    "two addresses in one From": lambda r, w: set_from(r, f"{w}, {ATTACKER}"),
    "Name <a> <b>": lambda r, w: set_from(r, f"Approver <{w}> <{ATTACKER}>"),
    "a group holding the approver": lambda r, w: set_from(r, f"Approvers: {w};, <{ATTACKER}>"),
    "folded continuation hiding a second address": lambda r, w: set_from(r, f"<{ATTACKER}>\r\n\t<{w}>"),
    "source route through the council": lambda r, w: set_from(r, f"<@{w.split('@')[1]}:{ATTACKER}>"),
    "approver as a subdomain of the attacker": lambda r, w: set_from(r, f"<{w}.evil.example>"),
    "approver address with a second @": lambda r, w: set_from(r, f"<{w}@evil.example>"),
    "percent hack": lambda r, w: set_from(r, f"<{w.replace('@', '%')}@evil.example>"),
    "quoted local part holding the address": lambda r, w: set_from(r, f'<"{w}"@evil.example>'),
    "lookalike unicode domain (Cyrillic a)": lambda r, w: set_from(r, "<" + w.replace("example", "ex\u0430mple") + ">"),
    "lookalike domain rn for m": lambda r, w: set_from(r, f"<{w.replace('wexcombe', 'wexcornbe')}>"),
    "punycode lookalike": lambda r, w: set_from(r, f"<{w.split('@')[0]}@xn--wexcombe-9cf.example>"),
    "encoded word as the address": lambda r, w: set_from(r, f"<=?utf-8?q?{w.replace('@', '=40')}?=>"),
    "trailing dot": lambda r, w: on_top(set_from(r, f"<{w}.>"), FAIL),
    "Sender header is the approver": lambda r, w: below(set_from(r, f"<{ATTACKER}>"), f"Sender: {w}"),
    "Reply-To is the approver": lambda r, w: below(set_from(r, f"<{ATTACKER}>"), f"Reply-To: {w}"),
    "Return-Path is the approver": lambda r, w: on_top(set_from(r, f"<{ATTACKER}>"), f"Return-Path: <{w}>"),
    "Resent-From is the approver": lambda r, w: below(set_from(r, f"<{ATTACKER}>"), f"Resent-From: {w}"),
    "X-Original-From is the approver": lambda r, w: below(set_from(r, f"<{ATTACKER}>"), f"X-Original-From: {w}"),
    "the approver's address, DMARC failed": lambda r, w: on_top(r, FAIL),
    "uppercase approver address, DMARC failed": lambda r, w: on_top(set_from(r, f"<{w.upper()}>"), FAIL),
    "approver address with a comment, DMARC failed": lambda r, w: on_top(set_from(r, f"Approver (boss) <{w}>"), FAIL),
    "DMARC failed on top, a forged pass below": lambda r, w: on_top(below(r, PASS), FAIL),
    "DMARC failed on top, a pass in a comment": lambda r, w: on_top(r, FAIL.replace("dmarc=fail", "dmarc=fail (dmarc=pass)")),
    "DMARC temperror": lambda r, w: on_top(r, "Authentication-Results: mx.wexcombe.example; dmarc=temperror"),
    "SPF permerror": lambda r, w: on_top(r, "Authentication-Results: mx.wexcombe.example; spf=permerror; dmarc=none"),
    "Exchange compauth failed": lambda r, w: on_top(r, "Authentication-Results: mx.wexcombe.example; compauth=fail reason=000"),
    "Exchange says anonymous, a forged internal below": lambda r, w: on_top(
        below(r, "X-MS-Exchange-Organization-AuthAs: Internal"), "X-MS-Exchange-Organization-AuthAs: Anonymous"),
    "a forged pass result from the attacker's own address": lambda r, w: below(set_from(r, f"{w} <{ATTACKER}>"), PASS),
    "uppercase result names": lambda r, w: on_top(r, "Authentication-Results: MX.WEXCOMBE.EXAMPLE; DMARC=FAIL"),
    "the mailbox's own address": lambda r, w: set_from(r, f"QA Audits <{MAILBOX}>"),
    "a colleague on the roster replying to the approver's letter": lambda r, w: set_from(r, "Ben Hartley <ben.hartley@wexcombe.example>"),
    "an outsider replying to the approver's letter": lambda r, w: set_from(r, f"Pat Doe <{ATTACKER}>"),
}


def state(site, reference: str) -> dict:
    ctx = site.open(utc(2027, 1, 1), read_only=True)
    try:
        return ItemRepo(ctx.store).get(reference)
    finally:
        ctx.close()


def attack(site, reference: str, who: str, letter, words: str, at, extra: dict | None = None) -> dict[str, str]:
    """Every attack on one step in one pass; returns attack name -> the Message-ID it carried."""
    sent = {}
    for n, (name, forge) in enumerate({**ATTACKS, **(extra or {})}.items()):
        genuine = outlook_reply(f"Approver <{who}>", MAILBOX, letter, at, words)
        raw = forge(genuine, who)
        sent[name] = re.search(rb"(?im)^Message-ID: <([^>]+)>", raw).group(1).decode()
        site.receive(raw, at=at.replace(second=n % 60))
    site.once(at.replace(minute=59))
    return sent


def took_effect(site, reference: str, sent: dict[str, str]) -> list[str]:
    """The attacks whose Message-ID is on a decision in the request's history."""
    by_id = {mid: name for name, mid in sent.items()}
    return [by_id[e["message_id"].strip("<>")] for e in state(site, reference)["history"]
            if e["action"] in DECISIONS and e["message_id"].strip("<>") in by_id]


def nothing_lost(site) -> bool:
    return site.files("inbox") == []


REQUEST = "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n" \
          "ben.hartley@wexcombe.example,CR-40133,monthly\nfiona.blackwood@wexcombe.example,CR-40150,monthly\n"


def ask_exemption(site, sender: str, at, words="I am giving evidence at a final hearing all month.") -> None:
    site.receive(new_email(sender, MAILBOX, "Exemption request", at, words), at=at)
    site.once(at)


def reply(site, who: str, subject_part: str, words: str, at, shape=outlook_reply) -> bytes:
    letter = letters_to(site, who.split("<")[1].rstrip(">"), subject_part)[-1]
    raw = shape(who, MAILBOX, letter, at, words)
    site.receive(raw, at=at)
    site.once(at)
    return raw


MARCUS, DIRECTOR = "Marcus Ellery <marcus.ellery@wexcombe.example>", "Imogen Thackeray <imogen.thackeray@wexcombe.example>"


def test_no_forged_support_from_a_head_of_service_takes_effect(site):
    issue(site, "2026-12", REQUEST, utc(2026, 12, 1, 8, 30))
    ask_exemption(site, "Aisha Patel <aisha.patel@wexcombe.example>", utc(2026, 12, 2, 9, 0))
    letter = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    sent = attack(site, "EXM-2026-12-001", "marcus.ellery@wexcombe.example", letter, "Support", utc(2026, 12, 2, 11, 0))
    assert took_effect(site, "EXM-2026-12-001", sent) == []
    assert state(site, "EXM-2026-12-001")["state"] == "awaiting_hos" and nothing_lost(site)
    assert letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject") == []
    reply(site, MARCUS, "Support or Decline", "Support", utc(2026, 12, 3, 9, 0))
    assert state(site, "EXM-2026-12-001")["state"] == "awaiting_director"  # the step was live all along


def test_no_forged_or_replayed_approval_from_the_director_takes_effect(site):
    issue(site, "2026-12", REQUEST, utc(2026, 12, 1, 8, 30))
    # EXM-001 is approved for real; its approval is what an attacker replays against EXM-002.
    ask_exemption(site, "Aisha Patel <aisha.patel@wexcombe.example>", utc(2026, 12, 2, 9, 0))
    reply(site, MARCUS, "Support or Decline", "Support", utc(2026, 12, 2, 10, 0))
    old = reply(site, DIRECTOR, "Approve or Reject", "Approved", utc(2026, 12, 2, 11, 0))
    ask_exemption(site, "Ben Hartley <ben.hartley@wexcombe.example>", utc(2026, 12, 3, 9, 0))
    hos_support = reply(site, MARCUS, "EXM-2026-12-002", "Support", utc(2026, 12, 3, 10, 0))
    assert state(site, "EXM-2026-12-002")["state"] == "awaiting_director"
    retarget = lambda raw: raw.replace(b"EXM-2026-12-001", b"EXM-2026-12-002")  # noqa: E731
    replays = {
        "the old approval, byte for byte": lambda r, w: old,
        "the old approval re-aimed by subject, threading kept": lambda r, w: _new_id(retarget(old)),
        "the old approval re-aimed, threading cut, DKIM broken": lambda r, w: on_top(_new_id(_unthread(retarget(old))), FAIL),
        "the Head of Service's support replayed at the Director's step": lambda r, w: _new_id(hos_support),
        "the Head of Service approving the Director's step": lambda r, w: set_from(r, MARCUS),
    }
    letter = letters_to(site, "imogen.thackeray@wexcombe.example", "EXM-2026-12-002")[-1]
    sent = attack(site, "EXM-2026-12-002", "imogen.thackeray@wexcombe.example", letter, "Approved",
                  utc(2026, 12, 3, 11, 0), extra=replays)
    assert took_effect(site, "EXM-2026-12-002", sent) == []
    assert state(site, "EXM-2026-12-002")["state"] == "awaiting_director" and nothing_lost(site)
    assert not _exempt(site, "ben.hartley@wexcombe.example")
    reply(site, DIRECTOR, "EXM-2026-12-002", "Approved", utc(2026, 12, 4, 9, 0))
    assert _exempt(site, "ben.hartley@wexcombe.example")


def test_no_forged_agreement_to_a_slippage_date_takes_effect(site):
    issue(site, "2026-12", REQUEST, utc(2026, 12, 1, 8, 30))
    [allocation] = letters_to(site, "ben.hartley@wexcombe.example", "Your audits")
    raw = outlook_reply("Ben Hartley <ben.hartley@wexcombe.example>", MAILBOX, allocation, utc(2026, 12, 18, 10, 0),
                        "I may not make the deadline: I am in court all week. I expect to finish by 6 January.")
    site.receive(raw.replace(b"Subject: RE: ", b"Subject: Slippage - RE: ", 1), at=utc(2026, 12, 18, 10, 0))
    site.once(utc(2026, 12, 18, 10, 0))
    letter = letters_to(site, "priya.ramsden@wexcombe.example", "accommodate")[-1]
    own = {"the auditor agreeing their own slippage": lambda r, w: set_from(r, "Ben Hartley <ben.hartley@wexcombe.example>")}
    sent = attack(site, "SLP-2026-12-001", "priya.ramsden@wexcombe.example", letter, "Yes, by 7 January",
                  utc(2026, 12, 18, 11, 0), extra=own)
    record = state(site, "SLP-2026-12-001")
    assert took_effect(site, "SLP-2026-12-001", sent) == []
    assert (record["state"], record["agreed_until"]) == ("awaiting_qa", None) and nothing_lost(site)
    assert letters_to(site, "ben.hartley@wexcombe.example", "Slippage agreed") == []
    reply(site, "Priya Ramsden <priya.ramsden@wexcombe.example>", "accommodate", "Yes, by 7 January",
          utc(2026, 12, 19, 9, 0), shape=gmail_reply)
    assert state(site, "SLP-2026-12-001")["state"] == "agreed"


@pytest.mark.parametrize("requester, decider", [
    # Fiona is a Head of Service whose own Head is the Director, and the Director's delegate.
    ("Fiona Blackwood <fiona.blackwood@wexcombe.example>", "Fiona Blackwood <fiona.blackwood@wexcombe.example>"),
    # Marcus asks for himself; his request goes to the Director, and he answers it.
    ("Marcus Ellery <marcus.ellery@wexcombe.example>", MARCUS),
])
def test_nobody_decides_their_own_request(site, requester, decider):
    issue(site, "2026-12", REQUEST, utc(2026, 12, 1, 8, 30))
    ask_exemption(site, requester, utc(2026, 12, 2, 9, 0), words="I am leading a multi-agency audit this month.")
    assert state(site, "EXM-2026-12-001")["state"] == "awaiting_director"
    letter = [m for m in site.sent() if "EXM-2026-12-001" in m["Subject"]][-1]
    raw = outlook_reply(decider, MAILBOX, letter, utc(2026, 12, 2, 10, 0), "Approved")
    site.receive(raw, at=utc(2026, 12, 2, 10, 0))
    site.once(utc(2026, 12, 2, 10, 0))
    record = state(site, "EXM-2026-12-001")
    assert record["state"] == "awaiting_director"
    assert [e["action"] for e in record["history"]] == ["requested", "refused"]


def _exempt(site, auditor: str) -> bool:
    ctx = site.open(utc(2027, 1, 1), read_only=True)
    try:
        return any(a["exempt"] for a in MonthRepo(ctx.store, "2026-12").allocations() if a["auditor"] == auditor)
    finally:
        ctx.close()


def _new_id(raw: bytes) -> bytes:
    import secrets

    return re.sub(rb"(?im)^Message-ID: <[^>]+>", f"Message-ID: <{secrets.token_hex(8)}@mail.wexcombe.example>".encode(),
                  raw, count=1)


def _unthread(raw: bytes) -> bytes:
    return re.sub(rb"(?im)^(In-Reply-To|References): .*\r?\n", b"", raw)
