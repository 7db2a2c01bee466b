"""Forged senders decide nothing: the sender is the address in From, never its display name.

An attacker outside the council can put anything in a display name, including an approver's
address or an encoded line break. These stories replay the forgeries found in adversarial testing
at every step where a reply decides something.
"""
import re

import pytest

from app.demo_mail import gmail_reply, outlook_reply
from conftest import MAILBOX, issue, letters_to, new_mail, refused_notes, utc
from db.ledger import Ledger
from db.months import MonthRepo
from db.items import ItemRepo
from workflows import exemptions
from workflows.slippage import KIND as SLIPPAGE
from test_exemptions import DIRECTOR, MARCUS, REF, address, request, state

ATTACKER = "attacker@evil.example"
FORGED_FROM = {
    "an encoded display name hiding a line break": f"=?utf-8?q?{{who}}=0A?= <{ATTACKER}>",
    "an address as the display name": f"{{who}} <{ATTACKER}>",
    "a quoted address as the display name": f'"{{who}}" <{ATTACKER}>',
    "an encoded address as the display name": f"=?utf-8?b?{{b64}}?= <{ATTACKER}>",
}


def with_from(raw: bytes, *from_values: str) -> bytes:
    """The message with its From header replaced by the given header value(s)."""
    headers = b"".join(b"From: " + value.encode() + b"\r\n" for value in from_values)
    return re.sub(rb"(?m)^From: .*\r?\n(?:[ \t].*\r?\n)*", lambda _: headers, raw, count=1)


def forged(template: str, who: str) -> str:
    import base64

    who = who.replace("@", "=40") if "?q?" in template else who
    return template.format(who=who, b64=base64.b64encode(address_of(who).encode()).decode())


def address_of(who: str) -> str:
    return who.replace("=40", "@")


def forged_reply(site, person: str, subject_part: str, words: str, at, template: str, shape=outlook_reply) -> None:
    """Someone else answers `person`'s newest letter in their name, with From forged by `template`."""
    letter = letters_to(site, address(person), subject_part)[-1]
    raw = with_from(shape(person, MAILBOX, letter, at, words), forged(template, address(person)))
    site.receive(raw, at=at)
    site.once(at)


def triage(site, month="2026-12") -> list[str]:
    ctx = site.open(utc(2027, 1, 5), read_only=True)
    try:
        return [t["note"] for t in Ledger(ctx.store).triage(month)]
    finally:
        ctx.close()


@pytest.mark.parametrize("how", FORGED_FROM)
def test_a_forged_head_of_service_support_changes_nothing(site, how):
    request(site, utc(2026, 12, 2, 9, 0))
    forged_reply(site, MARCUS, "Support or Decline", "Support", utc(2026, 12, 2, 11, 0), FORGED_FROM[how])
    assert state(site) == "awaiting_hos", how
    assert letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject") == []
    assert not [m for m in site.sent() if ATTACKER in (m["To"] or "") + (m["Cc"] or "")], "an outsider is never answered"
    assert any(ATTACKER in note for note in triage(site))


@pytest.mark.parametrize("how", FORGED_FROM)
def test_a_forged_director_approval_is_never_applied(site, how):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    site.receive(outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 10, 0), "Support"), at=utc(2026, 12, 2, 10, 0))
    site.once(utc(2026, 12, 2, 10, 0))
    forged_reply(site, DIRECTOR, "Approve or Reject", "Approved", utc(2026, 12, 2, 11, 0), FORGED_FROM[how])
    assert state(site) == "awaiting_director", how
    ctx = site.open(utc(2026, 12, 3), read_only=True)
    try:
        assert not any(a["exempt"] for a in MonthRepo(ctx.store, "2026-12").allocations())
    finally:
        ctx.close()


@pytest.mark.parametrize("how", FORGED_FROM)
def test_a_forged_qa_agreement_to_a_slippage_date_changes_nothing(site, how):
    from test_slippage import BEN, PRIYA, notice

    notice(site, utc(2026, 12, 18, 10, 0))
    forged_reply(site, PRIYA, "accommodate", "Yes, by 7 January", utc(2026, 12, 18, 11, 0), FORGED_FROM[how],
                 shape=gmail_reply)
    ctx = site.open(utc(2026, 12, 19), read_only=True)
    try:
        [slippage] = ItemRepo(ctx.store).all(SLIPPAGE)
    finally:
        ctx.close()
    assert slippage["state"] == "awaiting_qa" and slippage["agreed_until"] is None, how
    assert letters_to(site, address(BEN), "agreed") == []


