"""What the letter tests share: the sample council's letterhead, a fixed clock, and how a reader sees a letter.

The `composer` fixture built from LETTERHEAD lives in conftest.py; the mailbox address is conftest's MAILBOX.
"""

from __future__ import annotations

import html as htmllib
import re
from datetime import datetime
from zoneinfo import ZoneInfo

from mailer.compose import Composer

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=LONDON)
LETTERHEAD = dict(
    organisation="Wexcombe County Council",
    department="Children's Safeguarding and Care",
    director_name="Imogen Thackeray",
    director_title="Director of Children's Safeguarding",
    address_lines=("County Hall", "Market Street", "Wexcombe", "WX1 4AB"),
    phone="01632 960 418",
    email="imogen.thackeray@wexcombe.example",
    please_ask_for="Imogen Thackeray",
    our_ref_prefix="IT/qa",
)
# What the Composer adds to every context (a caller may set salutation), and the paragraph styles
# base.html.j2 sets.
SUPPLIED = {"letterhead", "organisation", "mailbox_address", "salutation", "signatory_name",
            "signatory_title", "our_ref", "letter_date", "contact_email", "writer"}


def render(composer: Composer, template: str, context: dict, **overrides) -> tuple[str, str]:
    """The text and HTML parts of `template` rendered with `context` (changed by `overrides`) at NOW."""
    return composer.render(template, {**context, **overrides}, now=NOW)


def body(part: str) -> str:
    """The letter between the salutation and the sign-off."""
    return part.split("Dear ", 1)[1].split("Yours sincerely", 1)[0]


def words(text: str) -> str:
    """Plain text with whitespace collapsed and typographic quotes made plain."""
    text = text.replace("\u2019", "'").replace("\u201c", '"').replace("\u201d", '"')
    return " ".join(text.split())


def readable(html: str) -> str:
    """What a reader sees in the HTML part: block tags break words, inline tags do not."""
    html = re.sub(r"<li\b[^>]*>", " - ", html)  # the text part writes list items as "  - item"
    html = re.sub(r"<(?:/?(?:p|li|ul|td|th|tr|table)\b[^>]*|br\s*/?)>", " ", html)
    html = re.sub(r"<[^>]+>", "", html)
    return words(htmllib.unescape(html))
