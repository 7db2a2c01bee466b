"""What the EWS reader and sender share: one exchangelib Account, its retry policy, and plain diagnoses.

exchangelib is imported inside the functions, so a deployment on another transport never loads it.
The retry policy is one object (exchangelib's FaultTolerance) with a bound on the *total* wait, so a
busy server delays a pass by at most `max_wait` seconds and then the failure is reported and retried
at the next pass, instead of the daemon sleeping for an hour inside one request.
"""
import datetime
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.errors import PermanentFailure, TemporaryFailure, TransportError

log = logging.getLogger("auditmail.ews")

DAEMON_MAX_WAIT = 60     # seconds a pass may spend backing off before it gives up until the next pass
QUICK_MAX_WAIT = 10      # for `doctor`: a person is waiting at the terminal
FIRST_RETRY_SECONDS = 10  # exchangelib's first wait after a 503 or a dropped connection (then doubled)
HTTP_TIMEOUT = 60        # seconds for one request (exchangelib's default is 120)
EXCHANGE_ONLINE = ("outlook.office365.com", "outlook.office.com", "outlook.live.com")
BLOCKED = ("Exchange Online blocks EWS for this tenant; use transport = graph "
           "(Exchange Online has refused EWS since 1 October 2026 unless the app is allow-listed, "
           "and switches it off for good on 1 April 2027)")


@dataclass(frozen=True)
class EwsSettings:
    """Everything needed to reach the shared mailbox over EWS, read from [mailbox], [ews] and [oauth]."""

    address: str                  # the shared mailbox
    endpoint: str                 # https://…/EWS/Exchange.asmx
    auth: str                     # ntlm | basic | oauth
    username: str = ""
    password: str = ""
    access_type: str = "delegate"  # delegate | impersonation
    tenant_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    authority: str = "https://login.microsoftonline.com"


def bounded_retry(max_wait: float = DAEMON_MAX_WAIT):
    """exchangelib's FaultTolerance, bounded on the total wait, failing fast on a refused sign-in."""
    from exchangelib.errors import RateLimitError, UnauthorizedError
    from exchangelib.protocol import FaultTolerance

    class BoundedFaultTolerance(FaultTolerance):
        """Backs off as the server asks, but never more than `max_wait` seconds in all before giving up."""

        def __init__(self):
            super().__init__(max_wait=max_wait)
            self._lock = threading.Lock()
            self._waited = 0.0
            self._until = 0.0  # time.monotonic(): immune to the wall clock jumping (or being frozen in tests)

        @property
        def back_off_until(self):
            remaining = self._until - time.monotonic()
            if remaining <= 0:
                return None
            # exchangelib sleeps (this - datetime.now()), so hand it the remaining time on its own clock.
            return datetime.datetime.now() + datetime.timedelta(seconds=remaining)

        @back_off_until.setter
        def back_off_until(self, value):
            if value is None:
                self._until = 0.0

        def back_off(self, seconds):
            seconds = self.DEFAULT_BACKOFF if seconds is None else seconds
            with self._lock:
                if self._waited + seconds > self.max_wait:
                    self._waited = 0.0
                    raise RateLimitError("the server stayed busy", wait=seconds)
                self._waited += seconds
                self._until = time.monotonic() + seconds

        def raise_response_errors(self, response):
            if response.status_code == 200:
                with self._lock:
                    self._waited = 0.0  # the server answered: the next trouble gets the whole allowance again
            if response.status_code == 401:
                # exchangelib retries a 401 as throttling; a refused sign-in retried for a minute helps nobody.
                raise UnauthorizedError(f"HTTP 401 from {response.url}")
            return super().raise_response_errors(response)

    return BoundedFaultTolerance()


def open_account(settings: EwsSettings, max_wait: float = DAEMON_MAX_WAIT):
    """An exchangelib Account for the shared mailbox; nothing is sent to the server yet."""
    from exchangelib import BASIC, DELEGATE, IMPERSONATION, NTLM, OAUTH2, Account, Configuration, Credentials
    from exchangelib import Identity, OAuth2Credentials
    from exchangelib.ewsdatetime import UTC

    if settings.auth == "oauth":
        authority = settings.authority.rstrip("/")

        class AppCredentials(OAuth2Credentials):
            """Client credentials (app-only); the token endpoint follows [graph] authority (tests, national clouds)."""

            @property
            def token_url(self):
                return f"{authority}/{self.tenant_id}/oauth2/v2.0/token"

        credentials = AppCredentials(client_id=settings.client_id, client_secret=settings.client_secret,
                                     tenant_id=settings.tenant_id,
                                     identity=Identity(primary_smtp_address=settings.address))
        auth_type = OAUTH2
    else:
        credentials = Credentials(settings.username, settings.password)
        auth_type = NTLM if settings.auth == "ntlm" else BASIC
    # Two connections: one may be held by the streaming notifications while the other reads and sends.
    config = Configuration(service_endpoint=settings.endpoint, credentials=credentials, auth_type=auth_type,
                           retry_policy=bounded_retry(max_wait), max_connections=2)
    access = IMPERSONATION if settings.access_type == "impersonation" else DELEGATE
    account = Account(primary_smtp_address=settings.address, config=config, autodiscover=False,
                      access_type=access, default_timezone=UTC, locale="en_GB")
    account.protocol.TIMEOUT = HTTP_TIMEOUT
    account.protocol.RETRY_WAIT = FIRST_RETRY_SECONDS
    return account


