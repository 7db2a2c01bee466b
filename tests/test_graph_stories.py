"""The maildir stories again, end to end through transport = "graph": msal, our Graph client, the fake Graph.

The story functions are the maildir tests themselves, imported under other names (so they are not
collected twice) and played on a `graph_site`, whose mailbox is tests/servers/fake_graph.py.
"""
import json

from app.demo_mail import outlook_reply
from conftest import MAILBOX, issue, letters_to, new_mail, sample, utc
from db.transport_state import TransportStateFile
from test_cycle import ALLOCATIONS
from test_cycle import test_every_grade_spelling_from_every_client_is_recorded_and_counts as grade_story
from test_cycle import test_the_deadline_is_the_last_second_of_the_month_in_london as deadline_story
from test_exemptions import test_declined_by_the_head_of_service_never_reaches_the_director as declined_story
from test_exemptions import test_supported_then_approved_leaves_the_figures_and_stops_reminders as exemption_story
from test_intake import test_unclear_mail_is_answered_with_the_right_headers_filed_and_not_handled_again as unclear_story

MORNING = utc(2026, 11, 2, 9, 30)
AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"
BEN = "ben.hartley@wexcombe.example"


def question(n: int) -> bytes:
    return new_mail(sender=AISHA, subject="question", body="How do I send my audit?",
                    message_id=f"<q{n}@mail.wexcombe.example>")


def test_unclear_mail_is_answered_filed_and_not_handled_again(graph_site):
    unclear_story(graph_site)


def test_a_submission_by_reply_is_recorded_and_the_receipt_threads_under_it(graph_site):
    grade_story(graph_site, outlook_reply, "Grade: Good", "Good")
    [submission] = graph_site.files("processed")
    [receipt] = letters_to(graph_site, BEN, "Received")
    sent_reply = submission.read_bytes().decode()
    assert f"Message-ID: {receipt['In-Reply-To']}" in sent_reply  # threading survived sendMail as MIME
    assert graph_site.files("inbox") == []


def test_the_last_minute_submission_counts_by_received_date_time(graph_site):
    deadline_story(graph_site, "2026-10", utc(2026, 10, 31, 23, 59, 59), utc(2026, 11, 1, 0, 0, 0))


def test_the_last_minute_submission_counts_in_british_summer_time_too(graph_site):
    deadline_story(graph_site, "2026-03", utc(2026, 3, 31, 22, 59, 59), utc(2026, 3, 31, 23, 0, 0))


def test_an_exemption_supported_and_approved_by_reply(graph_site):
    exemption_story(graph_site)


def test_an_exemption_declined_by_reply(graph_site):
    declined_story(graph_site)


def test_handled_mail_goes_to_processed_and_broken_mail_to_failed_both_made_once(graph_site):
    fake = graph_site.fake
    graph_site.receive("malformed.eml", at=MORNING)
    graph_site.receive(question(1), at=utc(2026, 11, 2, 9, 31))
    assert graph_site.once(utc(2026, 11, 2, 9, 35))["handled"] == 2
    [failed] = graph_site.files("failed")
    assert failed.read_bytes() == sample("malformed.eml")  # untouched, for a person to look at
    assert len(graph_site.files("processed")) == 1 and graph_site.files("inbox") == []
    graph_site.receive(question(2), at=utc(2026, 11, 2, 10, 0))
    graph_site.once(utc(2026, 11, 2, 10, 0))
    names = [f["displayName"] for f in fake.folders.values() if f["parent"] == "msgfolderroot"]
    assert sorted(names) == ["Failed", "Processed"]  # found again by name, never made twice
    assert len(graph_site.files("processed")) == 2


def test_a_processed_folder_the_administrator_made_is_used(graph_site):
    fake = graph_site.fake
    fake.folders["admin-made"] = {"displayName": "processed", "parent": "msgfolderroot"}  # any case
    graph_site.receive(question(1), at=MORNING)
    graph_site.once(MORNING)
    assert [m.folder for m in fake.messages.values() if m.folder not in ("sentitems",)] == ["admin-made"]


def test_the_delta_link_survives_a_restart_and_nothing_is_handled_twice(graph_site):
    fake = graph_site.fake
    graph_site.receive(question(1), at=MORNING)
    assert graph_site.once(MORNING) == {"handled": 1, "sent": 1}
    state = TransportStateFile(graph_site.folder / "data")
    assert "$deltatoken=" in state.get("graph.delta_link") and json.loads(state.get("graph.waiting")) == {}

    graph_site.receive(question(2), at=utc(2026, 11, 2, 9, 40))
    fake.seen.clear()
    assert graph_site.once(utc(2026, 11, 2, 9, 45)) == {"handled": 1, "sent": 1}  # a new process, the same state
    deltas = [s for s in fake.seen if s.path.endswith("/messages/delta")]
    assert deltas and all("$deltatoken=" in s.query or "$skiptoken=" in s.query for s in deltas)  # resumed
    assert graph_site.once(utc(2026, 11, 2, 9, 50)) == {"handled": 0, "sent": 0}
    assert len(graph_site.sent()) == 2 and len(graph_site.files("processed")) == 2


