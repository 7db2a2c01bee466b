"""Digests: the QA team's each working day, each Head of Service's each Monday (added below)."""


def register(ctx) -> None:
    """Add the digests to the scheduled work."""
