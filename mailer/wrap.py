"""The `wordwrap` filter the plain-text letters use, word for word Jinja2's, at a fraction of its cost.

Every plain-text letter wraps its prose at 72 columns with `wordwrap(72, break_long_words=False,
break_on_hyphens=False)`; Jinja2 hands each line to textwrap.wrap, whose general machinery was a
quarter of the time spent rendering a letter (26 calls a letter; 0.15 s for a month's 150 allocation
letters). For exactly those settings this does textwrap's greedy fill itself: a line that already
fits is returned as it is; plain prose (the templates' paragraphs) is cut at the last space that fits,
found by str.rfind; anything else is filled chunk by chunk by textwrap's own rules (chunks are
runs of ASCII whitespace and what lies between them; a whitespace chunk that would start or end a
line is dropped, except at the very start of the paragraph; a word longer than the width stands on
a line of its own). Any other settings go to Jinja2's own filter. tests/test_wrap.py holds them equal.
"""
from __future__ import annotations

import functools
import re

from jinja2 import pass_environment
from jinja2.filters import do_wordwrap

# textwrap's chunks when break_on_hyphens is False (TextWrapper.wordsep_simple_re).
_CHUNKS = re.compile(r"([\t\n\x0b\x0c\r ]+)")
# What keeps a line from being plain prose: ASCII whitespace other than single spaces between words.
_NOT_PROSE = re.compile(r"[\t\n\x0b\x0c\r]|  |^ | $")
# A "word" of nothing but other whitespace (a lone no-break space): textwrap drops it like a space.
_BLANK_WORD = re.compile(r" [^\S ]+ ")


@pass_environment
def wordwrap(environment, s: str, width: int = 79, break_long_words: bool = True, wrapstring: str | None = None,
             break_on_hyphens: bool = True) -> str:
    """Jinja2's `wordwrap`: each existing line wrapped on its own at `width`, joined by `wrapstring`."""
    if break_long_words or break_on_hyphens or width <= 0:
        return do_wordwrap(environment, s, width, break_long_words, wrapstring, break_on_hyphens)
    if wrapstring is None:
        wrapstring = environment.newline_sequence
    return wrapstring.join([_wrapped(line, width, wrapstring) for line in s.splitlines()])


@functools.lru_cache(maxsize=4096)
def _wrapped(line: str, width: int, wrapstring: str) -> str:
    """One line wrapped, kept: the Director's paragraphs are the same in every letter of a run."""
    return wrapstring.join(fill(line, width))


def fill(line: str, width: int) -> list[str]:
    """textwrap.wrap(line, width, expand_tabs=False, replace_whitespace=False, break_long_words=False,
    break_on_hyphens=False), the other settings at their defaults."""
    if len(line) <= width and line and line == line.strip():
        return [line]  # most lines of a letter: fits, and no whitespace at either end to drop
    if line and not _NOT_PROSE.search(line) and not _BLANK_WORD.search(f" {line} "):
        return _fill_prose(line, width)
    chunks = [chunk for chunk in _CHUNKS.split(line) if chunk]
    lines: list[str] = []
    i, count = 0, len(chunks)
    while i < count:
        if lines and chunks[i].strip() == "":
            i += 1  # whitespace at the start of any line but the first is dropped
        start, used = i, 0
        while i < count and used + len(chunks[i]) <= width:
            used += len(chunks[i])
            i += 1
        if i == start and i < count and len(chunks[i]) > width:
            i += 1  # a word too long for any line: alone on its own, not broken
        end = i
        if end > start and chunks[end - 1].strip() == "":
            end -= 1  # whitespace at the end of a line is dropped
        if end > start:
            lines.append("".join(chunks[start:end]))
    return lines


def _fill_prose(line: str, width: int) -> list[str]:
    """The same fill for plain prose (words, single spaces, a no-break space only inside a word),
    cut at the last space that fits, found in C, instead of chunk by chunk.

    A line of textwrap's is as many whole words as fit in `width`; the space after the last of them
    is the last space at most `width` past the line's start (a later one would mean one more word fit).
    """
    lines, start, end = [], 0, len(line)
    while end - start > width:
        cut = line.rfind(" ", start, start + width + 1)
        if cut < 0:
            cut = line.find(" ", start)  # a word too long for any line: alone on its own, not broken
            if cut < 0:
                break
        lines.append(line[start:cut])
        start = cut + 1
    lines.append(line[start:])
    return lines
