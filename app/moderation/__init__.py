"""Moderation wired into the application: requests sent the day an audit is chosen, reminders, closing.

Replies need no handler of their own: a reply about a MOD item reaches `app/replies.handle_item_reply`
through the reply handler, because the kind has a step (`workflows/moderation.py`).
"""
from app.moderation.chase import chase_moderators
from app.moderation.close import close_moderation
from app.moderation.requests import request_moderations


def register(ctx) -> None:
    """Add the moderation jobs to the scheduled work: ask, close what is due to close, remind the rest."""
    # Closing runs before chasing, so nobody is reminded on the morning their moderation closes.
    ctx.scheduled.extend([request_moderations, close_moderation, chase_moderators])
