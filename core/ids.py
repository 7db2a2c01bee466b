"""The one source of Message-IDs and tokens, so their shape is known in one place."""
import re
import secrets
from datetime import datetime, timezone

# <20261102090000.5f3a9c1e2b7d.qa@wexcombe.example>: the UTC time first, so the ledger month of any
# mail we sent can be read off the id that a reply quotes back in In-Reply-To.
OUR_MESSAGE_ID = re.compile(r"^<?(\d{4})(\d{2})\d{8}\.[0-9a-f]{12}\.qa@")


def new_message_id(now: datetime, domain: str) -> str:
    """A unique Message-ID on the mailbox's domain, stamped with the UTC time it was made."""
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%d%H%M%S")
    return f"<{stamp}.{secrets.token_hex(6)}.qa@{domain}>"


def month_of_message_id(message_id: str) -> str | None:
    """The YYYY-MM one of our Message-IDs was made in, or None for anyone else's id."""
    match = OUR_MESSAGE_ID.match(message_id.strip())
    return f"{match.group(1)}-{match.group(2)}" if match else None
