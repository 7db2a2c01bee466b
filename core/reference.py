"""Item references, made and read in one place: `AUD-2026-11-017`, `EXM-2026-11-003`, `SLP-2026-11-002`.

A reference is a three-letter prefix naming the kind of item, the audit month the item belongs to,
and a number within that month. Which prefixes exist is the business of the item-kind registry
(`workflows/items.py`); this module only knows the shape, so a new kind needs no change here.
"""
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Iterable

# Shown in square brackets in subjects; matched anywhere (a reply may quote it without the brackets).
PATTERN = re.compile(r"\b([A-Za-z]{3})-(\d{4})-(\d{2})-(\d{3,})\b")


@dataclass(frozen=True, order=True)
class Reference:
    """One item's reference: its kind's prefix, its audit month (YYYY-MM) and its number in that month."""

    prefix: str
    month: str
    number: int

    def __str__(self) -> str:
        return f"{self.prefix}-{self.month}-{self.number:03d}"

    @property
    def bracketed(self) -> str:
        """As it appears in a subject: "[AUD-2026-11-017]"."""
        return f"[{self}]"

    @classmethod
    def parse(cls, text: str) -> "Reference":
        """The reference `text` is exactly (any case); ValueError when it is not one."""
        reference = _read(text.strip())
        if reference is None:
            raise ValueError(f"{text!r} is not an item reference like AUD-2026-11-017")
        return reference

    @classmethod
    def read(cls, text: str | None) -> "Reference | None":
        """The reference `text` is, or None (for anything else, including None)."""
        return _read(text.strip()) if text else None


@lru_cache(maxsize=8192)
def _read(text: str) -> Reference | None:
    # Cached: a reply quoting a letter that lists hundreds of allocations names each of them, and
    # every reader of references (the classifier, the recognisers, the registry) reads them again.
    match = PATTERN.fullmatch(text)
    if not match or not 1 <= int(match.group(3)) <= 12:
        return None
    return Reference(match.group(1).upper(), f"{match.group(2)}-{match.group(3)}", int(match.group(4)))


@lru_cache(maxsize=8192)
def _named(text: str) -> tuple[str, str] | None:
    """(prefix, the reference as we write it) for a reference's text, or None: cached like _read."""
    reference = _read(text)
    return (reference.prefix, str(reference)) if reference else None


def prefix_of(text: str) -> str | None:
    """The kind prefix of a reference string ("EXM"), or None when `text` is not a reference."""
    reference = Reference.read(text)
    return reference.prefix if reference else None


def month_of_reference(text: str) -> str:
    """The audit month (YYYY-MM) of a reference string; ValueError when it is not one."""
    return Reference.parse(text).month


def find_references(texts: Iterable[str], prefixes: Collection[str]) -> list[str]:
    """Every reference with one of `prefixes` in the texts, upper-cased, in first-seen order."""
    # A dict keeps first-seen order and finds repeats at once: a reply quoting a letter that lists
    # hundreds of allocations made a list's `in` cost grow with the square of their number.
    found: dict[str, None] = {}
    for text in texts:
        for match in PATTERN.finditer(text or ""):
            named = _named(match.group(0))
            if named and named[0] in prefixes:
                found.setdefault(named[1])
    return list(found)
