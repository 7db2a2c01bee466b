"""The monthly audit cycle wired into the application: issuing, submissions by email, reminders and notices."""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.cycle.reminders import send_due_letters
from app.cycle.submissions import handle_submission
from inbox.classify import Kind

if TYPE_CHECKING:  # for annotations only: app.context imports the app's modules, not the reverse
    from app.context import Context


def register(ctx: Context) -> None:
    """Claim audit submissions and add the reminder and notice job to the scheduled work."""
    ctx.router.register(Kind.SUBMISSION, handle_submission)
    ctx.scheduled.append(send_due_letters)
