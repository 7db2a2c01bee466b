"""Month-start mail writes what changed: a month's reminders in one write, and sent letters never spooled.

The 15th of December, 09:00: the ten-working-day reminders fall due for everyone with an audit
outstanding. The pass composes each, stores them all with their "done" marks in one commit, and
sends them; at the end of the pass nothing of theirs is left in the outbox or the spool. A pass
stopped before that commit has stored none of them, and the next pass sends each exactly once.
When the server is down at `issue`, the letters wait in the spool; one whose file is lost is named.
"""
import errno

import pytest

import main
from conftest import issue, utc
from core.errors import TemporaryFailure
from db.spool import FOLDER
from db.wal import WriteAheadLog
from inbox.maildir import MaildirMailbox

AISHA, BEN = "aisha.patel@wexcombe.example", "ben.hartley@wexcombe.example"
DECEMBER = f"auditor_email,case_ref,audit_type\n{AISHA},CR-40117,monthly\n{BEN},CR-40133,monthly\n"
REMINDERS_DUE = utc(2026, 12, 15, 9, 0)


def reminders(site) -> list[str]:
    return sorted(m["To"] for m in site.sent() if "Reminder" in m["Subject"])


def letters_in(changes) -> int:
    """How many letters a logged transaction stores in the outbox."""
    return sum(1 for file, table, _, record in changes if file == "outbox" and table == "pending" and record
               and "raw" in record)


def test_the_reminders_of_a_month_are_stored_in_one_write_and_leave_nothing_behind(site, monkeypatch):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    real, commits = WriteAheadLog.append, []

    def logged(log, changes, *, durable=True):
        commits.append((letters_in(changes), durable))
        return real(log, changes, durable=durable)
    monkeypatch.setattr(WriteAheadLog, "append", logged)
    site.once(REMINDERS_DUE)
    assert reminders(site) == [AISHA, BEN]
    assert [c for c in commits if c[0]] == [(2, True)], "both letters and their marks: one fsync'd append"
    assert sum(1 for _, durable in commits if durable) == 1, "sending them costs no fsync of its own"
    spool = site.config.store_path / FOLDER
    assert not spool.exists() or not any(spool.iterdir()), "sent in their pass: never written to the spool"


def test_a_pass_stopped_before_its_reminders_are_stored_leaves_each_to_the_next_pass_once(site, monkeypatch):
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    real = WriteAheadLog.append

    def full_disk(log, changes, *, durable=True):
        if letters_in(changes):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(log, changes, durable=durable)
    monkeypatch.setattr(WriteAheadLog, "append", full_disk)
    with pytest.raises(Exception, match="full"):
        site.once(REMINDERS_DUE)
    assert reminders(site) == []
    monkeypatch.undo()
    site.once(utc(2026, 12, 15, 9, 1))
    site.once(utc(2026, 12, 15, 9, 2))
    assert reminders(site) == [AISHA, BEN]


def test_letters_the_server_would_not_take_wait_in_the_spool_and_a_lost_one_is_named(site, monkeypatch, capsys):
    def down(mailbox, raw, message_id, recipients):
        raise TemporaryFailure("421 4.3.2 service not available, closing channel")
    monkeypatch.setattr(MaildirMailbox, "send", down)
    issue(site, "2026-12", DECEMBER, utc(2026, 12, 1, 8, 30))
    monkeypatch.undo()
    spool = site.config.store_path / FOLDER
    assert len(list(spool.iterdir())) == 2 and site.sent() == []
    next(spool.iterdir()).unlink()
    code = main.main(["--config", str(site.config_path), "doctor"])
    store_line = capsys.readouterr().out.splitlines()[1]
    assert code == 2 and store_line.startswith("FAILED store"), store_line
    assert "is missing" in store_line and "allocation about AUD-2026-12-00" in store_line
    assert "Nothing was read from the inbox" in store_line
