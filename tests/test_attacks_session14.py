"""Attacks on the items decided by reply (session 14): the Director's letter, moderation, remedial actions.

Each story is an outsider, or a careless or malicious insider, trying to make the mailbox do what
only someone else may: send the all-staff letter, moderate an audit, close a child's remedial
action. Every message is real .eml-shaped mail through the maildir transport and the real store.
"""
import pytest

from app.demo_mail import gmail_reply, new_email, outlook_reply
from conftest import MAILBOX, issue, letters_to, sample, stored_item, text_of, threaded_under, utc
from test_director_letter_send import ANSWERED_AT, DIRECTOR, REF as LTR, propose, staff_letters

FIONA = "fiona.blackwood@wexcombe.example"          # the Director's configured delegate
AISHA, GARETH = "aisha.patel@wexcombe.example", "gareth.lyle@wexcombe.example"
RUTH, SAMIR = "ruth.castell@wexcombe.example", "samir.haddad@wexcombe.example"
PRIYA = "priya.ramsden@wexcombe.example"             # QA team


def item(site, reference: str) -> dict:
    return stored_item(site, reference)


def draft(site):
    propose(site)
    [letter] = letters_to(site, DIRECTOR, "Draft letter")
    return letter


def with_from(raw: bytes, *from_lines: bytes) -> bytes:
    """`raw` with its From header replaced by `from_lines` (one header each)."""
    head, _, body = raw.partition(b"\n\n")
    lines = [line for line in head.split(b"\n") if not line.lower().startswith(b"from:")]
    return b"\n".join([*(b"From: " + f for f in from_lines), *lines]) + b"\n\n" + body


# --- the Director's letter: forged senders -----------------------------------------------------

FORGED_FROMS = {
    "display name is the Director's address": [b'"imogen.thackeray@wexcombe.example" <mallory@evil.example>'],
    "two From headers": [b"Imogen Thackeray <imogen.thackeray@wexcombe.example>", b"<mallory@evil.example>"],
    "two addresses in one From": [b"imogen.thackeray@wexcombe.example, mallory@evil.example"],
    "encoded word hiding an address": [b"=?utf-8?q?imogen.thackeray=40wexcombe.example_=3C?= <mallory@evil.example>"],
    "encoded word posing as the address": [b"=?utf-8?b?PGltb2dlbi50aGFja2VyYXlAd2V4Y29tYmUuZXhhbXBsZT4=?="],
    "Kelvin sign in the local part": ["imogen.thac\u212aeray@wexcombe.example".encode()],
    "address outside the angle brackets": [b"imogen.thackeray@wexcombe.example <mallory@evil.example>"],
}


