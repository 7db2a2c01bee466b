"""The newest text of a reply: what the sender wrote now, without the history their client quoted.

Clients mark quoted history in many ways, in many languages (inbox/quote_headers.py knows them):
a "From: … Sent: …" block (Outlook, in the sender's language, sometimes starting with the date),
a separator line ("-----Original Message-----", "-----Reply Message-----"), an attribution
("On … wrote:", Zoho's "---- On … wrote ----", "Am … schrieb …:", wrapped over two or three lines),
">" in front of each quoted line, or "Get Outlook for iOS" under what was typed. Everything from
the first such marker down is history.

And whatever the client did, our own letter is never the sender's text: its letterhead lines
("Please ask for:", "Our Ref:") and its footer mark where a copy of it begins, even under a quote
header nobody recognised.
"""
import re

from inbox.quote_headers import attribution_at, header_block_at, is_marker_line

# Lines only our own letters carry (templates/base.*.j2 writes them): a copy of one of our letters
# starts no later than these, whatever the client put above it.
OWN_LETTER = re.compile(
    r"^(?:please\s+ask\s+for\s*:|our\s+ref\s*:\s*\S"
    r"|this\s+message\s+was\s+sent\s+automatically\s+by\s+the\b)", re.I)
QUOTED = re.compile(r"^\s*>")
HEADER_LINES = 7  # at most this many header lines stand between a quote's start and its first ">"
# Lines under what was typed that are never the sender's remark (interleaved replies).
NOT_A_REMARK = re.compile(r"^(?:--\s*|sent\s+from\s+.*|get\s+outlook\s+for\s+.*)$", re.I)


def newest_text(text: str) -> str:
    """The part of a message body above the first quoted-history marker, trimmed."""
    lines = _lines(text)
    return _trim(lines[:history_start(lines)])


def history_start(lines: list[str]) -> int:
    """The index of the first line of quoted history (len(lines) when there is none)."""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if (QUOTED.match(line) or is_marker_line(stripped) or OWN_LETTER.match(stripped)
                or attribution_at(lines, index) or header_block_at(lines, index)):
            return index
    return len(lines)


def remarks(text: str) -> str:
    """What the sender typed among or below ">"-quoted lines (an interleaved reply), trimmed.

    Only lines after the first quoted line count; the search stops at any other history marker,
    at a copy of our own letter and at a signature, so deeper history is never taken for a remark.
    """
    lines = _lines(text)
    start = history_start(lines)
    # The quote may open with its attribution ("On … wrote:") or header block above the first ">".
    start = next((i for i in range(start, min(start + HEADER_LINES, len(lines))) if QUOTED.match(lines[i])), None)
    if start is None:
        return ""
    kept: list[str] = []
    for index in range(start + 1, len(lines)):
        line, stripped = lines[index], lines[index].strip()
        if QUOTED.match(line):
            continue
        if (NOT_A_REMARK.match(stripped) or is_marker_line(stripped) or OWN_LETTER.match(stripped)
                or attribution_at(lines, index) or header_block_at(lines, index)):
            break
        kept.append(line)
    return _trim(kept)


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip()
