"""The layout around a reply's answer: the greeting above it, the signature below it, hard wraps in it.

newest_text() has already cut the quoted history, but what is left still opens with "Hi Priya," and
ends with a sign-off, a name block and often a corporate footer. Footers are full of words such as
"No." (as in "Reg. No. 04512345") and "not", which must never be read as someone's decision.
"""
import re

# A sign-off on a line of its own, perhaps followed by a first name: "Kind regards," / "Thanks, Marcus".
SIGN_OFF = re.compile(
    r"^(?i:kind(?:est)?\s+regards|best\s+regards|warm(?:est)?\s+regards|regards|many\s+thanks|with\s+thanks"
    r"|thanks(?:\s+again|\s+very\s+much|\s+so\s+much)?|thank\s+you(?:\s+very\s+much|\s+so\s+much)?"
    r"|best\s+wishes|all\s+the\s+best|best|cheers|yours\s+(?:sincerely|faithfully)|kr|rgds)"
    r"[\s,.!]*(?:(?:[A-Z][\w'’.-]*|all|again)[\s,.!]*){0,3}$")

# Lines after which nothing is the sender's answer, wherever they appear: the "-- " delimiter and the
# lines phone and desktop apps add under what was typed.
SIGNATURE_START = re.compile(
    r"^(?:--\s*|sent\s+from\s+(?:my\s+|mail\s+for\s+|outlook|yahoo|samsung).*|get\s+outlook\s+for\s+.*)$", re.I)

# Lines of a signature block or a corporate footer. Single letters ("T:", "M:") only with a colon, so
# "E.g." survives; "No" only as a number ("Reg. No. 04512345"), so "the company no longer" survives.
FOOTER = re.compile(
    r"^(?:(?:tel|telephone|phone|mob|mobile|cell|fax|ext|direct\s+(?:line|dial)|switchboard|email|e-mail"
    r"|web|website)\s*[:.]|[tmew]\s*:|www\.|\[cid:"
    r"|.*\b(?:reg(?:istered)?\.?|company|charity|vat)\s*(?:no[.:]|no\s*\d|number|reg\.)"
    r"|.*\bregistered\s+(?:office|in\s+england|address|charity)"
    r"|(?:disclaimer|confidentiality\s+notice|no\s+liability)\b"
    r"|(?:this|the\s+information\s+in\s+this|the\s+contents\s+of\s+this)\s+(?:e-?mail|message|communication)\b"
    r".*\b(?:confidential|intended|privileged|attachments?)\b"
    r"|please\s+consider\s+the\s+environment|think\s+before\s+you\s+print)", re.I)

GREETING = re.compile(
    r"^(?:hi|hello|hey|hiya|dear|morning|afternoon|good\s+(?:morning|afternoon|evening))\b(?P<rest>.*)$", re.I)
GREETING_END = re.compile(r"[,!:;.]|\s[-–—]\s")

# A line of a name block: short, and not a sentence.
BLOCK_LINE_WORDS = 8
# Gmail hard-wraps plain text near 76 columns, so a line this long may continue on the next.
WRAP_WIDTH = 60


def strip_signature(text: str) -> str:
    """The text above the sender's sign-off, signature block or corporate footer, trimmed."""
    lines = text.replace("\r\n", "\n").split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), len(lines))
    for index, line in enumerate(lines):
        stripped = line.strip()
        if SIGNATURE_START.match(stripped):
            return _trim(lines[:index])
        if FOOTER.match(stripped):
            return _trim(lines[:_block_start(lines, index, first)])
        # "Thanks" as the very first line is thanks for the request, not a sign-off.
        if index > first and SIGN_OFF.match(stripped):
            return _trim(lines[:index])
    return _trim(lines)


def skip_greeting(text: str) -> str:
    """The text without an opening salutation such as "Hi Priya," or "Dear all"; the rest is kept."""
    lines = text.strip().split("\n")
    match = GREETING.match(lines[0].strip())
    if not match:
        return text.strip()
    rest = match["rest"]
    end = GREETING_END.search(rest)
    if end and len(rest[:end.start()].split()) <= 4:
        # "Hi Marcus, approved - ..." keeps what follows the comma.
        lines[0] = rest[end.end():]
    elif len(rest.split()) <= 3:
        lines[0] = ""
    return _trim(lines)


def unwrap(text: str) -> str:
    """The text with lines a mail client hard-wrapped joined again, so a sentence reads whole."""
    joined: list[str] = []
    for line in text.split("\n"):
        previous = joined[-1].rstrip() if joined else ""
        if len(previous) >= WRAP_WIDTH and previous[-1] not in ".!?:" and line[:1].islower():
            joined[-1] = previous + " " + line.strip()
        else:
            joined.append(line)
    return "\n".join(joined)


def _block_start(lines: list[str], footer: int, first: int) -> int:
    """Where the name block standing directly above a footer line begins (never the first line)."""
    start = footer
    while start - 1 > first and _is_block_line(lines[start - 1]):
        start -= 1
    return start


def _is_block_line(line: str) -> bool:
    """A short line that does not end a sentence: a name, a job title, an organisation."""
    stripped = line.strip()
    return bool(stripped) and len(stripped.split()) <= BLOCK_LINE_WORDS and stripped[-1] not in ".?!"


def _trim(lines: list[str]) -> str:
    return "\n".join(lines).strip()


def without_name_lines(text: str, name: str) -> str:
    """The text without lines that are only the sender's name or first name (how people sign off)."""
    names = {name.strip().lower(), name.strip().split(" ")[0].lower()} - {""}
    kept = [line for line in text.split("\n") if line.strip().strip(",.").lower() not in names]
    return "\n".join(kept).strip()
