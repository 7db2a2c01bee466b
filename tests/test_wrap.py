"""The letters' `wordwrap` filter wraps exactly as Jinja2's own, for any prose, only faster (mailer/wrap.py).

A letter's plain text must not change by a single character: every paragraph, long word, run of
spaces, tab, non-breaking space and line end wraps as Jinja2's filter (textwrap) wrapped it.
"""
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from jinja2.filters import do_wordwrap

from mailer.compose import TEMPLATE_DIR, template_environment
from mailer.wrap import fill, wordwrap

ENV = Environment()
WORDS = st.sampled_from(["the", "audit", "deadline", "Zoë", "[AUD-2026-11-004]", "23:59", "—", "co-ordinated",
                         "x" * 75, "a" * 71, "\u00a0", "Monday\u00a031\u00a0December", "\u2003", "\t", "\x0b",
                         "\x0c", "\r", "  ", "", "日本語のテキスト", "\U0001f600", "qa-audits@wexcombe.example"])
PROSE = st.lists(st.one_of(WORDS, st.text(max_size=12)), max_size=60).map(" ".join)
TEXTS = st.lists(PROSE, max_size=6).map("\n".join)
# Prose as the templates write it: words (a no-break space keeps a phrase whole) and single spaces.
PLAIN_WORDS = st.one_of(st.sampled_from(["the", "audit", "Monday\u00a031\u00a0December", "x" * 80, "\u00a0word",
                                         "[AUD-2026-11-004]", "\u00a0", "\u2003\u00a0"]),
                        st.text(st.characters(blacklist_categories=("Zs", "Cc")), min_size=1, max_size=15))
PLAIN_PROSE = st.lists(PLAIN_WORDS, min_size=1, max_size=80).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(text=TEXTS, width=st.integers(1, 90), long_words=st.booleans(), hyphens=st.booleans())
def test_any_text_wraps_as_jinja2_wrapped_it(text, width, long_words, hyphens):
    ours = wordwrap(ENV, text, width, break_long_words=long_words, break_on_hyphens=hyphens)
    assert ours == do_wordwrap(ENV, text, width, break_long_words=long_words, break_on_hyphens=hyphens)


@settings(max_examples=500, deadline=None)
@given(text=PLAIN_PROSE, width=st.integers(1, 90))
def test_plain_prose_wraps_as_jinja2_wrapped_it(text, width):
    ours = wordwrap(ENV, text, width, break_long_words=False, break_on_hyphens=False)
    assert ours == do_wordwrap(ENV, text, width, break_long_words=False, break_on_hyphens=False)


def test_the_letters_use_it():
    env = template_environment(str(TEMPLATE_DIR))
    assert env.filters["wordwrap"] is wordwrap


def test_a_line_that_fits_is_left_as_it_is_and_a_long_word_stands_alone():
    assert fill("Your audits are due by 23:59.", 72) == ["Your audits are due by 23:59."]
    assert fill("see " + "x" * 80 + " then", 72) == ["see", "x" * 80, "then"]
    assert fill("   ", 72) == [] and fill("", 72) == []
    assert fill("due by Monday\u00a031\u00a0December at 23:59", 20) == ["due by", "Monday\u00a031\u00a0December", "at 23:59"]
