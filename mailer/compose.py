"""Composing outgoing letters: one Jinja2 environment, one letterhead, text and HTML from the same data.

Every letter the service sends is built here, so the headers that keep auto-replies quiet and
replies threaded are set in one place. Composing is pure: the clock is passed in as `now`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, getaddresses
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import templates
from core.ids import new_message_id
from core.mail_policy import MAIL_POLICY
from core.text import printable, valid_message_id
from mailer.dates import deadline_words, long_date, long_weekday_date
from core.letter import OutgoingAttachment
from core.letterhead import Letterhead

TEMPLATE_DIR = Path(templates.__file__).parent
# The default policy folds a header line at 78 characters by turning a long word into an RFC 2047
# encoded word; Exchange's Message-IDs are long words, and an encoded In-Reply-To breaks threading.
# RFC 5322 allows 998, and Message-IDs are never that long.
MESSAGE_POLICY = MAIL_POLICY.clone(max_line_length=998)



@functools.lru_cache(maxsize=None)
def template_environment(folder: str) -> Environment:
    """The Jinja2 environment for a template folder, built once per process (it compiles and caches
    each template; rebuilding it every pass cost ~40 ms and threw that cache away)."""
    env = Environment(
        loader=FileSystemLoader(folder),
        # HTML templates escape every value; plain text must show "<b>" exactly as given.
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        # A missing value is a bug in the caller, not a blank gap in a letter to a colleague.
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(long_date=long_date, long_weekday_date=long_weekday_date, deadline_words=deadline_words)
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
    ) -> EmailMessage:
        """A complete message ready for the outbox: headers, text and HTML parts, attachments."""
        if "\n" in subject or "\r" in subject:
            raise ValueError(f"subject contains a line break: {subject!r}")
        subject = printable(subject, SUBJECT_LIMIT)  # a name or reference from outside may carry a NUL
        if isinstance(to, str) or isinstance(cc, str):
            # A bare string would be iterated one character at a time into nonsense addresses.
            raise TypeError("to and cc must be sequences of addresses, not a string")
        if not to:
            raise ValueError("a letter needs at least one recipient")
        if self._to_the_director(to):
            # A letter to the Director is from the QA team: their heading and their signature.
            context = {"writer": "qa", "signatory_name": "The Quality Assurance Team",
                       "signatory_title": self.letterhead.organisation, **context}
        text, html = self.render(template, context, now=now)

        msg = EmailMessage(policy=MESSAGE_POLICY)
        msg["From"] = formataddr((self.mailbox_name, self.mailbox_address))
        msg["To"] = ", ".join(to)
        if cc:
            msg["Cc"] = ", ".join(cc)
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = new_message_id(now, self.domain)
        if in_reply_to and valid_message_id(in_reply_to):
            msg["In-Reply-To"] = _bracketed(in_reply_to)
        thread = _thread(references, in_reply_to)
        if thread:
            msg["References"] = " ".join(thread)
        msg["MIME-Version"] = "1.0"
        # Tells Exchange and well-behaved clients not to send out-of-office replies back to us,
        # which would otherwise arrive in the shared mailbox and need triage. No "Precedence: bulk":
        # Outlook treats it as list mail and hides things people need to see.
        msg["Auto-Submitted"] = "auto-generated"
        msg["X-Auto-Response-Suppress"] = "All"

        # Quoted-printable keeps the stored copy in sent/ readable and survives any relay.
        msg.set_content(text, subtype="plain", charset="utf-8", cte="quoted-printable")
        msg.add_alternative(html, subtype="html", charset="utf-8", cte="quoted-printable")
        inline = [a for a in attachments if a.inline_id]
        if inline:
            _attach_inline(msg.get_payload()[1], inline)  # the HTML part becomes multipart/related
        for attachment in attachments:
            if not attachment.inline_id:
                _attach(msg, attachment)  # turns multipart/alternative into multipart/mixed
        # Set last: turning a message multipart moves every Content-* header into the first part.
        msg["Content-Language"] = "en-GB"
        return msg

    def _to_the_director(self, to: Sequence[str]) -> bool:
        director = self.letterhead.email.strip().lower()
        return any(address.strip().lower() == director for _, address in getaddresses(list(to)))

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


def reply_subject(subject: str) -> str:
    """"Re: <subject>", with any run of existing Re:/RE:/AW:/SV: prefixes collapsed into one."""
    rest = _REPLY_PREFIX.sub("", subject, count=1)
    return f"Re: {rest.strip()}".rstrip()


def _bracketed(message_id: str) -> str:
    mid = message_id.strip()
    if not mid or any(c.isspace() for c in mid):
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


def _quotable(value):
    """The context with control characters removed from every text value and each cut to a sane length."""
    if isinstance(value, str):
        return printable(value, CONTEXT_VALUE_LIMIT)
    if isinstance(value, dict):
        return {key: _quotable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_quotable(item) for item in value)
    return value


def _attach(msg: EmailMessage, attachment: OutgoingAttachment) -> None:
    # Let the email package parse "text/calendar; method=PUBLISH" rather than splitting by hand.
    probe = EmailMessage(policy=MAIL_POLICY)
    probe["Content-Type"] = attachment.content_type
    if probe["Content-Type"].defects or "/" not in attachment.content_type.split(";")[0]:
        # The email package would quietly fall back to text/plain; a wrong type is a caller bug.
        raise ValueError(f"bad content type {attachment.content_type!r} for {attachment.filename}")
    maintype, subtype = probe.get_content_maintype(), probe.get_content_subtype()
    params = dict(probe["Content-Type"].params)
    msg.add_attachment(
        attachment.data,
        maintype=maintype,
        subtype=subtype,
        filename=attachment.filename,
        params=params or None,
    )


# --- images the HTML shows inline (<img src="cid:…">), e.g. the monthly report's charts ------------

def _attach_inline(html_part: EmailMessage, images: Sequence[OutgoingAttachment]) -> None:
    """Put each image beside the HTML in a multipart/related part, so Outlook shows it in place.

    text/plain stays the first alternative on its own: a client that shows text never sees the images.
    """
    for image in images:
        maintype, _, subtype = image.content_type.partition("/")
        if maintype != "image" or not subtype or ";" in subtype:
            raise ValueError(f"an inline part must be an image, not {image.content_type!r} ({image.filename})")
        cid = image.inline_id.strip().strip("<>")
        if not valid_message_id(f"<{cid}>"):
            raise ValueError(f"not a usable Content-ID: {image.inline_id!r}")
        html_part.add_related(image.data, maintype=maintype, subtype=subtype, cid=f"<{cid}>",
                              filename=image.filename, disposition="inline")
