"""The daemon's wait on the embedded mailbox: new mail wakes it at once, even mail that landed mid-pass.

At month-end, submissions land while a pass is still handling the ones before. The wait used to
compare the inbox with itself as the wait began, so a message that arrived after the pass listed
the inbox (and before the wait) looked like old news: it waited for the next poll, 60 s by default
(bench/bench_surge.py rush saw 4 of 150 receipts take a minute). These stories never time anything:
a wait that should wake at once is given a `should_stop` that fails the test if it is ever asked.
"""
import pytest

from inbox.maildir import MaildirMailbox, deliver

SUBMISSION = b"From: Ann <ann@wexcombe.example>\r\nSubject: AUD-2026-12-001\r\n\r\nGrade: Good\r\n"


def never_asked():
    pytest.fail("the wait went to sleep instead of waking for new mail")


def a_pass(mailbox: MaildirMailbox, *, then_deliver: bool = False, file_it: bool = True) -> None:
    """A pass as intake runs it: list the inbox, and file each message (mail may land meanwhile)."""
    for incoming in mailbox.waiting():
        if then_deliver:
            deliver(mailbox.path / "inbox", SUBMISSION)  # lands after the listing, while the pass works
        if file_it:
            mailbox.processed(incoming)


def test_mail_that_lands_while_a_pass_runs_wakes_the_next_wait_at_once(tmp_path):
    mailbox = MaildirMailbox(tmp_path)
    deliver(tmp_path / "inbox", SUBMISSION)
    a_pass(mailbox, then_deliver=True)
    mailbox.wait_for_mail(60, never_asked)  # returns without sleeping: the second message is news
    a_pass(mailbox)
    assert sorted(p.parent.parent.name for p in tmp_path.glob("*/cur/*")) == ["processed", "processed"]


def test_mail_that_lands_during_the_wait_wakes_it(tmp_path):
    mailbox = MaildirMailbox(tmp_path)
    a_pass(mailbox)
    asked = []

    def deliver_on_first_look():
        if not asked:
            deliver(tmp_path / "inbox", SUBMISSION)
        asked.append(True)
        return len(asked) > 3  # the test would stop here if the wait missed it

    mailbox.wait_for_mail(60, deliver_on_first_look)
    assert len(asked) == 1  # woken at the look after the arrival


def test_a_message_the_pass_left_in_the_inbox_wakes_nothing_and_news_wakes_only_once(tmp_path):
    mailbox = MaildirMailbox(tmp_path)
    deliver(tmp_path / "inbox", SUBMISSION)
    a_pass(mailbox, file_it=False)  # the store failed: the message stays for the next poll
    asked = []
    mailbox.wait_for_mail(0.3, lambda: asked.append(True) or False)
    assert asked  # slept until its time was up: no loop of passes over a message that cannot be handled yet
    deliver(tmp_path / "inbox", SUBMISSION)
    mailbox.wait_for_mail(60, never_asked)  # news
    asked.clear()
    mailbox.wait_for_mail(0.3, lambda: asked.append(True) or False)
    assert asked  # the same news again (no pass read it, e.g. the store was locked): the poll retries it
