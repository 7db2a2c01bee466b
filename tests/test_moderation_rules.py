"""The rules of moderation as pure functions: who moderates, which audits, and how an answer reads."""
import random
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from conftest import issue, letters_to, new_mail, utc
from db.items import ItemRepo
from db.months import MonthRepo
from inbox.moderation_reply import read_moderation
from workflows import moderation
from workflows.answers import Intent
from workflows.items import People
from workflows.roster import Person

SERVICES = ["Children in Care", "Safeguarding and Assessment", "Early Help and Family Support"]


def people(rows: list[tuple[str, str, bool]]) -> People:
    """(email, service, is a moderator) rows as the rules take them."""
    return People({e: Person(e, e.split("@")[0].title(), ("auditor", "moderator") if m else ("auditor",), s, "")
                   for e, s, m in rows}, director="director@wexcombe.example")


rosters = st.lists(st.tuples(st.sampled_from([f"p{i}@wexcombe.example" for i in range(12)]),
                             st.sampled_from(SERVICES), st.booleans()),
                   min_size=1, max_size=12, unique_by=lambda r: r[0])


@settings(max_examples=300, deadline=None)
@given(rosters, st.integers(0, 11), st.dictionaries(st.sampled_from([f"p{i}@wexcombe.example" for i in range(12)]),
                                                    st.integers(0, 5)))
def test_the_moderator_is_never_the_auditor_and_from_another_service_where_one_exists(rows, pick, load):
    roster = people(rows)
    auditor, service, _ = rows[pick % len(rows)]
    chosen = moderation.choose_moderator(auditor, service, roster, Counter(load))
    others = [e for e, s, m in rows if m and e != auditor]
    if not others:
        assert chosen is None
        return
    assert chosen != auditor and chosen in others
    elsewhere = [e for e, s, m in rows if m and e != auditor and s != service]
    if elsewhere:
        assert chosen in elsewhere
        assert load.get(chosen, 0) == min(load.get(e, 0) for e in elsewhere)


def test_the_load_is_balanced_across_moderators():
    rows = [("a@wexcombe.example", SERVICES[0], True), ("b@wexcombe.example", SERVICES[1], True),
            ("c@wexcombe.example", SERVICES[2], True), ("auditor@wexcombe.example", SERVICES[0], False)]
    roster, load = people(rows), Counter()
    for _ in range(31):
        load[moderation.choose_moderator("auditor@wexcombe.example", SERVICES[0], roster, load)] += 1
    # Only b and c are outside the auditor's service; they share the work evenly, a never takes it.
    assert load["a@wexcombe.example"] == 0
    assert abs(load["b@wexcombe.example"] - load["c@wexcombe.example"]) <= 1


def test_the_load_counts_open_moderations_and_this_months_answered_ones():
    records = [{"reference": "MOD-2026-11-001", "moderator": "a", "state": "awaiting_moderator"},
               {"reference": "MOD-2026-11-002", "moderator": "a", "state": "agreed"},      # last month, done
               {"reference": "MOD-2026-12-001", "moderator": "b", "state": "changed"}]
    assert moderation.load_of(records, "2026-12") == Counter({"a": 1, "b": 1})


def test_the_sample_is_the_same_when_replayed_whatever_the_order():
    audits = [f"AUD-2026-12-{n:03d}" for n in range(1, 401)]
    chosen = {a for a in audits if moderation.in_sample("seed-1", a, 25.0)}
    shuffled = audits[:]
    random.Random(7).shuffle(shuffled)
    assert {a for a in shuffled if moderation.in_sample("seed-1", a, 25.0)} == chosen
    assert 0.18 < len(chosen) / len(audits) < 0.32  # about a quarter
    assert chosen != {a for a in audits if moderation.in_sample("seed-2", a, 25.0)}  # the seed matters
    assert not any(moderation.in_sample("seed-1", a, 0) for a in audits)
    assert all(moderation.in_sample("seed-1", a, 100) for a in audits)


def test_every_inadequate_audit_is_chosen_whatever_the_sample():
    assert moderation.selected_because("Inadequate", "s", "AUD-2026-12-001", 0) == "inadequate"
    assert moderation.selected_because("Good", "s", "AUD-2026-12-001", 0) is None
    assert moderation.selected_because("Good", "s", "AUD-2026-12-001", 100) == "sample"


