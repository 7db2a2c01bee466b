"""Attacks on session 17's changes to durability and sending (issue 11), as a reviewer would make them.

December at Wexcombe County Council: the QA team has issued the month's audits, and auditors' grades
come in while the daemon runs on the embedded Maildir transport. Each story puts one of this session's
claims to the test: the records of letters sent left unsynced (a power cut only puts a letter back
into the same file), answers sent in batches at most a quarter of a second after their message, and
the mark kept in the store folder across passes.
"""
import os
import shutil
from types import SimpleNamespace

import pytest
from freezegun import freeze_time

import app.intake
import inbox.maildir
from app.daemon import one_pass
from conftest import Site, issue, utc
from core.errors import TransportError
from db.kept import MARK
from db.outbox import OutboxRepo
from db.store import Store
from db.wal import WriteAheadLog
from inbox.maildir import MaildirMailbox
from test_sent_flush import AISHA, BEN, DECEMBER, a_daemon_pass, file_name, waiting
from test_sent_flush import synced  # noqa: F401 - a fixture: how much of the log an fsync has made durable

GRADES_AT = utc(2026, 12, 10, 11, 0)
SURGE_AT = utc(2026, 12, 31, 23, 50)


def receipts_to(site: Site, address: str, since=GRADES_AT) -> list:
    """The answers (letters with In-Reply-To) in sent/, new and cur alike, that went to `address`."""
    return [m for m in site.sent_since(since) if m["In-Reply-To"] and address in m["To"]]


def both_grades_arrive(site: Site, at=GRADES_AT) -> None:
    for who in (f"Aisha Patel <{AISHA}>", f"Ben Hartley <{BEN}>"):
        site.reply(who, "Your audits", "Grade: Good", at=at, handle=False)


def slow_handling(monkeypatch) -> None:
    """Each look at the pacing clock is a second later: every message takes longer than SEND_EVERY."""
    ticks = iter(range(10_000))
    monkeypatch.setattr(app.intake, "time", SimpleNamespace(monotonic=lambda: float(next(ticks))))


def frozen_pacing_clock(monkeypatch) -> None:
    """The pacing clock stands still: a whole surge is handled within one SEND_EVERY."""
    monkeypatch.setattr(app.intake, "time", SimpleNamespace(monotonic=lambda: 0.0))


# --- a power cut, and a Maildir that a mail client reads ---------------------------------------------

def test_a_receipt_a_mail_client_had_already_read_is_not_put_into_sent_again_after_a_power_cut(site, synced):
    # 10 December, 11:00. The Maildir is served to the QA team's mail client (Dovecot, mutt), which
    # marks Aisha's receipt as read: it moves sent/new/<name> to sent/cur/<name>:2,S. Then the power
    # fails before the record that it went reached the disk. The receipt must not come back as a
    # second copy in sent/new: "the same file" has to hold for a letter a client has moved too.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    ctx = a_daemon_pass(site, GRADES_AT)
    with open(site.folder / "data" / "wal.jsonl", "r+b") as cut:
        cut.truncate(synced["size"])
    ctx.close()
    [receipt] = waiting(site)
    sent = site.mailbox / "sent"
    name = file_name(receipt["message_id"])
    os.replace(sent / "new" / name, sent / "cur" / f"{name}:2,S")
    site.once(utc(2026, 12, 10, 11, 5))
    assert len(receipts_to(site, AISHA)) == 1, "the receipt is in sent/ twice: once read, once new"
    assert waiting(site) == [], "recorded as sent all the same: it is not tried at every pass"
    assert not (sent / "new" / name).exists()


def snapshot(site: Site, into) -> Site:
    """A copy of the whole deployment (config, store, Maildirs) as it stands, usable as a site of its own."""
    shutil.copytree(site.folder, into, ignore=shutil.ignore_patterns("*.lock"))
    copy = Site.__new__(Site)
    copy.folder, copy.config_path, copy.mailbox = into, into / "config.toml", into / "mailbox"
    return copy