@pytest.mark.parametrize("from_lines", FORGED_FROMS.values(), ids=FORGED_FROMS.keys())
def test_a_forged_from_never_sends_the_letter(site, from_lines):
    letter = draft(site)
    raw = gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, "Send")
    site.receive(with_from(raw, *from_lines), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_a_reply_to_pointing_at_the_director_does_not_make_an_outsider_the_director(site):
    letter = draft(site)
    raw = gmail_reply("Mallory <mallory@evil.example>", MAILBOX, letter, ANSWERED_AT, "Send")
    site.receive(raw.replace(b"\nTo:", f"\nReply-To: {DIRECTOR}\nSender: {DIRECTOR}\nTo:".encode(), 1),
                 at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"
    assert letters_to(site, DIRECTOR, "Nothing decided") == []   # nobody is written to on an outsider's say


# SPF or DKIM failing alone is no verdict (forwarding breaks SPF, lists break DKIM): DMARC, which
# combines them for the From domain, is what counts, as in workflows/approvals.py.
@pytest.mark.parametrize("verdict", [b"dmarc=fail", b"dmarc=temperror", b"compauth=fail",
                                     b"dmarc=pass header.from=evil.example",
                                     b"dmarc=fail (p=reject) header.from=wexcombe.example; dmarc=pass"])
def test_a_send_that_fails_authentication_is_refused(site, verdict):
    letter = draft(site)
    raw = outlook_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, "Send")
    site.receive(b"Authentication-Results: mx.wexcombe.example; " + verdict + b"\r\n" + raw, at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"
    assert item(site, LTR)["history"][-1]["action"] == "refused"


def test_a_flood_of_forged_sends_produces_no_letter_at_all(site):
    letter = draft(site)
    before = len(site.sent())
    for n in range(30):
        at = utc(2027, 1, 8, 10, n)
        raw = outlook_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, at, "Send")
        forged = b"Authentication-Results: mx.wexcombe.example; dmarc=fail header.from=wexcombe.example\r\n" + raw
        outsider = gmail_reply(f"Imogen Thackeray <imogen{n}@evil.example>", MAILBOX, letter, at, "Send")
        site.receive(forged, at=at, name=f"forged-{n}")
        site.receive(outsider, at=at, name=f"outsider-{n}")
    site.once(utc(2027, 1, 8, 10, 45))
    assert len(site.sent()) == before       # not one letter: no staff letter, no answer to anyone
    assert item(site, LTR)["state"] == "awaiting_director"


# --- the Director's letter: whose words ---------------------------------------------------------

def test_send_typed_only_among_the_quoted_lines_decides_nothing(site):
    letter = draft(site)
    quoted = "\n".join("> " + line for line in letter.get_body(("plain",)).get_content().splitlines()[:12])
    raw = new_email(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, f"Re: {letter['Subject']}", ANSWERED_AT,
                    f"On {letter['Date']}, QA Audits wrote:\n{quoted}\nSend\n> Please reply Send\n")
    site.receive(raw.replace(b"\nDate:", f"\nIn-Reply-To: {letter['Message-ID']}\nDate:".encode(), 1),
                 at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_a_colleagues_send_forwarded_by_the_director_is_not_the_directors_word(site):
    letter = draft(site)
    body = ("---------- Forwarded message ---------\nFrom: Aisha Patel <aisha.patel@wexcombe.example>\n"
            f"Date: {letter['Date']}\nSubject: Re: {letter['Subject']}\nTo: QA Audits <{MAILBOX}>\n\nSend\n")
    site.receive(new_email(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, f"Fw: {letter['Subject']}", ANSWERED_AT, body),
                 at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_our_own_draft_quoted_without_markers_is_never_read_as_the_directors_send(site):
    letter = draft(site)
    # An accidental empty reply from a client that pastes the original in with no ">" or header block.
    body = "\n\n" + letter.get_body(("plain",)).get_content()
    raw = new_email(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, f"Re: {letter['Subject']}", ANSWERED_AT, body)
    site.receive(raw.replace(b"\nDate:", f"\nIn-Reply-To: {letter['Message-ID']}\nDate:".encode(), 1),
                 at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_a_staff_members_send_in_reply_to_the_all_staff_letter_sends_nothing_again(site):
    letter = draft(site)
    site.receive(gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, "Send"), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    [to_aisha] = [m for m in staff_letters(site) if m["To"] == AISHA]
    later = utc(2027, 1, 8, 12, 0)
    site.receive(outlook_reply(f"Aisha Patel <{AISHA}>", MAILBOX, to_aisha, later, "Send"), at=later)
    site.receive(gmail_reply(f"Aisha Patel <{AISHA}>", MAILBOX, to_aisha, later, f"Send [{LTR}]"), at=later,
                 name="aisha-2")
    site.once(later)
    assert len(staff_letters(site)) == 17
    assert item(site, LTR)["state"] == "sent"


def test_a_replayed_send_after_dont_send_sends_nothing(site):
    letter = draft(site)
    site.receive(gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, "Don't send"),
                 at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    later = utc(2027, 1, 8, 12, 0)
    site.receive(threaded_under(sample("director_send_outlook.eml"), letter), at=later)
    site.once(later)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "not_sent"


def test_a_send_naming_a_letter_never_issued_or_a_kind_that_does_not_exist_sends_nothing(site):
    letter = draft(site)
    for n, ref in enumerate(("LTR-2026-12-002", "LTR-2026-11-001", "XYZ-2026-12-001", "LTR-2026-13-001")):
        at = utc(2027, 1, 8, 10, n)
        site.receive(new_email(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, f"[{ref}] Send", at, "Send"), at=at,
                     name=f"ref-{n}")
    site.once(utc(2027, 1, 8, 10, 30))
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"
    assert item(site, "LTR-2026-12-002") is None
    assert letter


# --- moderation ----------------------------------------------------------------------------------

MOD_ALLOCATIONS = "auditor_email,case_ref,audit_type\nruth.castell@wexcombe.example,CR-41226,dip sample\n"


def moderation_asked(site, grade="Inadequate"):
    issue(site, "2026-12", MOD_ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    submit_grade(site, grade, utc(2026, 12, 14, 10, 0))
    return letters_to(site, GARETH, "Moderation of audit")[-1]


def submit_grade(site, grade, at):
    [allocation] = letters_to(site, RUTH, "Your audits")
    site.receive(gmail_reply(f"Ruth Castell <{RUTH}>", MAILBOX, allocation, at, f"Grade: {grade}"), at=at)
    site.once(at)


def test_an_agree_to_a_grade_the_auditor_has_since_changed_is_not_agreement_with_the_new_grade(site):
    first = moderation_asked(site)                                  # Gareth is asked about "Inadequate"
    submit_grade(site, "Outstanding", utc(2026, 12, 14, 15, 0))     # Ruth re-submits before he answers
    at = utc(2026, 12, 15, 9, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, first, at, "Agree"), at=at)
    site.once(at)
    stored = item(site, "MOD-2026-12-001")
    # He agreed with Inadequate, the grade he was shown; it must not be recorded as agreeing Outstanding.
    assert stored["moderated_grade"] != "Outstanding"
    assert stored["state"] == "awaiting_moderator"
    [again] = letters_to(site, GARETH, "Nothing decided yet")
    assert "Outstanding" in text_of(again)
    # Told the grade now, his Agree to that letter agrees with it.
    later = utc(2026, 12, 15, 10, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, again, later, "Agree"), at=later)
    site.once(later)
    assert (item(site, "MOD-2026-12-001")["state"], item(site, "MOD-2026-12-001")["moderated_grade"]) == \
        ("agreed", "Outstanding")


def test_an_explicit_grade_to_the_older_letter_is_still_the_moderators_own_grade(site):
    first = moderation_asked(site)
    submit_grade(site, "Outstanding", utc(2026, 12, 14, 15, 0))
    at = utc(2026, 12, 15, 9, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, first, at,
                               "Grade: Requires improvement\nThe plan has no dates."), at=at)
    site.once(at)
    assert item(site, "MOD-2026-12-001")["moderated_grade"] == "Requires improvement"


def test_a_moderator_cannot_answer_by_naming_another_moderators_item_in_the_subject(site):
    moderation_asked(site)
    at = utc(2026, 12, 15, 9, 0)
    site.receive(new_email(f"Samir Haddad <{SAMIR}>", MAILBOX, "[MOD-2026-12-001] Agree", at, "Agree"), at=at)
    site.once(at)
    assert item(site, "MOD-2026-12-001")["state"] == "awaiting_moderator"


def test_the_auditor_forging_the_moderators_agree_is_refused(site):
    request = moderation_asked(site)
    at = utc(2026, 12, 15, 9, 0)
    raw = outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, request, at, "Agree")
    site.receive(with_from(raw, f'"{GARETH}" <{RUTH}>'.encode()), at=at)
    site.once(at)
    assert item(site, "MOD-2026-12-001")["state"] == "awaiting_moderator"


# --- remedial actions ------------------------------------------------------------------------------

ACT_ALLOCATIONS = f"auditor_email,case_ref,audit_type,team_manager_email\n{AISHA},CR-40117,monthly,{GARETH}\n"


def action_raised(site):
    issue(site, "2026-12", ACT_ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    [allocation] = letters_to(site, AISHA, "Your audits")
    at = utc(2026, 12, 3, 10, 0)
    site.receive(outlook_reply(f"Aisha Patel <{AISHA}>", MAILBOX, allocation, at,
                               "Grade: Inadequate\nRemedial action: yes - no visit since October"), at=at)
    site.once(at)
    [alert] = letters_to(site, GARETH, "Remedial action needed")
    return alert


def test_the_auditor_cannot_close_the_action_their_own_audit_raised(site):
    alert = action_raised(site)
    at = utc(2026, 12, 4, 9, 0)
    site.receive(outlook_reply(f"Aisha Patel <{AISHA}>", MAILBOX, alert, at, "Done - visited yesterday."), at=at)
    site.once(at)
    assert item(site, "ACT-2026-12-001")["state"] == "open"


def test_the_auditor_cannot_close_it_as_the_owners_delegate_either(site):
    text = site.config_path.read_text()
    site.config_path.write_text(text.replace("[delegates]\n", f'[delegates]\n"{GARETH}" = "{AISHA}"\n', 1))
    alert = action_raised(site)
    at = utc(2026, 12, 4, 9, 0)
    site.receive(outlook_reply(f"Aisha Patel <{AISHA}>", MAILBOX, alert, at, "Done - visited yesterday."), at=at)
    site.once(at)
    assert item(site, "ACT-2026-12-001")["state"] == "open"


def test_done_typed_among_the_quoted_alert_does_not_close_the_action(site):
    alert = action_raised(site)
    at = utc(2026, 12, 4, 9, 0)
    quoted = "\n".join("> " + line for line in alert.get_body(("plain",)).get_content().splitlines()[:8])
    raw = new_email(f"Gareth Lyle <{GARETH}>", MAILBOX, f"Re: {alert['Subject']}", at,
                    f"On {alert['Date']}, QA Audits wrote:\n{quoted}\nDone - visit made\n> more\n")
    site.receive(raw.replace(b"\nDate:", f"\nIn-Reply-To: {alert['Message-ID']}\nDate:".encode(), 1), at=at)
    site.once(at)
    assert item(site, "ACT-2026-12-001")["state"] == "open"


def test_no_childs_name_from_a_reply_reaches_a_subject_or_the_triage_list(site):
    alert = action_raised(site)
    at = utc(2026, 12, 4, 9, 0)
    raw = outlook_reply(f"Ben Hartley <ben.hartley@wexcombe.example>", MAILBOX, alert, at,
                        "Done - I visited Jayden Okoro at home.")
    site.receive(raw.replace(b"Subject: RE:", b"Subject: RE: Jayden Okoro", 1), at=at)
    site.once(at)
    for message in site.sent():
        assert "Jayden" not in message["Subject"]
    ctx = site.open(utc(2026, 12, 4, 10), read_only=True)
    try:
        notes = " ".join(t["note"] for t in ctx.ledger.triage("2026-12"))
    finally:
        ctx.close()
    assert "Jayden" not in notes


TWO_ACTIONS = (f"auditor_email,case_ref,audit_type,team_manager_email\n{AISHA},CR-40117,monthly,{GARETH}\n"
               f"ben.hartley@wexcombe.example,CR-40133,dip sample,{GARETH}\n")


def test_a_reply_in_one_actions_thread_whose_subject_names_another_closes_neither(site):
    issue(site, "2026-12", TWO_ACTIONS, utc(2026, 12, 1, 8, 30))
    for n, who in enumerate((AISHA, "ben.hartley@wexcombe.example")):
        [allocation] = letters_to(site, who, "Your audits")
        at = utc(2026, 12, 3, 10, n)
        site.receive(outlook_reply(who, MAILBOX, allocation, at, "Grade: Inadequate\nRemedial action: yes - no visit"),
                     at=at)
        site.once(at)
    first = next(m for m in letters_to(site, GARETH, "Remedial action needed") if "ACT-2026-12-001" in m["Subject"])
    at = utc(2026, 12, 4, 9, 0)
    # Gareth answers the older alert's email but writes the other action's reference in the subject:
    # which child's action he means cannot be told, so neither is closed and he is asked.
    raw = outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, first, at, "Done - home visit made this morning.")
    site.receive(raw.replace(b"[ACT-2026-12-001]", b"[ACT-2026-12-002]"), at=at)
    site.once(at)
    assert item(site, "ACT-2026-12-001")["state"] == "open" and item(site, "ACT-2026-12-002")["state"] == "open"
    [asked] = letters_to(site, GARETH, "Nothing decided yet")
    assert "ACT-2026-12-002" in text_of(asked)


@pytest.mark.parametrize("words", [
    "Send - but not until Monday, please",
    "Send. Actually, don't send it: I want to change the second paragraph first.",
    "Send: once the figures for Children in Care are corrected",
    "Send\nbut please change the second paragraph before it goes",
    "Send after the leadership team has seen it",
    "Send - to the heads of service only please",
    "Send. Kidding.",
])
def test_a_send_with_a_condition_or_a_change_of_mind_sends_nothing_and_is_asked_again(site, words):
    letter = draft(site)
    site.receive(gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, words), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"
    assert letters_to(site, DIRECTOR, "Nothing decided yet")


@pytest.mark.parametrize("words", ["Send", "Send it please.", "Yes, send it.\nA good month for everyone."])
def test_a_plain_send_with_a_kind_word_still_sends(site, words):
    letter = draft(site)
    site.receive(gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, words), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert len(staff_letters(site)) == 17


@pytest.mark.parametrize("words", [
    "Nothing has been done about the visit.",
    "Done nothing so far - the family have moved.",
    "Done - no, sorry, wrong email.",
    "Ben said it was done, I have not checked.",
    "Completed by the previous manager, I believe.",
])
def test_a_careless_done_that_is_not_a_done_leaves_the_childs_action_open(site, words):
    alert = action_raised(site)
    at = utc(2026, 12, 4, 9, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, alert, at, words), at=at)
    site.once(at)
    assert item(site, "ACT-2026-12-001")["state"] == "open"
    assert letters_to(site, GARETH, "Nothing decided yet")


