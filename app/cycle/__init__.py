"""The monthly audit cycle wired into the service: issuing, submissions by email, reminders and notices."""
from app.cycle.reminders import send_due_letters
from app.cycle.submissions import handle_submission
from inbox.classify import Kind


def register(service) -> None:
    """Claim audit submissions and add the reminder and notice job to the scheduled work."""
    service.router.register(Kind.SUBMISSION, handle_submission)
    service.scheduled.append(send_due_letters)