def test_a_power_cut_after_any_write_of_a_surge_pass_loses_nothing_and_repeats_nothing(site, tmp_path, monkeypatch):
    # 31 December, 23:50: both grades arrive together and each takes longer than SEND_EVERY to handle,
    # so the receipts go in two batches mid-pass. The power may fail after any write of that pass: the
    # store's log comes back as far as it was fsync'd; sent/new holds what was flushed and the grades
    # are back in the inbox (worst case), or everything written and moved is there (best case). Whatever the moment, the next pass leaves each grade
    # handled once and each auditor with one receipt.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    both_grades_arrive(site, SURGE_AT)
    sizes, cuts = {"durable": 0}, []
    flushed = {p.name for p in (site.mailbox / "sent" / "new").iterdir()}  # the allocation letters, flushed by `issue`
    filed_before = {p.name for p in (site.mailbox / "processed" / "cur").iterdir()}
    real_append, real_sync, real_flush = WriteAheadLog.append, WriteAheadLog.sync, inbox.maildir.fsync_folder

    def appended(log, changes, *, durable=True):
        real_append(log, changes, durable=durable)
        if durable:
            sizes["durable"] = log.size
        cuts.append((snapshot(site, tmp_path / f"cut{len(cuts)}"), sizes["durable"], set(flushed)))

    def synced_log(log):
        real_sync(log)
        sizes["durable"] = log.size

    def folder_flushed(folder):
        if folder.parent.name == "sent":
            flushed.update(p.name for p in folder.iterdir())
        return real_flush(folder)
    monkeypatch.setattr(WriteAheadLog, "append", appended)
    monkeypatch.setattr(WriteAheadLog, "sync", synced_log)
    monkeypatch.setattr(inbox.maildir, "fsync_folder", folder_flushed)
    slow_handling(monkeypatch)
    with freeze_time(SURGE_AT):
        ctx = site.open()
        one_pass(ctx, jobs=False)
        ctx.pause()
    ctx.close()
    monkeypatch.undo()
    assert len(cuts) >= 6, "the pass wrote less often than this story assumes"
    for n, (copy, size, names) in enumerate(cuts):
        with open(copy.folder / "data" / "wal.jsonl", "r+b") as log:
            log.truncate(size)
        worst_case = snapshot(copy, tmp_path / f"cut{n}-worst")
        for path in (worst_case.mailbox / "sent" / "new").iterdir():
            if path.name not in names:
                path.unlink()  # a name in sent/new never flushed is lost with the power
        for path in (worst_case.mailbox / "processed" / "cur").iterdir():
            if path.name not in filed_before:  # a move into processed/ is never flushed: undone too
                os.replace(path, worst_case.mailbox / "inbox" / "new" / path.name.split(":2,")[0])
        for worst, at in ((False, copy), (True, worst_case)):
            at.once(utc(2026, 12, 31, 23, 55))
            at.once(utc(2026, 12, 31, 23, 56))
            case = f"power cut after write {n} ({'worst' if worst else 'best'} case for sent/)"
            assert [len(receipts_to(at, who, SURGE_AT)) for who in (AISHA, BEN)] == [1, 1], case
            assert len(at.files("processed")) == 2 and at.files("inbox") == [] and at.files("failed") == [], case
            assert waiting(at) == [], case


# --- answers in batches: a stop asked for, a mailbox that fails ---------------------------------------

def test_a_stop_asked_for_mid_surge_still_sends_the_answers_of_the_mail_already_handled(site, monkeypatch):
    # SIGTERM arrives as Aisha's grade is handled, within the quarter second: the pass stops before
    # Ben's, but Aisha's receipt does not wait for the daemon's next life.
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    both_grades_arrive(site)
    frozen_pacing_clock(monkeypatch)
    handled = []
    real = app.intake.handle_one
    monkeypatch.setattr(app.intake, "handle_one", lambda ctx, incoming: (real(ctx, incoming), handled.append(1)))
    with freeze_time(GRADES_AT):
        ctx = site.open()
        try:
            counts = one_pass(ctx, lambda: bool(handled), jobs=False)
        finally:
            ctx.close()
    assert counts == {"handled": 1, "sent": 1}
    assert len(receipts_to(site, AISHA)) == 1 and len(site.files("inbox")) == 1 and waiting(site) == []


def test_when_the_mailbox_fails_mid_surge_the_answers_already_made_still_go(site, monkeypatch):
    # Aisha's grade is handled and filed; filing Ben's fails (the mail server drops the connection, the
    # disk under the Maildir refuses a rename). Before batching, Aisha's receipt had gone already; it
    # must not now wait for the mailbox to be reconnected (5 s, then 10, 20 … up to 5 minutes, while
    # through IMAP the SMTP server that sends may be working all along).
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    both_grades_arrive(site)
    frozen_pacing_clock(monkeypatch)
    real, filed = MaildirMailbox.processed, []

    def processed(mailbox, message):
        if filed:
            raise TransportError("cannot move the message to processed/: Input/output error")
        filed.append(message)
        return real(mailbox, message)
    monkeypatch.setattr(MaildirMailbox, "processed", processed)
    with freeze_time(GRADES_AT):
        ctx = site.open()
        try:
            with pytest.raises(TransportError):
                one_pass(ctx, jobs=False)
        finally:
            ctx.close()
    assert len(receipts_to(site, AISHA)) == 1, "Aisha's receipt waits for the next pass"
    assert len(receipts_to(site, BEN)) == 1, "Ben's grade was handled (only filing it failed): his receipt goes too"
    assert waiting(site) == [] and len(site.files("inbox")) == 1
    monkeypatch.undo()
    site.once(utc(2026, 12, 10, 11, 1))  # the mailbox back: Ben's message filed, not handled twice
    assert [len(receipts_to(site, who)) for who in (AISHA, BEN)] == [1, 1]
    assert len(site.files("processed")) == 2 and site.files("inbox") == [] and waiting(site) == []


