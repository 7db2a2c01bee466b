"""Reading replies: an approver's yes or no, the QA team's capacity answer, and the words they added.

Heads of Service and the Director answer from their phones in a few words; a reply that is not
plainly a yes or a no must decide nothing and say why, so the daemon can ask again.
"""
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from inbox.intent import Intent, Reading, read_capacity, read_decision
from inbox.parse import parse_message
from inbox.reply import newest_text
from inbox.signature import skip_greeting, strip_signature

DATA = Path(__file__).parent / "data"
RECEIVED = datetime(2026, 12, 3, 12, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 20)
YES, NO, UNCLEAR = Intent.YES, Intent.NO, Intent.UNCLEAR


def newest(name: str) -> str:
    """What the sender typed in a sample email, through the real parser and quote stripper."""
    return newest_text(parse_message((DATA / name).read_bytes(), RECEIVED).text)


@pytest.mark.parametrize("text", [
    "Approved", "Approve", "Yes", "Yes, approve", "Yes please", "Happy to support", "Supported", "Support",
    "I support this", "Agreed", "Agree", "Fine by me", "OK", "Ok to approve", "Granted", "Accepted",
    "Go ahead", "No problem, approved", "no objection", "approved.", "APPROVED", "Yep", "That's fine",
    "I have no objection", "Yes - happy to support",
])
def test_words_of_approval_approve_at_any_stage(text):
    assert read_decision(text).intent is YES


@pytest.mark.parametrize("text", [
    "Declined", "Decline", "Not supported", "Don't support", "No", "No.", "Reject", "Rejected",
    "Reject — see comments", "Refused", "not approved", "I can't support this", "I cannot support",
    "don't approve", "do not approve", "won't approve", "Not agreed", "I'm not able to support this",
    "Nope", "No, sorry", "That's a no from me", "No - not supported",
])
def test_words_of_refusal_decline(text):
    assert read_decision(text).intent is NO


@pytest.mark.parametrize("text", [
    "I don't think I can support this", "Never approved", "We are unable to support this",
    "I’m not happy to support this", "Dont approve", "Can’t support", "I would not approve",
])
def test_a_negated_approval_is_a_refusal(text):
    assert read_decision(text).intent is NO


@pytest.mark.parametrize("text, intent", [
    ("No problem, approved", YES), ("No objection", YES), ("I see no reason not to support this", YES),
    ("No issues, happy to support", YES), ("No problem", UNCLEAR), ("No issues", UNCLEAR),
    ("No reason not to", UNCLEAR), ("No worries", UNCLEAR),
])
def test_idioms_with_no_are_not_refusals(text, intent):
    assert read_decision(text).intent is intent


@pytest.mark.parametrize("text", [
    "approve?", "Should I approve this?", "Can you tell me more before I approve?", "Support?", "Is this ok?",
    "Should I approve this", "Yes?", "Decline?",
])
def test_a_decision_asked_as_a_question_decides_nothing(text):
    assert read_decision(text) == Reading(UNCLEAR, text, "the decision was asked as a question")


@pytest.mark.parametrize("text", [
    "I would approve if she completes the dip sample first", "Happy to support provided she does January's audit",
    "Approve as long as the QA team agree", "I would support but she had an exemption in October",
    "Yes if she can catch up next month",
])
def test_a_conditional_answer_decides_nothing(text):
    reading = read_decision(text)
    assert (reading.intent, reading.reason) == (UNCLEAR, "the decision depended on a condition")


@pytest.mark.parametrize("text", [
    "Approve. Actually no, reject", "Yes - although on reflection I must decline", "Approved\n\nActually no, reject it",
    "Support, decline", "Not supported. Approved.",
])
def test_both_an_approval_and_a_refusal_decide_nothing(text):
    reading = read_decision(text)
    assert (reading.intent, reading.reason) == (UNCLEAR, "both an approval and a refusal were found")


@pytest.mark.parametrize("text", [
    "", "Thanks for sending this", "Please see attached", "Can we discuss on Monday", "She has agreed to do it later",
    "Thanks for this.\nI have spoken to Aisha.\nShe is in court all week.\nApproved",
])
def test_no_decision_word_decides_nothing(text):
    reading = read_decision(text)
    assert (reading.intent, reading.reason) == (UNCLEAR, "no decision word was found")


@pytest.mark.parametrize("text", ["Not sure I can support this", "Probably approve", "Maybe yes"])
def test_a_hedged_answer_decides_nothing(text):
    reading = read_decision(text)
    assert (reading.intent, reading.reason) == (UNCLEAR, "the decision was not definite")


def test_an_unclear_reading_keeps_the_whole_answer_for_the_qa_team():
    reading = read_decision("Hi Priya,\n\nShould I approve this? She had one in October.\n\nThanks\nImogen")
    assert reading.comment == "Should I approve this? She had one in October."


