"""Digests wired into the schedule: the QA team's each working day, each Head of Service's each week.

What goes in a digest is decided in `workflows/digests.py`; this package gathers the stored records
for it (`gather.py`), and sends each digest once on its day (`send.py`).
"""
from app.digests.send import send_digests


def register(ctx) -> None:
    """Add the digests to the scheduled work."""
    ctx.scheduled.append(send_digests)
