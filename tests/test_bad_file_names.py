"""One bad file never blocks the inbox: whatever a message is called or contains, it can be set aside."""
import os

import pytest

from conftest import new_mail, utc
from db.ledger import Ledger

MORNING = utc(2026, 11, 2, 9, 30)
AISHA = "Aisha Patel <aisha.patel@wexcombe.example>"
BAD_NAMES = [b"bad\xff\xfename", b"line\nbreak\x1b[31m", "caf\u00e9-\U0001f600".encode()]


def put_named(site, name: bytes, raw: bytes, at) -> None:
    """Drop a file with a raw byte name into inbox/new, as a broken mail server or a person might."""
    folder = os.fsencode(site.mailbox / "inbox" / "new")
    path = os.path.join(folder, name)
    with open(path, "wb") as handle:
        handle.write(raw)
    os.utime(path, (at.timestamp(), at.timestamp()))


@pytest.mark.parametrize("name", BAD_NAMES)
def test_a_malformed_message_with_an_undecodable_name_is_set_aside_and_the_rest_handled(site, name):
    put_named(site, name, b"garbage \xff\xfe with no header block\n\nGrade: Good\n", MORNING)
    site.receive(new_mail(sender=AISHA, subject="question", body="How do I send my audit?"), at=utc(2026, 11, 2, 9, 31))
    counts = site.once(utc(2026, 11, 2, 9, 35))
    assert counts["handled"] == 2
    assert len(site.files("failed")) == 1 and len(site.files("processed")) == 1 and site.files("inbox") == []
    assert [m["To"] for m in site.sent()] == ["aisha.patel@wexcombe.example"]
    ctx = site.open(utc(2026, 11, 2, 10), read_only=True)
    try:
        [note] = [t for t in Ledger(ctx.store).triage("2026-11") if t.get("failed")]
    finally:
        ctx.close()
    assert note["failed"].startswith("new/") and "no header block" in note["note"]
    assert not any(ch < " " for ch in note["failed"]), "control characters never reach the store or the log"


def test_a_good_message_with_an_undecodable_name_is_handled_normally(site):
    put_named(site, b"good\xff\xfename", new_mail(sender=AISHA, subject="question", body="How do I send my audit?"),
              MORNING)
    assert site.once(utc(2026, 11, 2, 9, 35)) == {"handled": 1, "sent": 1}
    assert len(site.files("processed")) == 1 and site.files("failed") == []


def test_when_the_triage_note_cannot_be_written_the_message_is_still_set_aside(site, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a note that cannot be stored")

    monkeypatch.setattr(Ledger, "add_triage", broken)
    put_named(site, b"broken.eml", b"no headers at all", MORNING)
    put_named(site, b"broken-too.eml", b"", utc(2026, 11, 2, 9, 31))
    assert site.once(utc(2026, 11, 2, 9, 35))["handled"] == 2
    assert len(site.files("failed")) == 2 and site.files("inbox") == []