@pytest.mark.parametrize("words", [
    "I agree it needs looking at, will review next week",
    "Agree the grade is wrong",
    "Agree in part - the plan is fine but there have been no visits",
    "I agree to moderate this one",
    "Agree with Samir that it should be Good",
    "Agree - more like Requires improvement to me",
])
def test_an_agree_that_is_not_agreement_with_the_grade_is_asked_again(site, words):
    request = moderation_asked(site)
    at = utc(2026, 12, 15, 9, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, request, at, words), at=at)
    site.once(at)
    assert item(site, "MOD-2026-12-001")["state"] == "awaiting_moderator"
    assert letters_to(site, GARETH, "Nothing decided yet")
    assert letters_to(site, RUTH, "Moderation of your audit") == []


@pytest.mark.parametrize("words", ["Agree", "Agreed - no safety plan, Inadequate is right.",
                                   "I agree. A thorough audit and a good piece of work."])
def test_a_plain_agree_still_agrees(site, words):
    request = moderation_asked(site)
    at = utc(2026, 12, 15, 9, 0)
    site.receive(outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, request, at, words), at=at)
    site.once(at)
    assert item(site, "MOD-2026-12-001")["state"] == "agreed"


def test_the_auditors_details_that_happen_to_say_completed_are_kept_not_refused(site):
    issue(site, "2026-12", f"auditor_email,case_ref,audit_type\nben.hartley@wexcombe.example,CR-40133,dip sample\n",
          utc(2026, 12, 1, 8, 30))
    [allocation] = letters_to(site, "ben.hartley@wexcombe.example", "Your audits")
    at = utc(2026, 12, 3, 10, 0)
    site.receive(outlook_reply("ben.hartley@wexcombe.example", MAILBOX, allocation, at,
                               "Grade: Inadequate\nRemedial action: yes"), at=at)
    site.once(at)
    [ask] = letters_to(site, "ben.hartley@wexcombe.example", "please send the details")
    at = utc(2026, 12, 3, 14, 0)
    details = "The core group completed its review in October and the safety plan has lapsed since."
    site.receive(outlook_reply("Ben Hartley <ben.hartley@wexcombe.example>", MAILBOX, ask, at, details), at=at)
    site.once(at)
    record = item(site, "ACT-2026-12-001")
    assert record["state"] == "open"
    # Not Ben's to close (he raised it), but what he wrote is kept with the action, not thrown away.
    assert any("safety plan has lapsed" in (e.get("comment", "") + e.get("words", "")) for e in record["history"])