@pytest.mark.parametrize("text, intent, comment", [
    ("Approved - she has been signed off until March", YES, "Approved - she has been signed off until March"),
    ("Support. Ben is giving evidence in court all week.", YES, "Ben is giving evidence in court all week."),
    ("Reject — see comments", NO, "Reject — see comments"),
    ("No - not supported, she has no audits outstanding", NO, "No - not supported, she has no audits outstanding"),
    ("Approved for this month only", YES, "Approved for this month only"),
    ("Ben is in court all week so approved", YES, "Ben is in court all week so approved"),
    ("Declined, she needs support from her team manager first.", NO,
     "Declined, she needs support from her team manager first."),
    ("Yes please", YES, ""),
    ("I can't support this one, sorry", NO, ""),
    ("Approved\n\nShe is off sick. No audits this month.", YES, "She is off sick. No audits this month."),
    ("Approved. Can you let me know when she is back?", YES, "Can you let me know when she is back?"),
])
def test_the_approvers_own_words_are_kept_as_the_comment_in_whole_sentences(text, intent, comment):
    # Whole sentences or nothing: a fragment left once "Approved" is taken out misleads the reader.
    assert read_decision(text) == Reading(intent, comment)


@pytest.mark.parametrize("text", [
    "Approved\n\nNo, she could not have done it before January either.",
    "Supported\n\nI know the Director may reject it, but Aisha is in court all week.",
    "Yes\n\nNo audits are outstanding for her anyway.",
])
def test_a_comment_paragraph_further_down_does_not_decide(text):
    assert read_decision(text).intent is YES


@pytest.mark.parametrize("text, intent", [
    ("Hi Priya,\n\nApproved", YES), ("Hello QA Audits,\nDeclined", NO), ("Dear all\n\nSupported", YES),
    ("Good morning,\n\nNo.", NO), ("Hi all - approved", YES), ("Morning Priya\nNot supported", NO),
])
def test_greetings_are_skipped(text, intent):
    assert read_decision(text) == Reading(intent, "")


def test_words_after_a_greeting_on_the_same_line_are_read():
    reading = read_decision("Hi Marcus, approved - she is off until March")
    assert (reading.intent, reading.comment) == (YES, "approved - she is off until March")
    assert skip_greeting("Dear all,\nYes") == "Yes"


@pytest.mark.parametrize("text", [
    "Happy to support\n\nFiona Blackwood\nHead of Service\nTel: 01632 960771\nReg. No. 04512345\n"
    "No liability is accepted for loss or damage.",
    "Supported\nMarcus Ellery\nWexcombe Children's Services Trust Ltd, Reg. No. 04512345",
    "Approved\n-- \nImogen Thackeray\nNo. 1 County Hall",
    "OK\n\nThis email and any attachments are confidential. If you are not the intended recipient, no action.",
])
def test_signature_footers_never_decide(text):
    assert read_decision(text).intent is YES


def test_a_reply_that_is_only_a_footer_decides_nothing():
    assert read_decision("Kind regards\nReg. No. 04512345\nNo liability is accepted.").intent is UNCLEAR


@pytest.mark.parametrize("text, kept", [
    ("Approved\n\nKind regards\n\nImogen", "Approved"),
    ("Approved\n-- \nMarcus", "Approved"),
    ("Yes\n\nSent from my iPhone", "Yes"),
    ("No\n\nGet Outlook for Android", "No"),
    ("Approved\n\nThanks, Marcus", "Approved"), ("Approved\nCheers", "Approved"),
    ("Approved - the company no longer needs her", "Approved - the company no longer needs her"),
    ("Happy to support\n\nFiona Blackwood\nHead of Service\nWexcombe County Council\nTel: 01632 960771",
     "Happy to support"),
    ("OK\nMob: 07700 900461", "OK"),
    ("Approved\n\nThis email and any attachments are confidential and intended for the addressee.", "Approved"),
    ("Approved\nCompany No. 01234567", "Approved"),
    ("Approved\n\nSent from Mail for Windows", "Approved"),
    ("Thanks\n\nApproved", "Thanks\n\nApproved"),
    ("Declined. E.g. she could do it in January.", "Declined. E.g. she could do it in January."),
    ("Thanks for sending this.\nApproved", "Thanks for sending this.\nApproved"),
])
def test_strip_signature_cuts_at_the_first_signature_marker(text, kept):
    assert strip_signature(text) == kept


@pytest.mark.parametrize("name, intent, comment", [
    ("decision_outlook_desktop_approved.eml", YES, ""),
    ("decision_outlook_web_support.eml", YES,
     "Support - Aisha is giving evidence at the final hearing for CR-40117 from Monday to Thursday.\n\nMarcus"),
    ("decision_outlook_ios_declined.eml", NO, "No - not supported, she has no audits outstanding"),
    ("decision_gmail_cant_support.eml", NO, ""),
    ("decision_apple_mail_iphone_yes.eml", YES, ""),
    ("decision_corporate_signature_support.eml", YES, ""),
    ("decision_thunderbird_interleaved.eml", YES, ""),
])
def test_each_clients_reply_gives_the_decision_the_sender_meant(name, intent, comment):
    reading = read_decision(newest(name))
    assert (reading.intent, reading.comment, reading.reason) == (intent, comment, "")


