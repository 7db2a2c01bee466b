"""Properties every letter must have, checked for each template of the monthly cycle and of the requests.

The contexts come from each family's own registry: `contexts()` in test_cycle_letters.py (templates
under cycle/) and in test_request_letters.py (exemption/, approvals/ and slippage/). Where the two
families' rules differ in a detail, each keeps its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import jinja2
import pytest
from jinja2 import meta, nodes

from letters import NOW, SUPPLIED, body, readable, render, words
from test_cycle_letters import contexts as cycle_contexts
from test_request_letters import contexts as request_contexts


def ends_with_reply_and_say(last: str) -> None:
    assert "reply" in last and "say" in last, last


def ends_with_say_so(last: str) -> None:
    assert "say so" in last, last


@dataclass(frozen=True)
class Family:
    prefix: str  # the template folder the registry's names leave out
    contexts: Callable[[], dict[str, dict]]
    exempt: frozenset[str]  # given values a template may leave unused, as the Composer supplies them
    closing: Callable[[str], None]  # what the last paragraph must say


CYCLE = Family("cycle/", cycle_contexts, frozenset({"mailbox_address"}), ends_with_reply_and_say)
REQUESTS = Family("", request_contexts, frozenset(SUPPLIED), ends_with_say_so)

LETTERS = [pytest.param(family, name, id=family.prefix + name)
           for family in (CYCLE, REQUESTS) for name in sorted(family.contexts())]


def render_letter(composer, family: Family, name: str) -> tuple[str, str]:
    return render(composer, family.prefix + name, family.contexts()[name])


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_both_parts_say_the_same_words(composer, family, name):
    text, html = render_letter(composer, family, name)
    assert words(body(text)) == readable(body(html))


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_each_template_uses_exactly_the_values_it_is_given(composer, family, name):
    given = set(family.contexts()[name])
    for ext in ("txt", "html"):
        path = f"{family.prefix}{name}.{ext}.j2"
        source = composer.env.loader.get_source(composer.env, path)[0]
        tree = composer.env.parse(source)
        # Names the template sets itself at its top level (NB, keep, STATUS, and_list, KIND) show as
        # undeclared inside blocks; the paragraph styles s_* come from base.html.j2.
        own = {a.target.name for a in tree.find_all(nodes.Assign) if isinstance(a.target, nodes.Name)}
        own |= {m.name for m in tree.find_all(nodes.Macro)}
        used = {v for v in meta.find_undeclared_variables(tree) if not v.startswith("s_")} - own
        assert used - SUPPLIED <= given, f"{path} uses values it is not given: {used - SUPPLIED - given}"
        assert given - family.exempt <= used, f"{path} ignores {given - used}"


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_a_missing_value_is_an_error_not_a_blank(composer, family, name):
    for key in set(family.contexts()[name]) - family.exempt:  # the Composer supplies these
        context = family.contexts()[name]
        del context[key]
        # The date filters refuse an undefined value with a TypeError before Jinja can.
        with pytest.raises((jinja2.UndefinedError, TypeError)):
            composer.render(family.prefix + name, context, now=NOW)


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_html_is_built_for_outlook(composer, family, name):
    _, html = render_letter(composer, family, name)
    lowered = html.lower()
    for forbidden in ("<script", "<style", "<link", "<img", "class="):
        assert forbidden not in lowered
    assert re.findall(r"<p(?=[\s>])(?![^>]*style=)", html) == []  # every paragraph carries its own style
    assert re.findall(r"<t[dh](?=[\s>])(?![^>]*style=)", html) == []


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_text_prose_is_wrapped(composer, family, name):
    text, _ = render_letter(composer, family, name)
    assert max(len(line) for line in body(text).splitlines()) <= 80


@pytest.mark.parametrize(("family", "name"), LETTERS)
def test_every_letter_ends_with_how_to_say_something_is_wrong(composer, family, name):
    text, html = render_letter(composer, family, name)
    html_paragraphs = re.findall(r"<p\b[^>]*>(.*?)</p>", body(html), flags=re.DOTALL)
    for last in (words(body(text).strip().split("\n\n")[-1]), readable(html_paragraphs[-1])):
        family.closing(last)
        assert len(last) < 160, last