# --- the mark kept across passes -------------------------------------------------------------------

def test_a_daemon_that_opened_afresh_after_a_writer_sees_the_next_writer_too(tmp_path):
    # `issue` runs between two passes, so the daemon opens its store afresh; its old store, closed,
    # must not take away the mark the fresh one leaves, and a second writer (`roster import`) later
    # must be seen again.
    from test_store_kept import MONTH, a_paused_store
    from test_store_log import items

    first = a_paused_store(tmp_path)
    with Store(tmp_path, logged=True) as other, other.transaction():
        other.table(MONTH, "items").insert({"value": 3})
    assert first.resume() is False
    first.close()
    fresh = Store(tmp_path, logged=True)
    assert [r["value"] for r in fresh.table(MONTH, "items").all()] == [1, 2, 3]
    fresh.pause()
    assert (tmp_path / MARK).exists()
    first.close()  # closed twice (a second stop): the fresh store's mark stays
    assert (tmp_path / MARK).exists()
    assert fresh.resume() is True
    fresh.pause()
    with Store(tmp_path, logged=True) as other, other.transaction():
        other.table(MONTH, "items").insert({"value": 4})
    assert fresh.resume() is False, "the second writer was seen"
    fresh.close()
    assert items(tmp_path, MONTH) == [1, 2, 3, 4] and not (tmp_path / MARK).exists()


# --- the compiled template cache in a shared /tmp ---------------------------------------------------

def test_a_link_another_user_plants_in_tmp_never_changes_the_mode_of_a_folder_of_ours(tmp_path, monkeypatch):
    # After a reboot empties /tmp, another user of the server plants /tmp/_jinja2-cache-<our uid> as a
    # link to one of the service's own folders, say the mailbox that a mail server reads through its
    # group (0750). The service's first letter must not make that folder 0700 (the mail server locked
    # out), and letters are still composed, without the cache.
    from mailer import template_cache as cache_module

    shared = tmp_path / "mailbox"
    shared.mkdir()
    os.chmod(shared, 0o750)
    monkeypatch.setattr("tempfile.gettempdir", lambda: str(tmp_path))
    os.symlink(shared, tmp_path / f"_jinja2-cache-{os.getuid()}")
    assert cache_module.template_cache() is None
    assert oct(os.stat(shared).st_mode & 0o777) == oct(0o750), "the service changed the mode of its own folder"
    assert list(shared.iterdir()) == []


# --- the lock note kept between passes ---------------------------------------------------------------

def test_a_command_kept_waiting_between_the_daemons_passes_is_told_who_really_holds_the_store(tmp_path):
    # The daemon's pid stays in store.lock between its passes. `issue` (another process) takes the
    # lock meanwhile; a third command kept waiting must be told `issue`'s pid, not the daemon's.
    import subprocess
    import sys

    from core.errors import StoreLocked
    from db.lock import FolderLock
    from test_store_kept import a_paused_store

    daemon = a_paused_store(tmp_path)
    assert (tmp_path / "store.lock").read_text() == str(os.getpid())
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from db.lock import FolderLock; lock = FolderLock(sys.argv[1]); lock.acquire(); "
                               "print('held', flush=True); time.sleep(30)", str(tmp_path)],
        stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreLocked, match=rf"\(pid {holder.pid}\)"):
            FolderLock(tmp_path).acquire(0)
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
    assert daemon.resume() is True, "`issue` only took the lock: it opened no store"
    assert (tmp_path / "store.lock").read_text() == str(os.getpid()), "the daemon's own pid again"
    daemon.close()


def test_on_windows_a_command_kept_waiting_is_told_the_store_is_in_use_not_shown_a_traceback(tmp_path, monkeypatch):
    # On Windows the lock (msvcrt) is on the file's first byte, and no other process may read a locked
    # byte: the note naming the holder cannot be read by whoever waits. That must still be the usual
    # "in use" answer, not a PermissionError with a traceback. (Modelled here: the lock is never had,
    # and reading the note is refused as Windows refuses it.)
    import db.lock
    from core.errors import StoreLocked

    class LockedFirstByte:
        def __init__(self, handle):
            self._handle = handle

        def read(self, *args):
            raise PermissionError(13, "Permission denied")

        def __getattr__(self, name):
            return getattr(self._handle, name)

    monkeypatch.setattr(db.lock, "_try_lock", lambda handle: False)
    monkeypatch.setattr(db.lock, "open", lambda *args, **kwargs: LockedFirstByte(open(*args, **kwargs)), raising=False)
    with pytest.raises(StoreLocked, match=r"\(pid unknown\) is using"):
        db.lock.FolderLock(tmp_path).acquire(0)