def close_account(account) -> None:
    """Close its connections and forget exchangelib's cached protocol, so the next open starts clean."""
    from exchangelib.protocol import Protocol

    try:
        del Protocol[account.protocol.config]
    except KeyError:
        pass
    account.protocol.close()


class Diagnosis:
    """Turns whatever exchangelib raises into a TemporaryFailure or PermanentFailure an IT team can act on."""

    def __init__(self, settings: EwsSettings):
        self.settings = settings
        self.host = (urlsplit(settings.endpoint).hostname or "").lower()

    @contextmanager
    def calls(self, action: str):
        """Run EWS calls; any failure leaves as a TransportError saying what could not be done and why."""
        try:
            yield
        except TransportError:
            raise
        except Exception as exc:  # noqa: BLE001 - every library error must reach the service as one of ours
            raise self.translate(exc, action) from exc

    def translate(self, exc: Exception, action: str) -> TransportError:
        """One line: what failed, why, and what to change."""
        from exchangelib import errors as e

        s, who = self.settings, self.settings.username or f"the app {self.settings.client_id}"
        where = f"{action} ({s.address} at {s.endpoint})"
        if isinstance(exc, e.UnauthorizedError) or self._is_http(exc, 403):
            # Exchange Online turns EWS away at the door (HTTP 401/403) for tenants that have not allow-listed it.
            if self.host in EXCHANGE_ONLINE or self.host.endswith(".office365.com"):
                return PermanentFailure(f"{where}: {BLOCKED}")
        if isinstance(exc, e.RateLimitError):
            return TemporaryFailure(f"{where}: the server is busy and asked us to wait (gave up after backing "
                                    f"off); trying again later", retry_after=exc.wait)
        if isinstance(exc, e.ErrorServerBusy):
            return TemporaryFailure(f"{where}: the server is busy (ErrorServerBusy)", retry_after=exc.back_off)
        if isinstance(exc, e.UnauthorizedError):
            if s.auth == "oauth":
                return PermanentFailure(f"{where}: the server refused the app's token (HTTP 401): grant the app "
                                        "the full_access_as_app application permission with admin consent")
            return PermanentFailure(f"{where}: the server refused the sign-in of {who} (HTTP 401): wrong username or "
                                    f"password, or the server does not accept ews.auth = {s.auth!r}")
        if isinstance(exc, e.ErrorImpersonateUserDenied):
            if s.auth == "oauth":
                return PermanentFailure(f"{where}: the app may not act for {s.address}: grant it full_access_as_app "
                                        "and include the mailbox in its RBAC for Applications scope")
            return PermanentFailure(f"{where}: {who} may not impersonate {s.address}: the Exchange admin must grant "
                                    "it the ApplicationImpersonation role (New-ManagementRoleAssignment)")
        if isinstance(exc, e.ErrorSendAsDenied):
            return PermanentFailure(f"{where}: {who} may not send as {s.address}: the Exchange admin must grant "
                                    "SendAs on the shared mailbox (Add-RecipientPermission / Add-ADPermission)")
        if isinstance(exc, e.ErrorAccessDenied) or self._is_http(exc, 403):
            grant = ("the ApplicationImpersonation role" if s.access_type == "impersonation"
                     else "FullAccess on the shared mailbox (Add-MailboxPermission -AccessRights FullAccess)")
            return PermanentFailure(f"{where}: access denied to {who}: the Exchange admin must grant {grant}")
        if isinstance(exc, e.ErrorNonExistentMailbox):
            return PermanentFailure(f"{where}: the server has no mailbox {s.address} (check mailbox.address)")
        if isinstance(exc, (e.ErrorMailboxStoreUnavailable, e.ErrorMailboxMoveInProgress, e.ErrorTimeoutExpired,
                            e.ErrorInternalServerTransientError, e.ErrorTooManyObjectsOpened, e.CASError)):
            return TemporaryFailure(f"{where}: the server is temporarily unavailable ({type(exc).__name__})")
        if isinstance(exc, e.ResponseMessageError):
            return PermanentFailure(f"{where}: Exchange refused it: {type(exc).__name__}: {exc}")
        if isinstance(exc, e.TransportError):
            text = str(exc)
            if "SSL" in text or "certificate" in text.lower():
                return TemporaryFailure(f"{where}: TLS problem (is the server's certificate trusted here?): {text}")
            return TemporaryFailure(f"{where}: cannot reach the server: {text[:200]}")
        if type(exc).__module__.startswith(("oauthlib", "requests_oauthlib")):
            from core.oauth import diagnose

            return PermanentFailure(f"{where}: " + diagnose({"error": getattr(exc, "error", type(exc).__name__),
                                                             "error_description": getattr(exc, "description", "")}))
        if type(exc).__module__.startswith(("requests", "urllib3")) or isinstance(exc, OSError):
            return TemporaryFailure(f"{where}: cannot reach the server: {type(exc).__name__}")
        return TemporaryFailure(f"{where}: unexpected {type(exc).__name__}: {str(exc)[:200]}")

    @staticmethod
    def _is_http(exc: Exception, status: int) -> bool:
        # exchangelib reports a status it has no rule for as MalformedResponseError("… Code: 403 …").
        from exchangelib.errors import MalformedResponseError

        return isinstance(exc, MalformedResponseError) and f"Code: {status} " in str(exc)
