"""Killed at random a hundred times and more, the daemon ends exactly where a daemon never killed ends.

The fast version (100 messages, 15 kills) runs with every `pytest`; `AUDITMAIL_LONG=1` runs the long
one (600 messages, 120 kills) whose figures are in docs/RELIABILITY.md. The last tests tamper with
finished runs to show the comparison would see a lost message, a letter sent twice or a forged
decision: a harness that cannot fail proves nothing.
"""
import json
import os
import shutil
import uuid

import pytest

from crash_compare import Figures, compare, message_id
from crash_harness import experiment

LONG = os.environ.get("AUDITMAIL_LONG") == "1"
SIZE = dict(messages=600, kills=120) if LONG else dict(messages=60, kills=10)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("crash")
    figures, mix = experiment(folder, seed=int(os.environ.get("AUDITMAIL_SEED", "7")), **SIZE)
    print("\ncrash harness figures:", json.dumps(figures.__dict__, default=str))
    return folder, figures, mix


def test_the_killed_daemon_loses_nothing_and_does_nothing_twice(runs):
    _, figures, mix = runs
    assert figures.messages == len(mix) >= SIZE["messages"]
    assert figures.kills == SIZE["kills"] and figures.kills_while_handling >= SIZE["kills"] // 2
    assert figures.zeroes() == dict.fromkeys(figures.zeroes(), 0), figures.problems
    assert figures.problems == []
    # A message cut off three times is set aside by design: then (and only then) the runs may differ.
    assert figures.differences == [] or figures.set_aside_by_kills > 0


def test_the_mix_reached_every_kind_of_handling(runs):
    _, figures, _ = runs
    for outcome in ("submission-recorded", "answered-unclear", "triage-outsider", "ignored-auto_reply",
                    "ignored-bounce", "decision-refused"):
        assert figures.outcomes.get(outcome), outcome
    assert any(state.startswith("EXM") for state in figures.request_states)
    assert figures.forged_decisions > 0 and figures.letters_sent > 0


def test_the_index_of_open_items_agrees_with_the_months_after_every_kill(runs):
    from db.index import _read_month
    from db.month_files import stored_months
    from db.store import Store

    folder, _, _ = runs
    for site in ("clean", "crashed"):
        with Store(folder / site / "data", writer=False, logged=True) as store:
            indexed = sorted((r["reference"], r["month"]) for r in store.table("index", "open").all())
            covered = {r["month"]: r["latest_deadline"] for r in store.table("index", "months").all()}
            months = {m: _read_month(store, m) for m in stored_months(store)}
            assert covered == {m: latest for m, (_, latest) in months.items()}, site
            assert indexed == sorted((r["reference"], m) for m, (rows, _) in months.items() for r in rows), site
            assert indexed  # the mix leaves requests waiting: the comparison is not of two empty lists


def _tampered(runs, tmp_path, change) -> Figures:
    folder, _, mix = runs
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    shutil.copytree(folder / "clean", clean)
    shutil.copytree(folder / "crashed", crashed)
    change(crashed, mix)
    return compare(clean, crashed, mix, "", Figures())


def test_the_comparison_sees_a_lost_message(runs, tmp_path):
    def lose(site, mix):
        victim = next((site / "mailbox" / "processed" / "cur").iterdir())
        victim.unlink()
    assert _tampered(runs, tmp_path, lose).lost == 1


def test_the_comparison_sees_a_letter_sent_twice(runs, tmp_path):
    def send_again(site, mix):
        letter = sorted((site / "mailbox" / "sent" / "new").iterdir())[-1]
        raw = letter.read_bytes().replace(b"Message-ID: <", f"Message-ID: <{uuid.uuid4().hex}".encode(), 1)
        (letter.parent / "again").write_bytes(raw)
    assert _tampered(runs, tmp_path, send_again).sent_twice == 1


def test_the_comparison_sees_a_forged_decision_taking_effect(runs, tmp_path):
    def forge(site, mix):
        forged = next(message_id(m.raw) for m in mix if m.forged and message_id(m.raw))
        path = site / "data" / "months" / "2026-12.json"
        content = json.loads(path.read_text())
        request = next(iter(content["exemptions"].values()))
        request["history"].append({"at": "2026-12-03T10:00:00+00:00", "by": "marcus.ellery@wexcombe.example",
                                   "action": "supported", "message_id": forged, "comment": ""})
        path.write_text(json.dumps(content))
    figures = _tampered(runs, tmp_path, forge)
    assert figures.forged_took_effect == 1 and figures.differences


def test_a_message_set_aside_just_before_a_crash_is_noted_once(site):
    """Found by the long run: killed between noting an empty message and moving it, it was noted twice."""
    from app.intake import handle_one
    from conftest import utc
    from db.ledger import Ledger

    site.receive(b"", at=utc(2026, 12, 6, 21, 38))
    ctx = site.open(utc(2026, 12, 7))
    try:
        [incoming] = list(ctx.reader.waiting())
        ctx.reader.failed = lambda message, reason: (_ for _ in ()).throw(KeyboardInterrupt("killed"))
        with pytest.raises(KeyboardInterrupt):
            handle_one(ctx, incoming)  # the note is written; the process dies before the move
    finally:
        ctx.close()
    site.once(utc(2026, 12, 7))  # the restarted daemon meets the same message again
    ctx = site.open(utc(2026, 12, 7), read_only=True)
    try:
        notes = [t for t in Ledger(ctx.store).triage("2026-12") if "failed" in t]
    finally:
        ctx.close()
    assert len(notes) == 1 and len(site.files("failed")) == 1 and site.files("inbox") == []