@pytest.mark.parametrize("from_values", [
    ("Marcus Ellery <marcus.ellery@wexcombe.example>", f"Attacker <{ATTACKER}>"),
    (f"marcus.ellery@wexcombe.example, {ATTACKER}",),
    (f"Marcus Ellery <marcus.ellery@wexcombe.example> <{ATTACKER}>",),
    (f"Marcus Ellery <{ATTACKER}> <marcus.ellery@wexcombe.example>",),
])
def test_a_from_that_names_two_senders_decides_nothing_and_goes_to_triage(site, from_values):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = with_from(outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support"), *from_values)
    sent_before = len(site.sent())
    site.receive(raw, at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos"
    assert len(site.sent()) == sent_before, "nobody is answered about a message whose sender is in doubt"
    assert any("sender cannot be told for certain" in note for note in triage(site))
    assert len(site.files("processed")) >= 2 and site.files("failed") == []


@pytest.mark.parametrize("results, why", [
    ("mx.wexcombe.example; spf=pass; dkim=pass; dmarc=temperror", "could not check"),
    ("mx.wexcombe.example; spf=permerror; dkim=none; dmarc=none", "could not check"),
    ("mx.wexcombe.example; dmarc=permerror (p=none) header.from=wexcombe.example", "could not check"),
    ("mx.wexcombe.example; spf=pass; dkim=none; dmarc=none; compauth=fail reason=601", "authentication check"),
    ("mx.wexcombe.example; spf=pass; dkim=pass; dmarc=FAIL action=none", "DMARC"),
])
def test_an_authentication_result_that_failed_or_could_not_be_made_refuses_the_decision(site, results, why):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = b"Authentication-Results: " + results.encode() + b"\r\n" + \
        outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support")
    site.receive(raw, at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos"
    [report] = refused_notes(site)
    assert report.startswith(REF) and why in report


def test_a_pass_in_a_comment_does_not_hide_a_failure_and_a_comment_cannot_fake_one(site):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = b"Authentication-Results: mx.wexcombe.example; spf=pass (sender said dmarc=fail) smtp.mailfrom=" \
          b"wexcombe.example; dkim=pass; dmarc=pass\r\n" + \
        outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support")
    site.receive(raw, at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_director"


def test_a_real_auditor_whose_display_name_hides_a_line_break_is_still_heard(site):
    issue(site, "2026-12", "auditor_email,case_ref,audit_type\naisha.patel@wexcombe.example,CR-40117,monthly\n",
          utc(2026, 12, 1, 8, 30))
    raw = new_mail(sender="=?utf-8?q?Aisha=0A_Patel?= <Aisha.Patel@wexcombe.example>",
                   subject="[AUD-2026-12-001] audit", body="Grade: Good")
    site.receive(raw, at=utc(2026, 12, 10, 9, 0))
    site.once(utc(2026, 12, 10, 9, 0))
    [allocation_letter, receipt] = letters_to(site, "aisha.patel@wexcombe.example", "AUD-2026-12-001")
    assert "Good" in receipt.get_body(("plain",)).get_content()
    ctx = site.open(utc(2026, 12, 11), read_only=True)
    try:
        [submission] = MonthRepo(ctx.store, "2026-12").submissions("AUD-2026-12-001")
    finally:
        ctx.close()
    assert (submission["from"], submission["counts"]) == ("aisha.patel@wexcombe.example", True)
    assert submission["grade"].lower() == "good"


@pytest.mark.parametrize("value, address, name, doubt", [
    ("Ben Hartley <Ben.Hartley@Wexcombe.example>", "ben.hartley@wexcombe.example", "Ben Hartley", None),
    ('"Ramsden, Priya" <priya.ramsden@wexcombe.example>', "priya.ramsden@wexcombe.example", "Ramsden, Priya", None),
    ("Ramsden, Priya <priya.ramsden@wexcombe.example>", "priya.ramsden@wexcombe.example", "Ramsden, Priya", None),
    ("priya.ramsden@wexcombe.example (Priya Ramsden)", "priya.ramsden@wexcombe.example", "Priya Ramsden", None),
    ("<priya.ramsden@wexcombe.example>", "priya.ramsden@wexcombe.example", "", None),
    ("=?utf-8?q?Ramsden=2C_Priya?= <priya.ramsden@wexcombe.example>", "priya.ramsden@wexcombe.example",
     "Ramsden, Priya", None),
    (f"=?utf-8?q?priya.ramsden=40wexcombe.example=0A?= <{ATTACKER}>", ATTACKER, "priya.ramsden@wexcombe.example", None),
    (f"priya.ramsden@wexcombe.example <{ATTACKER}>", ATTACKER, "", "an address outside its <address>"),
    (f"{ATTACKER} <priya.ramsden@wexcombe.example>", "priya.ramsden@wexcombe.example", "", "outside its <address>"),
    (f"[{ATTACKER}] <priya.ramsden@wexcombe.example>", "priya.ramsden@wexcombe.example", "", "outside its <address>"),
    ("<@relay.evil.example:priya.ramsden@wexcombe.example>", None, "", None),
    ("tomasz.\u212aowal@wexcombe.example", None, "", None),
    (f'"Priya <priya.ramsden@wexcombe.example>" <{ATTACKER}>', ATTACKER, "Priya <priya.ramsden@wexcombe.example>", None),
    (f"Priya <priya.ramsden@wexcombe.example> <{ATTACKER}>", "priya.ramsden@wexcombe.example", "", "more than one"),
    (f"priya.ramsden@wexcombe.example, {ATTACKER}", "priya.ramsden@wexcombe.example", "", "more than one"),
])
def test_the_sender_is_the_address_in_from_and_never_its_display_name(value, address, name, doubt):
    from inbox.sender import read_sender

    sender = read_sender([value])
    if address is None:  # not one plain address: a route, or letters that lower-case into a colleague's
        assert sender is None or sender.doubt
        return
    assert (sender.address, sender.name) == (address, name) if not doubt else sender.address == address
    assert (sender.doubt is None) if doubt is None else (doubt in sender.doubt)


def test_no_address_at_all_is_no_sender():
    from inbox.sender import read_sender

    assert read_sender(["not an address"]) is None and read_sender(["Undisclosed recipients:;"]) is None


OUTSIDER_PASS = ("Authentication-Results: mx.wexcombe.example; spf=pass smtp.mailfrom=evil.example; "
                 "dkim=pass header.d=evil.example; dmarc=pass action=none header.from=evil.example\r\n")


@pytest.mark.parametrize("how, change", [
    ("a second From with a space before its colon", lambda raw: f"From : <{ATTACKER}>\r\n".encode() + raw),
    ("a second From with a tab before its colon", lambda raw: f"From\t: <{ATTACKER}>\r\n".encode() + raw),
    ("a bare CR that hides a header line", lambda raw: b"X-Note: x\rFrom: <" + ATTACKER.encode() + b">\r\n" + raw),
])
def test_a_from_header_the_parser_might_not_see_decides_nothing(site, how, change):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    site.receive(change(outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support")),
                 at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos", how


def test_a_dmarc_pass_for_another_domain_proves_nothing_about_the_sender(site):
    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = OUTSIDER_PASS.encode() + outlook_reply(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 11, 0), "Support")
    site.receive(raw, at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_hos"
    [report] = refused_notes(site)
    assert "DMARC result is for evil.example" in report


def test_the_directors_delegate_never_approves_the_directors_own_request(site):
    request(site, utc(2026, 12, 2, 9, 0), sender=DIRECTOR, words="Exemption request: I am in court all week.")
    [ask] = letters_to(site, "imogen.thackeray@wexcombe.example", "Approve or Reject")
    site.receive(outlook_reply("Fiona Blackwood <fiona.blackwood@wexcombe.example>", MAILBOX, ask,
                               utc(2026, 12, 2, 11, 0), "Approved"), at=utc(2026, 12, 2, 11, 0))
    site.once(utc(2026, 12, 2, 11, 0))
    assert state(site) == "awaiting_director"
    [report] = refused_notes(site)
    assert "stands in for someone who may not decide it" in report


def test_a_forged_out_of_office_does_not_send_the_request_to_the_delegate(site):
    from app.demo_mail import out_of_office

    request(site, utc(2026, 12, 2, 9, 0))
    ask = letters_to(site, "marcus.ellery@wexcombe.example", "Support or Decline")[-1]
    raw = b"Authentication-Results: mx.wexcombe.example; dmarc=fail action=none header.from=wexcombe.example\r\n" + \
        out_of_office(MARCUS, MAILBOX, ask, utc(2026, 12, 2, 9, 1))
    site.receive(raw, at=utc(2026, 12, 2, 9, 1))
    site.once(utc(2026, 12, 2, 9, 1))
    assert letters_to(site, "daniel.okafor@wexcombe.example", "Support or Decline") == []


def test_a_signed_request_replayed_next_month_is_not_handled_again(site):
    from app.demo_mail import new_email

    issue(site, "2026-12", "auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,monthly\n",
          utc(2026, 12, 1, 8, 30))
    raw = new_email(MARCUS, MAILBOX, "Exemption request for Ben Hartley", utc(2026, 12, 2, 9, 0),
                    "Exemption request for Ben Hartley: he is giving evidence at a final hearing all week.")
    site.receive(raw, at=utc(2026, 12, 2, 9, 0))
    site.once(utc(2026, 12, 2, 9, 0))
    site.receive(raw, at=utc(2027, 1, 6, 9, 0))  # the very same bytes, a month later
    site.once(utc(2027, 1, 6, 9, 0))
    ctx = site.open(utc(2027, 1, 7), read_only=True)
    try:
        assert [r["reference"] for r in ItemRepo(ctx.store).all(exemptions.KIND)] == ["EXM-2026-12-001"]
    finally:
        ctx.close()
    assert any("already handled in 2026-12 arrived again" in note for note in triage(site, "2027-01"))
