"""Digests wired into the schedule: the QA team's each working day, each Head of Service's each week.

What goes in a digest is decided in `workflows/digests.py`; this package gathers the stored records
for it (`gather.py`), and sends each digest once on its day (`send.py`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.digests.send import send_digests

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Add the digests to the scheduled work."""
    ctx.scheduled.append(send_digests)
