"""Letters into sent/: their names made durable once per batch, and always before any record says they went.

The 1st of December, 08:30: the QA team issues the month's audits and two allocation letters go into
the Maildir `sent/`. Each letter's file is fsync'd as it is written; the folder sent/new is fsync'd
once for both, and only then is either recorded as sent in the store. The record is appended to the
log without an fsync of its own, and the kernel may write it out at any moment: so the folder is
flushed before the record is appended at all, and a power cut can never leave a letter recorded as
sent but missing from sent/. When that flush fails, nothing is recorded: the letters go again at the
next pass, with the same Message-IDs, into the same files, once each.
"""
from types import SimpleNamespace

import pytest
from freezegun import freeze_time

import inbox.maildir
from app.daemon import one_pass
from conftest import issue, utc
from db.outbox import OutboxRepo
from db.wal import WriteAheadLog
from inbox.maildir import MaildirMailbox

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
DECEMBER = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"


def recorded_as_sent(changes) -> list[str]:
    """The Message-IDs a logged transaction records as sent (the ledger's `sent` table)."""
    return [record["message_id"] for _, table, _, record in changes if table == "sent" and record]


def waiting(site) -> list[dict]:
    """The letters in the outbox, read as `status` reads them."""
    ctx = site.open(utc(2026, 12, 1, 9, 0), read_only=True)
    try:
        return OutboxRepo(ctx.store).pending()
    finally:
        ctx.close()


def file_name(message_id: str) -> str:
    return message_id.strip("<>").split("@")[0]


@pytest.fixture
def events(monkeypatch) -> list[tuple]:
    """In order: each fsync of a folder (with the names it then held) and each log append (with what it records)."""
    happened: list[tuple] = []
    real_sync, real_append = inbox.maildir.fsync_folder, WriteAheadLog.append

    def folder_synced(folder):
        happened.append(("folder", folder.parent.name, {p.name for p in folder.iterdir()}))
        return real_sync(folder)

    def appended(log, changes, *, durable=True):
        happened.append(("append", recorded_as_sent(changes), durable))
        return real_append(log, changes, durable=durable)
    monkeypatch.setattr(inbox.maildir, "fsync_folder", folder_synced)
    monkeypatch.setattr(WriteAheadLog, "append", appended)
    return happened


def test_the_letters_of_issue_are_flushed_into_sent_once_and_before_they_are_recorded(site, events):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    assert sorted(m["To"] for m in site.sent()) == [AISHA, BEN]
    flushes = [e for e in events if e[0] == "folder" and e[1] == "sent"]
    assert len(flushes) == 1, "one fsync of sent/new for the batch, not one per letter"
    records = [(n, e) for n, e in enumerate(events) if e[0] == "append" and e[1]]
    assert sum(len(e[1]) for _, e in records) == 2
    for at, (_, message_ids, _) in records:
        durable_names = set().union(*(e[2] for e in events[:at] if e[0] == "folder" and e[1] == "sent"))
        assert {file_name(m) for m in message_ids} <= durable_names, "recorded as sent before its name was flushed"


def test_a_failed_flush_records_nothing_and_the_next_pass_sends_each_letter_once(site, monkeypatch):
    def power_trouble(mailbox):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(MaildirMailbox, "flush_sent", power_trouble)
    with pytest.raises(OSError, match="Input/output"):
        issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    monkeypatch.undo()
    assert len(waiting(site)) == 2, "not recorded as sent: both still in the outbox"
    site.once(utc(2026, 12, 1, 8, 31))
    site.once(utc(2026, 12, 1, 8, 32))
    assert sorted(m["To"] for m in site.sent()) == [AISHA, BEN], "each letter once in sent/"
    assert waiting(site) == []


@pytest.mark.parametrize("removed", ["tmp", "new", "all"])
def test_a_letter_into_a_maildir_whose_folders_were_removed_by_hand_makes_them_again(tmp_path, removed):
    import shutil

    sent = inbox.maildir.make_maildir(tmp_path / "sent")
    for sub in (("tmp", "new", "cur") if removed == "all" else (removed,)):
        shutil.rmtree(sent / sub)
    path = inbox.maildir.deliver(sent, b"Subject: x\n\nx\n", name="letter")
    assert path == sent / "new" / "letter" and path.read_bytes() == b"Subject: x\n\nx\n"
    assert all((sent / sub).is_dir() for sub in ("tmp", "new", "cur"))


@pytest.fixture
def synced(monkeypatch) -> dict:
    """How much of the log an fsync has made durable so far: what a power cut would leave of it."""
    made_durable = {"size": 0}
    real_append, real_sync = WriteAheadLog.append, WriteAheadLog.sync

    def appended(log, changes, *, durable=True):
        real_append(log, changes, durable=durable)
        if durable:
            made_durable["size"] = log.size

    def flushed(log):
        real_sync(log)
        made_durable["size"] = log.size
    monkeypatch.setattr(WriteAheadLog, "append", appended)
    monkeypatch.setattr(WriteAheadLog, "sync", flushed)
    return made_durable


