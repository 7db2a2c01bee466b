"""Sending through Microsoft Graph as MIME, so every header the composer wrote (threading included) survives.

POST /users/{mailbox}/sendMail with `Content-Type: text/plain` and the message base64-encoded: Exchange
takes the recipients from the To, Cc and Bcc headers and keeps the Message-ID, In-Reply-To,
References, Auto-Submitted and X-Auto-Response-Suppress headers as written. Graph accepts the
message and delivers it later, so it cannot say here that one recipient was refused: a refusal
comes back as a bounce, which the inbox files for the QA team.
"""
import base64
import logging
from email.parser import BytesHeaderParser
from email.utils import getaddresses

from core.errors import PermanentFailure
from core.graph import GraphClient
from core.throttle import RateLimiter

log = logging.getLogger("auditmail.graph")
PERMISSION = "Mail.Send"
# Exchange Online lets one mailbox send 30 messages a minute; Graph refuses a request over 4 MB.
MESSAGES_PER_MINUTE = 30
MAX_REQUEST_BYTES = 4 * 1024 * 1024


class GraphSender:
    """Sends from the shared mailbox through the Graph client it shares with the reader."""

    def __init__(self, client: GraphClient, limiter: RateLimiter | None = None):
        self._client = client
        self._limiter = limiter or RateLimiter(MESSAGES_PER_MINUTE, 60)

    def send(self, raw: bytes, message_id: str, recipients: list[str]) -> list[str]:
        """Send the message unchanged (a Bcc header is added only for recipients its headers do not name)."""
        body = base64.b64encode(_with_every_recipient(raw, recipients))
        if len(body) > MAX_REQUEST_BYTES:
            raise PermanentFailure(f"the message is {len(body) // 1024} KB once encoded; Microsoft Graph takes at "
                                   f"most {MAX_REQUEST_BYTES // 1024 // 1024} MB in one request")
        waited = self._limiter.acquire()
        if waited:
            log.info("graph sending paused %.0f s: Exchange Online takes %d messages a minute", waited,
                     MESSAGES_PER_MINUTE)
        self._client.request("POST", "/sendMail", permission=PERMISSION, data=body,
                             headers={"Content-Type": "text/plain"})
        return []


def _with_every_recipient(raw: bytes, recipients: list[str]) -> bytes:
    """Exchange sends to the addresses in the headers; anyone else the outbox names goes in as Bcc."""
    headers = BytesHeaderParser().parsebytes(raw)
    named = {addr.lower() for _, addr in getaddresses(
        [str(v) for field in ("To", "Cc", "Bcc") for v in headers.get_all(field, [])])}
    missing = [r for r in recipients if r.lower() not in named]
    if not missing:
        return raw
    return f"Bcc: {', '.join(missing)}\r\n".encode("ascii", "replace") + raw
