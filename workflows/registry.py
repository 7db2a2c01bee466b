"""The kinds of item in force, in one explicit list: replies, chasing, `status` and the figures loop over it.

A new kind of request is one new module in `workflows/` declaring its `ItemKind`, plus one line here.
"""
from core.reference import find_references, prefix_of
from workflows import actions, exemptions, slippage
from workflows.items import ItemKind

# Audits (AUD) are allocations: issued, not asked for, and never answered by reply.
AUDIT_PREFIX = "AUD"
KINDS: dict[str, ItemKind] = {kind.prefix: kind for kind in (
    exemptions.KIND,
    slippage.KIND,
    actions.KIND,
)}
PREFIXES = frozenset({AUDIT_PREFIX, *KINDS})


def kind_of(reference: str) -> ItemKind | None:
    """The kind that owns an item reference, or None (an audit, or not a reference we issue)."""
    return KINDS.get(prefix_of(reference) or "")


def answered_by_reply(references) -> list[str]:
    """The references among `references` whose items are answered by reply, in the order given."""
    return [r for r in references if (kind := kind_of(r)) is not None and kind.reading is not None]


def references_in(*texts: str) -> list[str]:
    """Every reference of a kind we issue in the texts, upper-cased, in first-seen order."""
    return find_references(texts, PREFIXES)
