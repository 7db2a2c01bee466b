"""The answers a reply can give to a question we asked: yes, no, or not clear enough to act on.

Reading them from a person's words is the inbox's job (inbox/intent.py); what each answer does to an
item is the workflows' (exemptions, slippage). This vocabulary sits here so the rules need not import
the reader.
"""
from enum import StrEnum


class Intent(StrEnum):
    """The answer a reply gives."""

    YES = "yes"
    NO = "no"
    UNCLEAR = "unclear"
