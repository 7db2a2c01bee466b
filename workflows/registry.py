"""The kinds of item in force, in one explicit list: replies, chasing, `status` and the figures loop over it.

A new kind of request is one new module in `workflows/` declaring its `ItemKind`, plus one line in
KINDS (and, if new mail starts it, its recogniser in RECOGNISERS, where the order is the rule).
"""
from core.reference import Reference, find_references, prefix_of
from workflows import actions, audits, director_letters, exemptions, moderation, slippage
from workflows.items import ItemKind, Recogniser, Seen

KINDS: dict[str, ItemKind] = {kind.prefix: kind for kind in (
    audits.KIND,
    exemptions.KIND,
    slippage.KIND,
    moderation.KIND,
    actions.KIND,
    director_letters.KIND,
)}
AUDIT_PREFIX = audits.KIND.prefix
PREFIXES = frozenset(KINDS)


def kind_of(reference: str) -> ItemKind | None:
    """The kind that owns an item reference, or None (not a reference we issue)."""
    return KINDS.get(prefix_of(reference) or "")


def answered_by_reply(references) -> list[str]:
    """The references among `references` whose items are answered by reply, in the order given."""
    return [r for r in references if (kind := kind_of(r)) is not None and kind.reading is not None]


def chased() -> list[ItemKind]:
    """The kinds whose silent answerers are reminded, then escalated, in registry order."""
    return [kind for kind in KINDS.values() if kind.chased]


def waiting_kinds() -> list[ItemKind]:
    """The kinds that wait on someone's answer by reply, in registry order (for `status`)."""
    return [kind for kind in KINDS.values() if kind.reading is not None]


def references_in(*texts: str) -> list[str]:
    """Every reference of a kind we issue in the texts, upper-cased, in first-seen order."""
    return find_references(texts, PREFIXES)


def month_of_item(record: dict) -> str:
    """The audit month an item belongs to: its own "month" (a slippage notice keeps the month of the
    audits it is about), else its reference's."""
    return record.get("month") or Reference.parse(record["reference"]).month


def reply_about_item(seen: Seen) -> str | None:
    """A reply in the thread of (or naming in its subject) an item answered by reply: an answer to it,
    even though it says "exemption" or "slippage"."""
    if answered_by_reply((seen.thread or {}).get("refs", [])) or answered_by_reply(references_in(seen.subject)):
        return "reply"
    return None


def reply_to_our_mail(seen: Seen) -> str | None:
    """Any other reply to something we sent (a thank-you for a receipt, a note on an alert): filed for
    the QA team, never answered with "we could not understand you"."""
    return "reply" if seen.thread else None


# The recognisers, in the order they are tried; the first that names a kind wins. Replies about an
# item come first (a Head of Service's "Support" in an exemption thread says "exemption" too), and a
# new request is told before a submission (a slippage notice may name its audits).
RECOGNISERS: tuple[Recogniser, ...] = (
    reply_about_item,
    exemptions.recognise,
    slippage.recognise,
    audits.recognise_submission,
    reply_to_our_mail,
)