def test_the_service_draws_its_sample_from_the_seed_kept_with_the_month(site):
    auditors = ["aisha.patel", "ben.hartley", "chloe.dunmore", "siobhan.reilly", "hannah.brightwell",
                "owen.tranter", "ruth.castell", "laura.penrose", "neil.ashdown", "yvonne.carr", "tariq.mahmood"]
    csv = "auditor_email,case_ref,audit_type\n" + "".join(
        f"{a}@wexcombe.example,CR-5{n:04d},monthly\n" for n, a in enumerate(auditors))
    issue(site, "2026-12", csv, utc(2026, 12, 1, 8, 30))
    for n, a in enumerate(reversed(auditors)):  # arrival order is not reference order
        at = utc(2026, 12, 14, 10, n)
        ref = f"AUD-2026-12-{len(auditors) - n:03d}"
        site.receive(new_mail(sender=f"{a}@wexcombe.example", subject=f"[{ref}] audit",
                              body="Grade: Good", message_id=f"<m{n}@mail.wexcombe.example>"), at=at)
        site.once(at)
    ctx = site.open(utc(2026, 12, 15), read_only=True)
    try:
        seed = MonthRepo(ctx.store, "2026-12").seed("moderation", lambda: pytest.fail("the seed was not kept"))
        asked = {r["audit"] for r in ItemRepo(ctx.store).all(moderation.KIND)}
    finally:
        ctx.close()
    expected = {f"AUD-2026-12-{n:03d}" for n in range(1, len(auditors) + 1) if moderation.in_sample(seed, f"AUD-2026-12-{n:03d}", 25)}
    assert asked == expected
    assert len(sum((letters_to(site, m, "Moderation of audit") for m in
                    ("gareth.lyle@wexcombe.example", "samir.haddad@wexcombe.example",
                     "kieran.molloy@wexcombe.example", "priya.ramsden@wexcombe.example")), [])) == len(expected)


TODAY = date(2026, 12, 15)


@pytest.mark.parametrize(("text", "intent", "grade", "comment"), [
    ("Agree", Intent.YES, None, ""),
    ("Agreed, thanks.", Intent.YES, None, ""),
    ("I agree with the grade.", Intent.YES, None, ""),
    ("Grade: Good\nThe plan is clear and the child's views are recorded.", Intent.NO, "Good",
     "The plan is clear and the child's views are recorded."),
    ("Grade: RI - no chronology on file", Intent.NO, "Requires improvement", "no chronology on file"),
    ("Hi Priya,\n\nGrade: requires improvement to be good\nNo chronology.\n\nKind regards\nGareth",
     Intent.NO, "Requires improvement", "No chronology."),
    ("Moderated grade: Outstanding\nExemplary direct work.", Intent.NO, "Outstanding", "Exemplary direct work."),
])
def test_a_moderators_answer_is_read(text, intent, grade, comment):
    read = read_moderation(text, "", TODAY)
    assert read.reading.intent is intent and read.grade == grade
    if comment:
        assert read.reading.comment == comment


@pytest.mark.parametrize(("text", "why"), [
    ("Grade: Good", "needs a comment"),
    ("Grade: Good\n\nKind regards\nGareth", "needs a comment"),
    ("Agree\nGrade: Good\nActually it is better than that.", "both agrees and gives a new grade"),
    ("Grade: Good\nGrade: Inadequate\nNot sure.", "more than one grade"),
    ("Grade: Brilliant\nLovely work.", "is not a grade"),
    ("I don't agree", "reply Grade: <grade>"),
    ("Can we talk about this one?", ""),
])
def test_anything_else_decides_nothing(text, why):
    read = read_moderation(text, "", TODAY)
    assert read.reading.intent is Intent.UNCLEAR and why in read.reading.reason and read.grade is None


def test_a_grade_typed_among_the_quoted_lines_is_not_guessed_at():
    read = read_moderation("See below.", "Grade: Good\nfine", TODAY)
    assert read.reading.intent is Intent.UNCLEAR
