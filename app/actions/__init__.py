"""Remedial actions wired into the application: raised at submission, closed by reply, overdue ones reminded.

Replies about an action (ACT-…) need no handler here: its kind declares a step, so the generic
reply handler (`app/replies.py`) reads, checks and applies them like any other item's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.actions.overdue import remind_overdue_actions

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Add the overdue-action reminders to the scheduled work."""
    ctx.scheduled.append(remind_overdue_actions)
