"""The one letterhead every letter carries: who is writing, from where, and how to reach them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Letterhead:
    """The Director's letterhead as it appears at the top of the seed letter."""

    organisation: str  # "Wexcombe County Council"
    department: str  # "Children's Safeguarding and Care"
    director_name: str  # "Imogen Thackeray"
    director_title: str  # "Director of Children's Safeguarding"
    address_lines: tuple[str, ...]  # ("County Hall", "Market Street", "Wexcombe", "WX1 4AB")
    phone: str
    email: str  # the Director's own address: letters to it are written by the QA team
    please_ask_for: str
    our_ref_prefix: str  # e.g. "IT/qa"; the letter's "Our Ref"
    # The address shown on the letterhead ("Email: …"); "" means the shared mailbox, so that replies
    # to automated letters come to the mailbox rather than to the Director's own inbox.
    contact_email: str = ""

    def __post_init__(self) -> None:
        # A list would make the dataclass unhashable and mutable behind our back; accept one but
        # store a tuple, and refuse a bare string, which would otherwise print one letter per line.
        if isinstance(self.address_lines, str):
            raise ValueError("address_lines must be a sequence of lines, not one string")
        object.__setattr__(self, "address_lines", tuple(self.address_lines))

    def our_ref(self, reference: str | None = None) -> str:
        """The "Our Ref" line: the prefix, followed by the item's reference when the letter is about one."""
        return f"{self.our_ref_prefix}/{reference}" if reference else self.our_ref_prefix
