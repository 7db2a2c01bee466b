"""The monthly QA report wired into the application: on demand (`report`) and when moderation closes."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.reports.send import send_when_moderation_closes

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Add the job that sends each month's report once, at 09:00 on the day moderation closes."""
    ctx.scheduled.append(send_when_moderation_closes)