def test_a_reply_that_only_asks_is_sent_back_with_the_reason():
    reading = read_decision(newest("decision_outlook_android_question.eml"))
    assert (reading.intent, reading.reason) == (UNCLEAR, "the decision was asked as a question")


@pytest.mark.parametrize("text, agreed", [
    ("Yes, by 7 January", date(2027, 1, 7)),
    ("Yes - 07/01/2027", date(2027, 1, 7)),
    ("yes by Friday 8 January 2027", date(2027, 1, 8)),
    ("Yes, we can take it by 12th Jan", date(2027, 1, 12)),
    ("Yes: 5/1", date(2027, 1, 5)),
    ("Yes, by Jan 7th", date(2027, 1, 7)),
    ("Yes - 2027-01-07", date(2027, 1, 7)),
    ("Yes, by 7/1/27", date(2027, 1, 7)),
    ("Yes, by 22 December", date(2026, 12, 22)),
    ("Yes, by 20 Dec", date(2026, 12, 20)),
    ("Yes by 29 Feb", date(2028, 2, 29)),
    ("Hi Marcus,\n\nYes, we can accommodate this. By 14 January please.", date(2027, 1, 14)),
])
def test_capacity_yes_carries_the_agreed_date(text, agreed):
    reading, when = read_capacity(text, TODAY)
    assert (reading.intent, when) == (YES, agreed)


@pytest.mark.parametrize("text, reason", [
    ("Yes", "no date was given for the agreed completion"),
    ("Yes, by Friday", "no date was given for the agreed completion"),
    ("Yes, by 7 January or 8 January at the latest", "more than one date was given"),
    ("Yes - 07/01/2025", "the date given has already passed"),
    # The day before today, not a year ahead: the nearest "19 December" has passed.
    ("Yes, by 19 December", "the date given has already passed"),
    ("Yes, by 7 January?", "the decision was asked as a question"),
    ("Yes if Owen sends it by 7 January", "the decision depended on a condition"),
])
def test_capacity_answers_without_one_clear_date_decide_nothing(text, reason):  # TODAY is 20 December 2026
    assert read_capacity(text, TODAY) == (Reading(UNCLEAR, text, reason), None)


@pytest.mark.parametrize("text, comment", [
    ("No", ""), ("Sorry, no capacity", ""), ("We can't accommodate this", ""), ("Not this month", ""),
    ("No capacity", ""),
    ("No - we are short-staffed until February", "No - we are short-staffed until February"),
])
def test_capacity_no_is_a_refusal_with_its_reason(text, comment):
    reading, when = read_capacity(text, TODAY)
    assert (reading.intent, reading.comment, when) == (NO, comment, None)


def test_the_qa_teams_outlook_reply_agrees_a_date_across_the_year_end():
    reading, when = read_capacity(newest("decision_capacity_outlook_yes.eml"), TODAY)
    assert (reading.intent, when) == (YES, date(2027, 1, 7))


@pytest.mark.parametrize("marker", ["*From:* QA Audits <qa-audits@wexcombe.example>",
                                    "Oddi wrth: QA Audits <qa-audits@wexcombe.example>",
                                    "Sent from my Galaxy", "Sent from Mail for Windows"])
def test_quoted_history_under_other_client_markers_never_decides(marker):
    text = f"Approved\n\n{marker}\nSent: 03 December 2026 09:12\n\nPlease reply Approve or Reject. Reject if unsure."
    assert newest_text(text) == "Approved"
    assert read_decision(newest_text(text)).intent is Intent.YES



@pytest.mark.parametrize("text, reason", [
    ("Happy Christmas! I will look at this in the new year.", "no decision word was found"),
    ("Happy to discuss with Marcus first", "no decision word was found"),
    ("OK, I'll look at this tomorrow", "the reply put the decision off rather than making it"),
    ("I need more information before I can approve this", "the decision depended on a condition"),
    ("Please call me before I approve", "the decision depended on a condition"),
])
def test_a_reply_that_puts_the_decision_off_decides_nothing(text, reason):
    reading = read_decision(text)
    assert (reading.intent, reading.reason) == (UNCLEAR, reason)


def test_a_clear_approval_is_not_undone_by_a_later_remark():
    assert read_decision("Approved - I will discuss with her tomorrow").intent is YES


@pytest.mark.parametrize("text", [
    "Approved in principle", "Hold off on approving this one", "Approve pending HR advice",
    "It would be wrong to approve this", "Approved.\n\nActually, let me check with HR first",
    "I haven't approved this yet, I'll look tomorrow", "Supported, provisionally", "Not yet - ask me again Friday",
])
def test_a_provisional_answer_decides_nothing(text):
    reading = read_decision(text)
    assert reading.intent is Intent.UNCLEAR, (text, reading)
