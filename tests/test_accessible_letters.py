"""Every HTML letter meets the WCAG 2.1 AA points a screen reader and a tired eye need most.

Data tables (those with header cells) are real tables, not role="presentation"; the letter's
heading is a heading element, not a bold paragraph; and no text colour is below 4.5:1 on white.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from letters import NOW
from test_quoted_letters import INTAKE
from test_cycle_letters import contexts as cycle_contexts
from test_request_letters import contexts as request_contexts
from test_director_letter import contexts as director_contexts
from test_digests_letters import contexts as digest_and_action_contexts  # issue 9: digests/, actions/

import templates

TEMPLATES = Path(templates.__file__).parent
REGISTERED = {**{f"cycle/{n}": c for n, c in cycle_contexts().items()}, **request_contexts(), **INTAKE,
              **director_contexts(), **digest_and_action_contexts()}
# -- the monthly QA report (issue 9) --
from test_report_letters import contexts as report_contexts  # noqa: E402
REGISTERED.update(report_contexts())
TEXT_COLOUR = re.compile(r"(?<![-\w])color\s*:\s*#([0-9a-f]{6}|[0-9a-f]{3})\b", re.I)


def test_every_html_template_is_checked():
    on_disk = {str(p.relative_to(TEMPLATES))[:-len(".html.j2")] for p in TEMPLATES.rglob("*.html.j2")} - {"base"}
    assert on_disk <= set(REGISTERED), f"templates with no sample context: {sorted(on_disk - set(REGISTERED))}"


class Structure(HTMLParser):
    """Tables with their role and whether they hold header cells; headings; bold-only paragraphs."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self.open_tables: list[dict] = []
        self.headings: list[str] = []
        self.bold_paragraphs = 0
        self._bold_text: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            table = {"role": attrs.get("role"), "th": False}
            self.tables.append(table)
            self.open_tables.append(table)
        elif tag == "th" and self.open_tables:
            self.open_tables[-1]["th"] = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(tag)
        elif tag == "p" and "font-weight:bold" in (attrs.get("style") or "").replace(" ", ""):
            self._bold_text = ""

    def handle_data(self, data):
        if self._bold_text is not None:
            self._bold_text += data

    def handle_endtag(self, tag):
        if tag == "table" and self.open_tables:
            self.open_tables.pop()
        elif tag == "p" and self._bold_text is not None:
            # The signatory's name is bold text; a bold "Re: …" line is a heading in disguise.
            self.bold_paragraphs += self._bold_text.strip().startswith("Re:")
            self._bold_text = None


def contrast_on_white(hex_colour: str) -> float:
    """WCAG 2.1 contrast ratio of a colour against white."""
    if len(hex_colour) == 3:
        hex_colour = "".join(c * 2 for c in hex_colour)

    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(hex_colour[i:i + 2], 16)) for i in (0, 2, 4))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


@pytest.mark.parametrize("name", sorted(REGISTERED))
def test_data_tables_headings_and_contrast(composer, name):
    html = composer.render(name, REGISTERED[name], now=NOW)[1]
    page = Structure()
    page.feed(html)
    for table in page.tables:
        assert not (table["th"] and table["role"] == "presentation"), f"{name}: a data table marked presentation"
    assert page.bold_paragraphs == 0, f"{name}: a bold paragraph standing in for a heading"
    if "Re:" in html:
        assert "h1" in page.headings, f"{name}: its Re: line is not a heading element"
    for colour in TEXT_COLOUR.findall(html):  # text colours only: background-color is not matched
        assert contrast_on_white(colour) >= 4.5, f"{name}: #{colour} is {contrast_on_white(colour):.2f}:1"


def test_the_contrast_check_can_fail():
    assert contrast_on_white("777777") < 4.5 <= contrast_on_white("595959")
