"""A small Microsoft Graph client for one mailbox: one connection, one request at a time, throttled, retried.

Plain `requests`, not the Graph SDK (README, "Microsoft 365 through Graph", says why). Graph's
Outlook service allows an app 10,000 requests per 10 minutes and 4 concurrent requests per
mailbox: this client sends one request at a time over one kept-alive connection, counts its own
requests with a RateLimiter set below the limit, and obeys 429/503 Retry-After through a
Backoff whose total wait is bounded. Every failure leaves as a TemporaryFailure or a
PermanentFailure with a one-line diagnosis an IT team can act on.
"""
import logging
import threading
import time
from typing import Callable
from urllib.parse import quote, urlsplit

import requests
from requests.adapters import HTTPAdapter

from core.errors import PermanentFailure, TemporaryFailure
from core.backoff import REQUEST_RETRY, Backoff
from core.throttle import RateLimiter

log = logging.getLogger("auditmail.graph")

# The Outlook service's limit is 10,000 per 10 minutes per app per mailbox; keep a tenth back for
# `doctor` and anything else the council runs under the same app registration.
REQUESTS_PER_10_MINUTES = 9_000
RETRYABLE = {429, 502, 503, 504}
TIMEOUT = (10, 60)  # seconds to connect, seconds to wait for an answer


def graph_scope(endpoint: str) -> str:
    """The OAuth scope for a Graph endpoint: https://graph.microsoft.com/.default, or a national cloud's."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}/.default"


class GraphClient:
    """Talks to `{endpoint}/users/{mailbox}`; shared by the reader and the sender of one mailbox."""

    def __init__(self, endpoint: str, mailbox: str, token: Callable[[], str], *,
                 policy: Backoff = REQUEST_RETRY, limiter: RateLimiter | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        self.endpoint, self.mailbox = endpoint.rstrip("/"), mailbox
        self.base = f"{self.endpoint}/users/{quote(mailbox)}"
        self.host = urlsplit(self.endpoint).netloc
        self._token, self.policy, self._sleep = token, policy, sleep
        self.limiter = limiter or RateLimiter(REQUESTS_PER_10_MINUTES, 600, sleep=sleep)
        self._lock = threading.Lock()  # one request at a time, whoever asks (reader, sender, doctor)
        self._session = requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def request(self, method: str, path: str, *, permission: str, allow: tuple[int, ...] = (),
                **kwargs) -> requests.Response:
        """Send one request (path under the mailbox, or a full URL such as a delta link); retried as the policy says.

        Returns a 2xx response, or one whose status is in `allow`; anything else raises with a diagnosis
        that names `permission` when access was denied.
        """
        url = path if path.startswith(("https://", "http://")) else self.base + path
        if urlsplit(url).netloc != self.host:
            # Delta and next links come from Graph; the token must never follow one anywhere else.
            raise PermanentFailure(f"Microsoft Graph sent a link to another host ({urlsplit(url).netloc}); not followed")
        headers = kwargs.pop("headers", {})
        waited, attempt = 0.0, 0
        with self._lock:
            while True:
                attempt += 1
                response, problem, cause = self._send_once(method, url, headers, kwargs)
                if response is not None and response.status_code not in RETRYABLE:
                    if response.ok or response.status_code in allow:
                        return response
                    raise diagnose(response, self.mailbox, permission)
                retry_after = _retry_after(response) if response is not None else None
                wait = self.policy.wait_before_retry(attempt, waited, retry_after)
                if wait is None:
                    # The network error stays attached: sending tells "Graph unreachable" (pause, count
                    # nothing against the letter) from "this letter" by it.
                    raise TemporaryFailure(problem, retry_after) from cause
                log.warning("graph %s; waiting %.1f s before try %d", problem, wait, attempt + 1)
                self._sleep(wait)
                waited += wait

    def _send_once(self, method: str, url: str, headers: dict,
                   kwargs: dict) -> tuple[requests.Response | None, str, Exception | None]:
        """One try: the response (or None when the network failed), what to say if it is given up on, and why."""
        headers = {"Authorization": f"Bearer {self._token()}", **headers}
        self.limiter.acquire()
        try:
            response = self._session.request(method, url, headers=headers, timeout=TIMEOUT, **kwargs)
        except requests.exceptions.SSLError as exc:
            return None, f"TLS problem talking to Microsoft Graph at {self.host}: {_first_line(exc)}", exc
        except requests.exceptions.RequestException as exc:
            return None, f"cannot reach Microsoft Graph at {self.host}: {type(exc).__name__}", exc
        status = response.status_code
        if status == 429:
            return response, "Microsoft Graph is throttling this mailbox (429 Too Many Requests)", None
        return response, f"Microsoft Graph is unavailable ({status}); try again later", None

    def close(self) -> None:
        """Close the connection."""
        self._session.close()


def diagnose(response: requests.Response, mailbox: str, permission: str) -> PermanentFailure | TemporaryFailure:
    """One line an IT team can act on, for a Graph answer that is not a success."""
    code, message = error_of(response)
    status = response.status_code
    said = f"({status} {code})" if code else f"({status})"
    if status == 401:
        return PermanentFailure(f"Microsoft Graph refused the app's token {said}: check oauth.tenant_id, and that "
                                f"the app registration has admin consent in this tenant")
    if status == 403:
        return PermanentFailure(f"access denied {said}: the app lacks the {permission} application permission, "
                                f"or RBAC for Applications does not include the mailbox {mailbox}")
    if status == 404 and code == "MailboxNotEnabledForRESTAPI":
        return PermanentFailure(f"the mailbox {mailbox} is not in Exchange Online (on-premises, or no licence) {said}")
    if status == 404 and code not in ("ErrorItemNotFound", "ErrorFolderNotFound"):
        return PermanentFailure(f"no mailbox {mailbox} in this tenant {said}: check mailbox.address")
    if status >= 500:
        return TemporaryFailure(f"Microsoft Graph failed {said}: {message}")
    return PermanentFailure(f"Microsoft Graph refused the request {said}: {message}")


def error_of(response: requests.Response) -> tuple[str, str]:
    """Graph's error code and message from a failed answer's body ({"error": {"code", "message"}})."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return "", _first_line(response.text) or response.reason or ""
    if not isinstance(error, dict):
        return "", str(error)
    return str(error.get("code", "")), _first_line(str(error.get("message", "")))


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "").strip()
    return float(value) if value.isdigit() else None  # Graph sends seconds; an HTTP-date falls back to backoff


def _first_line(value) -> str:
    text = str(value).strip()
    return text.splitlines()[0][:200] if text else ""
