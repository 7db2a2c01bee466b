"""The monthly QA report wired into the application: on demand (`report`) and when moderation closes."""
from app.reports.send import send_when_moderation_closes


def register(ctx) -> None:
    """Add the job that sends each month's report once, at 09:00 on the day moderation closes."""
    ctx.scheduled.append(send_when_moderation_closes)