def test_mail_handled_but_not_moved_before_a_crash_is_filed_after_the_restart_not_answered_again(graph_site, monkeypatch):
    graph_site.receive(question(1), at=MORNING)
    graph_site.fake.mark_read(graph_site.files("inbox")[0].id)  # a change the delta query reports too
    with monkeypatch.context() as crash:  # everything durable, then the process died before the move
        crash.setattr("inbox.graph.GraphReader.processed", lambda self, message: None)
        graph_site.once(MORNING)
    assert len(graph_site.files("inbox")) == 1 and len(graph_site.sent()) == 1
    graph_site.once(utc(2026, 11, 2, 9, 31))  # the delta reports nothing new: the stored waiting set remembers it
    assert graph_site.files("inbox") == [] and len(graph_site.files("processed")) == 1
    assert len(graph_site.sent()) == 1


def test_a_forgotten_delta_link_restarts_a_full_sync_and_handles_only_what_waits(graph_site):
    fake = graph_site.fake
    for n in range(3):
        graph_site.receive(question(n), at=utc(2026, 11, 2, 9, n))
    assert graph_site.once(MORNING)["handled"] == 3
    fake.forget_delta_links()
    graph_site.receive(question(9), at=utc(2026, 11, 2, 9, 40))
    assert graph_site.once(utc(2026, 11, 2, 9, 45)) == {"handled": 1, "sent": 1}
    assert [s.answered for s in fake.seen if s.path.endswith("/messages/delta")].count(410) == 1
    assert len(graph_site.sent()) == 4


def test_sync_state_lost_in_the_middle_of_the_pages_reads_the_inbox_again(graph_site):
    for n in range(5):
        graph_site.receive(question(n), at=utc(2026, 11, 2, 9, n))
    graph_site.fake.fail_next(1, 410, code="SyncStateNotFound", only="$skiptoken=")  # the second page
    assert graph_site.once(MORNING) == {"handled": 5, "sent": 5}
    assert graph_site.fake.faults[0].left == 0


def test_the_inbox_is_read_oldest_receipt_first_across_pages(graph_site):
    fake = graph_site.fake  # pages of two, newest first: the reader must sort
    for n, minute in enumerate((5, 1, 4, 2, 3)):
        graph_site.receive(question(n), at=utc(2026, 11, 2, 9, minute))
    ctx = graph_site.open(MORNING)
    try:
        times = [m.received_at.minute for m in ctx.reader.waiting()]
    finally:
        ctx.close()
    assert times == [1, 2, 3, 4, 5]
    assert any("$skiptoken=" in s.query for s in fake.seen)


def test_a_message_gone_when_fetched_is_skipped(graph_site):
    graph_site.receive(question(1), at=utc(2026, 11, 2, 9, 1))
    second = graph_site.receive(question(2), at=utc(2026, 11, 2, 9, 2))
    ctx = graph_site.open(MORNING)
    try:
        waiting = ctx.reader.waiting()
        first = next(waiting)
        del graph_site.fake.messages[second]  # a person deleted it meanwhile
        assert list(waiting) == []
    finally:
        ctx.close()
    assert first.raw == question(1)


def test_every_header_of_a_sent_letter_arrives_as_written(graph_site):
    issue(graph_site, "2026-12", ALLOCATIONS, utc(2026, 12, 1, 8, 30))
    [letter] = letters_to(graph_site, BEN)
    for header in ("Message-ID", "Auto-Submitted", "X-Auto-Response-Suppress", "Date", "From", "Subject"):
        assert letter[header], header
    assert letter["Auto-Submitted"] == "auto-generated" and letter["From"].addresses[0].addr_spec == MAILBOX
    [receipt] = graph_site.reply(f"Ben Hartley <{BEN}>", "Your audits", "Grade: Good", at=utc(2026, 12, 3, 10, 0))
    assert letter["Message-ID"] in receipt["References"]


def test_a_processed_folder_deleted_by_a_person_is_made_again(graph_site):
    from freezegun import freeze_time

    from app.daemon import one_pass

    fake = graph_site.fake
    graph_site.receive(question(1), at=MORNING)
    ctx = graph_site.open(MORNING)  # one long-lived mailbox, as the daemon keeps it: it knows the folder's id
    try:
        with freeze_time(MORNING):
            one_pass(ctx)
        [old] = [fid for fid, f in fake.folders.items() if f["displayName"] == "Processed"]
        del fake.folders[old]  # a person tidied the mailbox while the daemon ran
        graph_site.receive(question(2), at=utc(2026, 11, 2, 9, 40))
        with freeze_time(utc(2026, 11, 2, 9, 40)):
            assert one_pass(ctx)["handled"] == 1
    finally:
        ctx.close()
    [new] = [fid for fid, f in fake.folders.items() if f["displayName"] == "Processed"]
    assert new != old and graph_site.files("inbox") == [] and len(graph_site.files("processed")) == 1
    assert [s.answered for s in fake.seen if s.path.endswith("/move")] == [201, 404, 201]
