"""Composing outgoing letters: one Jinja2 environment, one letterhead, text and HTML from the same data.

Every letter the service sends is built here, so the headers that keep auto-replies quiet and
replies threaded are set in one place. Composing is pure: the clock is passed in as `now`.
Every letter, attachments and inline images included, is written as bytes directly (letter_bytes.py);
the email package's build (letter_message.py) is kept as the reference both must read the same as.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import templates
from core.ids import new_message_id
from core.text import BIDI_CONTROLS, printable, valid_message_id
from core.letter import OutgoingAttachment
from core.letterhead import Letterhead
from mailer.dates import deadline_words, long_date, long_weekday_date
from mailer.letter_bytes import ComposedLetter, composed_letter
from mailer.template_cache import template_cache
from mailer.wrap import wordwrap

TEMPLATE_DIR = Path(templates.__file__).parent


@functools.lru_cache(maxsize=None)
def template_environment(folder: str, cache_folder: str | None = None) -> Environment:
    """The Jinja2 environment for a template folder, built once per process (it compiles and caches
    each template; rebuilding it every pass cost ~40 ms and threw that cache away). What it compiles is
    kept between processes too (mailer/template_cache.py), so `issue` in its own process does not pay it."""
    env = Environment(
        loader=FileSystemLoader(folder),
        bytecode_cache=template_cache(cache_folder),  # Jinja2's own folder unless given (tests give one)
        # HTML templates escape every value; plain text must show "<b>" exactly as given.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        # A missing value is a bug in the caller, not a blank gap in a letter to a colleague.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates change with the package, and a new package means a new process: no need to
        # look at each template file's time again at every letter (two or three stats a letter).
        auto_reload=False,
    )
    env.filters.update(long_date=long_date, long_weekday_date=long_weekday_date, deadline_words=deadline_words,
                       wordwrap=wordwrap)  # Jinja2's own, word for word, at a fraction of the cost (mailer/wrap.py)
    return env


class Composer:
    """Renders letters from templates/ and wraps them as RFC 5322 messages from the shared mailbox."""

    def __init__(self, letterhead: Letterhead, mailbox_address: str, mailbox_name: str = "QA Audits"):
        if "@" not in mailbox_address:
            raise ValueError(f"mailbox address {mailbox_address!r} has no domain")
        self.letterhead = letterhead
        self.mailbox_address = mailbox_address
        self.mailbox_name = mailbox_name
        # Message-IDs on our own domain let replies be matched to what we sent.
        self.domain = mailbox_address.rsplit("@", 1)[1]
        self.env = template_environment(str(TEMPLATE_DIR))
        self._from = formataddr((mailbox_name, mailbox_address))  # the same on every letter

    def render(self, template: str, context: dict, *, now: datetime | None = None) -> tuple[str, str]:
        """(plain text, html) from `template`.txt.j2 and .html.j2, with the letterhead values added.

        The letter is dated `now` when given; otherwise the context must carry `letter_date`.
        """
        full = self._context(context, now)
        text = self.env.get_template(f"{template}.txt.j2").render(full)
        html = self.env.get_template(f"{template}.html.j2").render(full)
        return text, html

    def letter(
        self,
        template: str,
        *,
        to: Sequence[str],
        subject: str,
        context: dict,
        now: datetime,
        cc: Sequence[str] = (),
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
        attachments: Sequence[OutgoingAttachment] = (),
    ) -> ComposedLetter:
        """A complete message ready for the outbox: headers, text and HTML parts, attachments."""
        headers = self.headers(to=to, subject=subject, now=now, cc=cc, in_reply_to=in_reply_to,
                               references=references)
        if self._to_the_director(to):
            # A letter to the Director is from the QA team: their heading and their signature.
            context = {"writer": "qa", "signatory_name": "The Quality Assurance Team",
                       "signatory_title": self.letterhead.organisation, **context}
        text, html = self.render(template, context, now=now)
        # Written as bytes directly: the message the email package built, at a fraction of the cost.
        return composed_letter(headers, text, html, attachments)

    def headers(
        self,
        *,
        to: Sequence[str],
        subject: str,
        now: datetime,
        cc: Sequence[str] = (),
        in_reply_to: str | None = None,
        references: Sequence[str] = (),
    ) -> list[tuple[str, str]]:
        """The headers every letter carries, in order, with a new Message-ID; refuses a bad subject or recipients."""
        if "\n" in subject or "\r" in subject:
            raise ValueError(f"subject contains a line break: {subject!r}")
        if len(subject) > SUBJECT_LIMIT or _NOT_AS_IS.search(subject):
            subject = printable(subject, SUBJECT_LIMIT)  # a name or reference from outside may carry a NUL
        if isinstance(to, str) or isinstance(cc, str):
            # A bare string would be iterated one character at a time into nonsense addresses.
            raise TypeError("to and cc must be sequences of addresses, not a string")
        if not to:
            raise ValueError("a letter needs at least one recipient")
        headers = [("From", self._from), ("To", ", ".join(to))]
        if cc:
            headers.append(("Cc", ", ".join(cc)))
        headers += [("Subject", subject), ("Date", format_datetime(now)),
                    ("Message-ID", new_message_id(now, self.domain))]
        if in_reply_to and valid_message_id(in_reply_to):
            headers.append(("In-Reply-To", _bracketed(in_reply_to)))
        thread = _thread(references, in_reply_to)
        if thread:
            headers.append(("References", " ".join(thread)))
        # Auto-Submitted and X-Auto-Response-Suppress tell Exchange and well-behaved clients not to send
        # out-of-office replies back to us, which would otherwise arrive in the shared mailbox and need
        # triage. No "Precedence: bulk": Outlook treats it as list mail and hides things people need to see.
        return headers + [("MIME-Version", "1.0"), ("Auto-Submitted", "auto-generated"),
                          ("X-Auto-Response-Suppress", "All"), ("Content-Language", "en-GB")]

    def _to_the_director(self, to: Sequence[str]) -> bool:
        return self.letterhead.email.strip().lower() in _addresses(tuple(to))

    def _context(self, context: dict, now: datetime | None) -> dict[str, Any]:
        # The caller's values win, so a template can be rendered with a fixed letter_date;
        # but when the letter is being sent, its date is always the moment it was composed.
        lh = self.letterhead
        full: dict[str, Any] = {
            "letterhead": lh,
            "organisation": lh.organisation,
            "mailbox_address": self.mailbox_address,
            "contact_email": lh.contact_email or self.mailbox_address,
            "writer": "director",
            "salutation": "Colleague",
            "signatory_name": lh.director_name,
            "signatory_title": lh.director_title,
            "our_ref": lh.our_ref(context.get("reference")),
            **_quotable(context),
        }
        if now is not None:
            full["letter_date"] = now
        return full


_REPLY_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv)\s*(?:\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Any character str.isspace() counts (re's \s for str patterns is the same set), found in C.
_SPACE = re.compile(r"\s")


def reply_subject(subject: str) -> str:
    """"Re: <subject>", with any run of existing Re:/RE:/AW:/SV: prefixes collapsed into one."""
    rest = _REPLY_PREFIX.sub("", subject, count=1)
    return f"Re: {rest.strip()}".rstrip()


# A bare address of dot-separated atoms: what getaddresses would give back exactly as written.
PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9_+-]+(?:\.[A-Za-z0-9_+-]+)*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\Z")


@functools.lru_cache(maxsize=1024)
def _addresses(to: tuple[str, ...]) -> frozenset[str]:
    """The addresses of a letter's recipients, lower-cased: bare addresses (nearly every letter: the roster's)
    as they are, anything else parsed, once per distinct list (getaddresses is ~20 us a letter)."""
    if all(PLAIN_ADDRESS.match(address) for address in to):
        return frozenset(address.lower() for address in to)
    return frozenset(address.strip().lower() for _, address in getaddresses(list(to)))


def _bracketed(message_id: str) -> str:
    mid = message_id.strip()
    if not mid or _SPACE.search(mid):
        raise ValueError(f"not a Message-ID: {message_id!r}")
    return mid if mid.startswith("<") and mid.endswith(">") else f"<{mid.strip('<>')}>"


def _thread(references: Sequence[str], in_reply_to: str | None) -> list[str]:
    """References followed by the message being answered, each once, order kept, on one line of at most 998.

    Ids come from the sender's headers: an invalid or oversized one is dropped rather than repeated.
    When the line would be too long, the thread's first id and its newest ones are kept (RFC 5322 3.6.4).
    """
    given = [*references, *([in_reply_to] if in_reply_to else [])]
    ids = list(dict.fromkeys(_bracketed(i) for i in given if valid_message_id(i)))
    room = REFERENCES_ROOM
    if len(" ".join(ids)) <= room:
        return ids
    first, newest = ids[0], []
    room -= len(first)
    for mid in reversed(ids[1:]):
        if len(mid) + 1 > room:
            break
        newest.insert(0, mid)
        room -= len(mid) + 1
    return [first, *newest]


# A subject says what a letter is about in a few words; one built from outside text is cut.
SUBJECT_LIMIT = 250
# "References: " takes 12 of the 998 characters a header line may have.
REFERENCES_ROOM = 998 - len("References: ")
# The most of one value of the caller's context a letter will show: a safety net under the tighter
# limits where a sender's words are quoted, so no message can make the service send megabytes back.
CONTEXT_VALUE_LIMIT = 4000


# What `printable` would change in a text: a control character (Unicode's Cc is exactly these two
# ranges) other than a tab or line feed, a carriage return among them, or a bidi override.
_NOT_AS_IS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + re.escape("".join(sorted(BIDI_CONTROLS))) + "]")


def _quotable(value):
    """The context with control characters removed from every text value and each cut to a sane length."""
    if isinstance(value, str):
        if len(value) <= CONTEXT_VALUE_LIMIT and not _NOT_AS_IS.search(value):
            return value  # nearly every value: `printable` would give it back unchanged, one character at a time
        return printable(value, CONTEXT_VALUE_LIMIT)
    if isinstance(value, dict):
        return {key: _quotable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_quotable(item) for item in value)
    return value
