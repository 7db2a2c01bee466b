"""Turn an HTML email body into plain text that keeps its lines, quotes and quoted headers readable.

Replies are read by later stages that look for a grade line or an approval and strip quoted
history, so the text must keep the line structure a person saw: paragraphs, `<br>` breaks,
Outlook's separator rule and the "From: ... Sent: ..." block of the message being answered.
"""

import re
from html.parser import HTMLParser

# Outlook draws this line of underscores above the quoted message; later stages look for it.
OUTLOOK_SEPARATOR = "_" * 32

# Elements that start a new line when they open or close.
BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt", "footer",
    "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "li", "ol", "p", "pre", "section",
    "table", "tbody", "tfoot", "thead", "tr", "ul",
})

# Content that a reader never sees.
HIDDEN_TAGS = frozenset({"head", "style", "script", "title", "xml"})

# HTML whitespace only: a non-breaking space is content, not formatting.
HTML_SPACE = re.compile(r"[ \t\r\n\f]+")
MULTI_SPACE = re.compile(r" {2,}")


def html_to_text(html: str) -> str:
    """Return the readable text of an HTML body, one line per visual line, quotes prefixed with "> "."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return _tidy(parser.lines())


class _TextExtractor(HTMLParser):
    """Collects text as (quote depth, line) pairs while walking the tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._lines: list[tuple[int, str]] = []
        self._current = ""
        self._quote_depth = 0
        self._hidden_depth = 0
        self._pre_depth = 0

    def lines(self) -> list[tuple[int, str]]:
        """The collected lines, including the one still being written."""
        self._flush()
        return self._lines

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            # A <head> that was never closed must not swallow the whole message.
            self._hidden_depth = 0
        elif tag in HIDDEN_TAGS:
            self._hidden_depth += 1
        if self._hidden_depth:
            return
        if tag == "br":
            self._flush(keep_empty=True)
        elif tag == "hr":
            self._flush()
            self._current = OUTLOOK_SEPARATOR
            self._flush()
        elif tag in ("td", "th"):
            if self._current.strip(" "):
                self._current += " "
        elif tag in BLOCK_TAGS:
            self._flush()
            if tag == "blockquote":
                self._quote_depth += 1
            elif tag == "li":
                self._current = "- "
            elif tag == "pre":
                self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/> and <hr/> must behave like <br> and <hr>; other self-closed tags have no content.
        if tag in ("br", "hr"):
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in HIDDEN_TAGS:
            self._hidden_depth = max(0, self._hidden_depth - 1)
            return
        if self._hidden_depth or tag not in BLOCK_TAGS:
            return
        self._flush()
        if tag == "blockquote":
            self._quote_depth = max(0, self._quote_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden_depth:
            return
        if self._pre_depth:
            self._add_preformatted(data)
        else:
            self._current += HTML_SPACE.sub(" ", data)

    def _add_preformatted(self, data: str) -> None:
        """Inside <pre> the source line breaks are the visual ones."""
        pieces = data.replace("\r\n", "\n").split("\n")
        for piece in pieces[:-1]:
            self._current += piece
            self._flush(keep_empty=True)
        self._current += pieces[-1]

    def _flush(self, keep_empty: bool = False) -> None:
        """End the current line; an empty one is kept only for an explicit break such as <br>."""
        if self._current == "- " and not keep_empty:
            return  # a list bullet waits for its item's text, even when that sits in a <p>
        line = self._current if self._pre_depth else MULTI_SPACE.sub(" ", self._current).lstrip(" ")
        if line.strip(" ") or keep_empty:
            self._lines.append((self._quote_depth, line))
        self._current = ""


def _tidy(lines: list[tuple[int, str]]) -> str:
    """Apply quote prefixes, turn non-breaking spaces into spaces and squeeze blank runs."""
    out = []
    for depth, line in lines:
        text = line.replace("\xa0", " ")
        if depth:
            text = "> " * depth + text
        out.append(text.rstrip())
    joined = "\n".join(out)
    # Word-generated HTML leaves many empty paragraphs; one blank line is enough to read.
    joined = re.sub(r"\n{3,}", "\n\n", joined)
    return joined.strip("\n")