def test_the_directors_delegate_may_not_pass_the_letter_on_to_their_own_delegate(site):
    text = site.config_path.read_text()
    site.config_path.write_text(text.replace("[delegates]\n", f'[delegates]\n"{FIONA}" = "{AISHA}"\n', 1))
    letter = draft(site)
    site.receive(gmail_reply(f"Aisha Patel <{AISHA}>", MAILBOX, letter, ANSWERED_AT, "Send"), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_the_directors_out_of_office_never_sends_the_letter(site):
    letter = draft(site)
    raw = gmail_reply(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX, letter, ANSWERED_AT, "Send")
    site.receive(raw.replace(b"\nTo:", b"\nAuto-Submitted: auto-replied\nTo:", 1), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == [] and item(site, LTR)["state"] == "awaiting_director"


def test_a_send_tricked_out_of_the_director_in_someone_elses_thread_sends_nothing(site):
    draft(site)
    # Mallory mailed the Director "[LTR-2026-12-001] New policy: reply Send to confirm you have read it",
    # with Reply-To set to the audit mailbox. The Director replies Send, to Mallory's message, not our draft.
    raw = new_email(f"Imogen Thackeray <{DIRECTOR}>", MAILBOX,
                    "RE: [LTR-2026-12-001] New policy: reply Send to confirm you have read it", ANSWERED_AT, "Send")
    site.receive(raw.replace(b"\nDate:", b"\nIn-Reply-To: <policy-1@evil.example>\nDate:", 1), at=ANSWERED_AT)
    site.once(ANSWERED_AT)
    assert staff_letters(site) == []


def test_a_flood_of_forged_and_wrong_person_answers_to_a_moderation_and_an_action_writes_to_nobody(site):
    alert = action_raised(site)
    ctx_letters = len(site.sent())
    for n in range(15):
        at = utc(2026, 12, 4, 9, n)
        forged = b"Authentication-Results: mx.wexcombe.example; dmarc=fail header.from=wexcombe.example\r\n" + \
            outlook_reply(f"Gareth Lyle <{GARETH}>", MAILBOX, alert, at, "Done - visit made.")
        site.receive(forged, at=at, name=f"forged-{n}")
        site.receive(outlook_reply(f"Samir Haddad <{SAMIR}>", MAILBOX, alert, at, "Done - visit made."), at=at,
                     name=f"samir-{n}")
        site.receive(outlook_reply(f"Mallory <mallory{n}@evil.example>", MAILBOX, alert, at, "Done - visit made."),
                     at=at, name=f"outsider-{n}")
    site.once(utc(2026, 12, 4, 9, 30))
    assert len(site.sent()) == ctx_letters
    record = item(site, "ACT-2026-12-001")
    assert record["state"] == "open" and sum(e["action"] == "refused" for e in record["history"]) == 30
