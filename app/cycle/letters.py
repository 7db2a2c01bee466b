"""Subject lines and shared pieces of the cycle's letters (subjects carry references, never a child's name)."""
from __future__ import annotations

from collections.abc import Sequence

from workflows.audits import row

MAX_REFS_IN_SUBJECT = 3


def bracketed(refs: Sequence[str]) -> str:
    """"[AUD-2026-12-001] [AUD-2026-12-002]", or the first few and how many more."""
    refs = list(dict.fromkeys(refs))
    shown = " ".join(f"[{r}]" for r in refs[:MAX_REFS_IN_SUBJECT])
    more = len(refs) - MAX_REFS_IN_SUBJECT
    return f"{shown} and {more} more" if more > 0 else shown


def allocation_row(allocation: dict) -> dict:
    """What letters show of an allocation: its reference, case reference and type; nothing about the child."""
    return row(allocation)