def a_daemon_pass(site, at):
    """Aisha's grade arrives and a running daemon's pass answers it, then lets go of the store (paused)."""
    site.reply(f"Aisha Patel <{AISHA}>", "Your audits", "Grade: Good", at=at, handle=False)
    with freeze_time(at):
        ctx = site.open()
        one_pass(ctx, jobs=False)
        ctx.pause()
    return ctx


def test_a_power_cut_after_a_pass_on_the_maildir_puts_the_receipt_into_the_same_file_again(site, synced):
    # 10 December, 11:00. Into the Maildir a letter sent again lands in the same file (its name comes
    # from its Message-ID), so the daemon leaves the record that Aisha's receipt went to the next
    # commit: one fsync a message fewer. The power fails before that commit: the log comes back as
    # far as it was fsync'd, her grade handled, the receipt not recorded as sent.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ctx = a_daemon_pass(site, utc(2026, 12, 10, 11, 0))
    log = site.folder / "data" / "wal.jsonl"
    assert log.stat().st_size > synced["size"], "the record of the receipt was fsync'd on its own"
    with open(log, "r+b") as cut:
        cut.truncate(synced["size"])
    ctx.close()  # a paused store is let go without a fold: the log stays as the power cut left it
    assert [w["to"] for w in waiting(site)] == [[AISHA]], "the receipt is back in the outbox"
    site.once(utc(2026, 12, 10, 11, 5))
    receipts = [m for m in site.sent_since(utc(2026, 12, 10, 11, 0)) if AISHA in m["To"]]
    assert len(receipts) == 1, "the receipt went again into its own file: one copy, not two"
    assert waiting(site) == [] and len(site.files("processed")) == 1, "her grade was handled once"


def test_through_a_mail_server_a_pass_ends_with_the_records_of_its_letters_fsynced(site, synced, monkeypatch):
    # The same pass, as through SMTP, EWS or Graph: a letter sent again would reach Aisha twice, so the
    # pass does not end until the record that it went is on the disk.
    monkeypatch.setattr(MaildirMailbox, "resends_replace", False)
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ctx = a_daemon_pass(site, utc(2026, 12, 10, 11, 0))
    try:
        assert (site.folder / "data" / "wal.jsonl").stat().st_size == synced["size"]
    finally:
        ctx.close()


def both_answer(site, at):
    """Aisha's and Ben's grades arrive together; one pass handles both."""
    for who in (f"Aisha Patel <{AISHA}>", f"Ben Hartley <{BEN}>"):
        site.reply(who, "Your audits", "Grade: Good", at=at, handle=False)
    site.once(at)


def test_in_a_surge_the_receipts_go_in_batches_with_one_flush_of_sent_for_the_batch(site, events):
    # 31 December, 23:50: two grades arrive together, and the pass handles both well within a quarter
    # of a second (the clock is frozen here): their receipts go together, one flush of sent/ for both.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    events.clear()
    both_answer(site, utc(2026, 12, 31, 23, 50))
    flushes = [e[2] for e in events if e[0] == "folder" and e[1] == "sent"]
    receipts = [m for m in site.sent_since(utc(2026, 12, 31, 23, 50)) if m["In-Reply-To"]]
    names = {file_name(m["Message-ID"]) for m in receipts}
    assert len(receipts) == 2
    assert names <= flushes[0], "both receipts in the pass's first flush of sent/, one for the two"


def test_when_handling_is_slow_the_receipts_go_before_the_pass_ends(site, events, monkeypatch):
    # The same two grades, but each takes longer than SEND_EVERY to handle: Aisha's receipt goes as soon
    # as hers is handled, not after Ben's.
    import app.intake

    ticks = iter(range(1000))
    monkeypatch.setattr(app.intake, "time", SimpleNamespace(monotonic=lambda: float(next(ticks))))  # a second a look
    real = app.intake.handle_one
    monkeypatch.setattr(app.intake, "handle_one", lambda ctx, incoming: (events.append(("handled",)),
                                                                         real(ctx, incoming)))
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    at = utc(2026, 12, 31, 23, 50)
    for who in (f"Aisha Patel <{AISHA}>", f"Ben Hartley <{BEN}>"):
        site.reply(who, "Your audits", "Grade: Good", at=at, handle=False)
    events.clear()
    ctx = site.open(at)
    try:
        one_pass(ctx, jobs=False)
    finally:
        ctx.close()
    order = [e[0] for e in events if e[0] == "handled" or (e[0] == "folder" and e[1] == "sent")]
    assert order == ["handled", "folder", "handled", "folder"]
