"""Finding a record by key without a scan (db/tables.py): the index always finds what a TinyDB query finds.

At month-end the ledger's handled, attempts and sent tables grow by a record per message; these
stories check that the index behind `first(...)` follows every kind of write, a rolled-back
transaction, and a store opened again, so a message is never taken as unhandled when it was
handled (it would be handled twice) nor the reverse (it would be lost).
"""
from datetime import datetime, timezone

import pytest
from tinydb import Query

from db.ledger import Ledger
from db.store import Store

RECEIVED = datetime(2026, 12, 31, 23, 58, tzinfo=timezone.utc)


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path, create=True, logged=True) as opened:
        yield opened


def by_query(table, **fields):
    """What plain TinyDB finds: the reference the index is checked against."""
    query = None
    for name, value in fields.items():
        test = Query()[name] == value
        query = test if query is None else query & test
    return table.get(query)


def test_the_index_follows_inserts_updates_and_removals(store):
    table = store.table("ledgers/2026-12", "attempts")
    assert table.first(key="a") is None  # an empty table, indexed before it exists
    with store.transaction():
        for n in range(50):
            table.insert({"key": f"m{n}", "count": 1})
    assert table.first(key="m49") == by_query(table, key="m49") and table.first(key="m49").doc_id == 50
    with store.transaction():
        table.update({"count": 2}, doc_ids=[table.first(key="m7").doc_id])
        table.update({"key": "renamed"}, Query().key == "m8")  # a write by query moves it in the index
        table.remove(Query().key == "m9")
    assert table.first(key="m7")["count"] == 2
    assert table.first(key="m8") is None and table.first(key="renamed").doc_id == 9
    assert table.first(key="m9") is None and by_query(table, key="m9") is None
    with store.transaction():
        table.insert({"key": "m9", "count": 5})  # back again, under a new id
    assert table.first(key="m9") == by_query(table, key="m9") and table.first(key="m9").doc_id == 51
    with store.transaction():
        table.truncate()
    assert table.first(key="m1") is None and table.all() == []


def test_with_two_records_of_one_key_the_first_in_the_table_is_found_as_a_query_finds_it(store):
    table = store.table("ledgers/2026-12", "answers")
    with store.transaction():
        table.insert({"sender": "ann@x.example", "day": "2026-12-31", "count": 1})
        table.insert({"sender": "ann@x.example", "day": "2026-12-30", "count": 2})
        table.insert({"sender": "ann@x.example", "day": "2026-12-31", "count": 3})
    assert table.first(sender="ann@x.example", day="2026-12-31")["count"] == 1
    assert table.first(sender="ann@x.example", day="2026-12-30")["count"] == 2
    assert table.first(sender="ann@x.example", day="2026-12-29") is None
    assert table.first(day="2026-12-31", sender="ann@x.example").doc_id == 1  # field order does not matter


def test_a_rolled_back_transaction_leaves_nothing_in_the_index(store):
    ledger = Ledger(store)
    with store.transaction():
        ledger.mark_handled("<kept@x>", RECEIVED, {"outcome": "counted"})
    assert ledger.is_handled("<kept@x>", RECEIVED)
    with pytest.raises(RuntimeError), store.transaction():
        ledger.mark_handled("<lost@x>", RECEIVED, {"outcome": "counted"})
        assert ledger.is_handled("<lost@x>", RECEIVED)  # seen inside its own transaction
        raise RuntimeError("the handling failed")
    assert not ledger.is_handled("<lost@x>", RECEIVED)  # never taken as handled: it will be handled
    assert ledger.is_handled("<kept@x>", RECEIVED)


def test_the_ledger_counts_attempts_and_answers_through_the_index_across_a_reopening(tmp_path):
    with Store(tmp_path, create=True, logged=True) as store:
        ledger = Ledger(store)
        for _ in range(3):
            with store.transaction(durable=False):
                ledger.count_attempt("<m@x>", RECEIVED)
        with store.transaction():
            ledger.set_attempts("<m@x>", RECEIVED, 1)
            ledger.count_answer("ann@x.example", "2026-12-31")
            ledger.count_answer("ann@x.example", "2026-12-31")
            ledger.record_sent("<20261231235800.5f3a9c1e2b7d.qa@wexcombe.example>", {"refs": ["AUD-2026-12-001"]})
    with Store(tmp_path, logged=True) as store:
        ledger = Ledger(store)
        assert ledger.attempts("<m@x>", RECEIVED) == 1
        assert ledger.answers_today("ann@x.example", "2026-12-31") == 2
        assert ledger.sent_mail("20261231235800.5f3a9c1e2b7d.qa@wexcombe.example")["refs"] == ["AUD-2026-12-001"]
        with store.transaction():
            ledger.set_attempts("<m@x>", RECEIVED, 0)
        assert ledger.attempts("<m@x>", RECEIVED) == 0
        assert store.table("ledgers/2026-12", "attempts").all() == []


def test_every_submission_of_one_reference_is_found_as_a_search_finds_them_whatever_the_writes(store):
    table = store.table("months/2026-12", "submissions")
    ref = lambda n: f"AUD-2026-12-{n % 7 + 1:03d}"  # noqa: E731 - seven references, several submissions each
    with store.transaction():
        for n in range(40):
            table.insert({"reference": ref(n), "received_at": f"2026-12-{n % 28 + 1:02d}", "grade": "Good"})
    assert table.where(reference="AUD-2026-12-404") == []
    with store.transaction():
        table.update({"reference": ref(3)}, doc_ids=[table.where(reference=ref(1))[0].doc_id])  # moves
        table.remove(doc_ids=[table.where(reference=ref(2))[-1].doc_id])
        table.insert({"reference": ref(2), "received_at": "2026-12-31", "grade": "Inadequate"})
    for n in range(7):
        found = table.where(reference=ref(n))
        assert found == table.search(Query().reference == ref(n)) and [r.doc_id for r in found] == sorted(
            r.doc_id for r in found)
    two = table.where(reference=ref(2), received_at="2026-12-31")
    assert len(two) == 1 and two[0]["grade"] == "Inadequate"
