"""Moderation wired into the application: requests sent the day an audit is chosen, reminders, closing.

Replies need no handler of their own: a reply about a MOD item reaches `app/replies.handle_item_reply`
through the reply handler, because the kind has a step (`workflows/moderation.py`).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.moderation.close import close_moderation
from app.moderation.requests import request_moderations

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Add the moderation jobs to the scheduled work: ask, and close what is due to close.

    A silent moderator is reminded by the one chase of every chased kind (app/requests/waiting.py), which
    runs after these jobs, so nobody is reminded on the morning their moderation closes.
    """
    ctx.scheduled.extend([request_moderations, close_moderation])
