"""The newest text of a reply: what the sender wrote now, without the history their client quoted.

Clients mark quoted history differently: Outlook desktop and the web put a "From: … Sent: …" block
(often under a line of underscores), older Outlook writes "-----Original Message-----", Gmail and
Apple Mail write "On … wrote:" and quote with ">", Outlook mobile puts "Get Outlook for iOS" first.
Everything from the first such marker down is history.
"""
import re

HISTORY_MARKERS = [
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),
    re.compile(r"^On\b.{0,200}\bwrote:\s*$", re.I | re.S),
    re.compile(r"^Le\b.{0,200}\ba écrit\s*:\s*$", re.I),
    # Outlook's header block, in English, French, German and Welsh; "*From:*" is bold in plain text.
    re.compile(r"^\*?(From|De|Von|Oddi wrth)\*?:\*?\s.+", re.I),
    re.compile(r"^>"),
    re.compile(r"^Sent from (my |Mail for |Yahoo Mail|Outlook)", re.I),
    re.compile(r"^Get Outlook for (iOS|Android)", re.I),
    re.compile(r"^Begin forwarded message:", re.I),
]
# "On Mon, 2 Nov 2026 at 09:00, QA Audits <qa@x> wrote:" is often wrapped over two lines by Gmail.
WROTE_TAIL = re.compile(r"\bwrote:\s*$", re.I)


def newest_text(text: str) -> str:
    """The part of a message body above the first quoted-history marker, trimmed."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _is_marker(stripped):
            return _trim(lines[:index])
        nxt = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if stripped.lower().startswith("on ") and nxt and WROTE_TAIL.search(nxt) and len(stripped) < 200:
            return _trim(lines[:index])
    return _trim(lines)


def _is_marker(line: str) -> bool:
    return any(marker.match(line) for marker in HISTORY_MARKERS)


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip()
