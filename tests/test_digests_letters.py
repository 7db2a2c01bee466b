"""The digests' and remedial actions' letters, as their readers see them, and the digests at scale.

`contexts()` holds a sample context for each template under digests/ and actions/ (test_accessible_letters.py
checks them too). The digests are also built from plain data (workflows/digests.py) and rendered for an
empty month and for a month of 500 audits.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import jinja2
import pytest
from jinja2 import meta, nodes

from letters import LONDON, NOW, SUPPLIED, body, readable, render, words
from workflows.calendar import WorkingCalendar
from workflows.digests import MAX_ROWS, QaFacts, Waiting, build_hos_digest, build_qa_digest
from workflows.items import People
from workflows.roster import Person

AT = datetime(2026, 12, 3, 10, 2, tzinfo=timezone.utc)
SECTIONS = [{"title": "New submissions", "rows": ["AUD-2026-12-001: Good, from Aisha Patel at 10:02 Thu 03 Dec"],
             "more": 0},
            {"title": "Decisions refused", "rows": ["10:02 Thu 03 Dec: EXM-2026-12-001: decision from x@y refused"],
             "more": 3}]


def contexts() -> dict[str, dict]:
    """A sample context for each template, by its name under templates/."""
    action = dict(reference="ACT-2026-12-001", audit="AUD-2026-12-001", case_ref="CR-40117")
    return {
        "digests/qa": dict(salutation="Colleagues", since=AT, sections=SECTIONS),
        "digests/hos": dict(person_name="Marcus", service="Children in Care", month_name="December 2026",
                            sections=SECTIONS),
        "actions/alert": dict(action, salutation="Colleagues", auditor_name="Aisha Patel",
                              auditor_service="Children in Care", details="No visit since October.\nPlan out of date.",
                              received_at=AT, grade="Inadequate", owner_name="Gareth Lyle", due=date(2026, 12, 17)),
        "actions/details_needed": dict(action, person_name="Ben", owner_name="Marcus Ellery"),
        "actions/overdue": dict(action, person_name="Gareth", due=date(2026, 12, 17), working_days_late=2,
                                details="No visit since October."),
        "actions/done": dict(action, salutation="Colleagues", done_by="Gareth Lyle", done_at=AT,
                             note="Home visit made on 4 December; plan reviewed."),
    }


NAMES = sorted(contexts())


@pytest.mark.parametrize("name", NAMES)
def test_both_parts_say_the_same_words_wrapped_and_built_for_outlook(composer, name):
    text, html = render(composer, name, contexts()[name])
    assert words(body(text)) == readable(body(html))
    lowered = html.lower()
    for forbidden in ("<script", "<style", "<link", "<img", "class=", "http://", "https://"):
        assert forbidden not in lowered
    assert re.findall(r"<p(?=[\s>])(?![^>]*style=)", html) == []
    prose = [line for line in body(text).splitlines() if not line.startswith("  - ")]   # digest rows are data
    assert max(len(line) for line in prose) <= 80
    assert "say so" in words(body(text).strip().split("\n\n")[-1])


@pytest.mark.parametrize("name", NAMES)
def test_each_template_uses_exactly_the_values_it_is_given(composer, name):
    given = set(contexts()[name])
    for ext in ("txt", "html"):
        tree = composer.env.parse(composer.env.loader.get_source(composer.env, f"{name}.{ext}.j2")[0])
        own = {a.target.name for a in tree.find_all(nodes.Assign) if isinstance(a.target, nodes.Name)}
        own |= {m.name for m in tree.find_all(nodes.Macro)} | {"section", "row"}
        used = {v for v in meta.find_undeclared_variables(tree) if not v.startswith("s_")} - own
        assert used - SUPPLIED <= given, f"{name}.{ext} uses values it is not given: {used - SUPPLIED - given}"
        assert given - {"salutation"} <= used, f"{name}.{ext} ignores {given - used}"
    for key in given - {"salutation"}:
        with pytest.raises((jinja2.UndefinedError, TypeError)):
            composer.render(name, {k: v for k, v in contexts()[name].items() if k != key}, now=NOW)


def test_the_alert_names_the_action_its_owner_due_date_and_how_to_close_it(composer):
    text, html = render(composer, "actions/alert", contexts()["actions/alert"])
    for part in (words(text), readable(html)):
        for value in ("ACT-2026-12-001", "AUD-2026-12-001", "CR-40117", "owned by Gareth Lyle",
                      "due by Thursday 17th December 2026", "with the word Done", "No visit since October."):
            assert value in part, value
    assert "actioned as soon as possible" in words(text), "the letter's own words on remedial action"


def test_the_alert_escapes_the_auditors_words_in_html_and_keeps_their_lines(composer):
    context = dict(contexts()["actions/alert"], details="The plan has no contingency.\nPlease review it <b>this week</b>.")
    text, html = render(composer, "actions/alert", context)
    assert "Please review it <b>this week</b>." in text
    assert "Please review it &lt;b&gt;this week&lt;/b&gt;." in html and "<b>this" not in html
    assert "contingency.<br>Please" in html


# --- the digests at scale ---------------------------------------------------------------------------

ROSTER = [Person(f"auditor{n:03d}@wexcombe.example", f"Auditor {n:03d}", ("auditor",), "Children in Care",
                 "marcus.ellery@wexcombe.example") for n in range(500)]
PEOPLE = People({p.email: p for p in ROSTER}, director="imogen.thackeray@wexcombe.example")
CALENDAR = WorkingCalendar()
MORNING = datetime(2027, 1, 4, 8, 5, tzinfo=LONDON)


def month_of_500():
    allocations = [{"reference": f"AUD-2026-12-{n + 1:03d}", "auditor": p.email, "case_ref": f"CR-{50000 + n}",
                    "audit_type": "monthly", "month": "2026-12", "head_of_service": p.head_of_service}
                   for n, p in enumerate(ROSTER)]
    submissions = {a["reference"]: [{"reference": a["reference"], "received_at": (AT + timedelta(minutes=n)).isoformat(),
                                     "from": a["auditor"], "grade": "Good", "counts": n % 7 != 0,
                                     "replaces_earlier": False}]
                   for n, a in enumerate(allocations) if n % 5}
    return allocations, submissions


def test_the_digests_render_for_an_empty_month(composer):
    assert build_qa_digest(QaFacts(since=MORNING - timedelta(days=1), now=MORNING), PEOPLE, CALENDAR) == []
    assert build_hos_digest("2026-12", [], {}, [], [], PEOPLE, CALENDAR, MORNING) == []
    for name in ("digests/qa", "digests/hos"):   # never sent empty, but an empty one still renders
        text, html = render(composer, name, contexts()[name], sections=[])
        assert "Dear" in text and "<script" not in html


def test_the_digests_render_for_500_audits_with_long_sections_cut_and_counted(composer):
    allocations, submissions = month_of_500()
    facts = QaFacts(since=AT - timedelta(hours=1), now=MORNING,
                    submissions=[s for subs in submissions.values() for s in subs],
                    waiting=[Waiting("exemption", f"EXM-2026-12-{n:03d}", f"EXM-2026-12-{n:03d}",
                                     ("marcus.ellery@wexcombe.example",), AT) for n in range(1, 151)],
                    triage=[{"at": AT.isoformat(), "key": str(n), "note": f"mail from x{n}@outside.example, who is not "
                                                                           "on the roster, subject: Hello"}
                            for n in range(300)])
    sections = {s.key: s for s in build_qa_digest(facts, PEOPLE, CALENDAR)}
    assert len(sections["submissions"].rows) + sections["submissions"].more == 400 - len(sections["late"].rows)
    assert len(sections["outsiders"].rows) == MAX_ROWS and sections["outsiders"].more == 200
    text, html = render(composer, "digests/qa", contexts()["digests/qa"],
                        sections=[{"title": s.title, "rows": list(s.rows), "more": s.more} for s in sections.values()])
    assert "and 200 more" in text and "and 200 more" in readable(html)
    assert "<script" not in html.lower() and "http://" not in html.lower() and "https://" not in html.lower()
    assert words(body(text)) == readable(body(html))
    hos = build_hos_digest("2026-12", allocations, submissions, [], [], PEOPLE, CALENDAR, MORNING)
    titles = {s.key: s for s in hos}
    # In January, December's audits not received were missed: not "not yet submitted".
    assert len(titles["missed"].rows) == MAX_ROWS and titles["missed"].more == 0 and "not_submitted" not in titles
    render(composer, "digests/hos", contexts()["digests/hos"],
           sections=[{"title": s.title, "rows": list(s.rows), "more": s.more} for s in hos])
