"""OAuth 2.0 client credentials (msal) for IMAP/SMTP XOAUTH2, EWS and Microsoft Graph.

One `ClientCredentials` per running service: msal keeps the token in memory and renews it shortly
before it expires, so the daemon signs in once and not at every pass.
"""
import threading

from core.config import Config, secret
from core.errors import ConfigError, PermanentFailure, TemporaryFailure

# What Microsoft's sign-in service says, in words an IT team can act on.
AADSTS_HINTS = {
    "AADSTS7000215": "the client secret is wrong (check the value, not the secret's ID, is in the environment variable)",
    "AADSTS7000222": "the client secret has expired: make a new one in the app registration",
    "AADSTS700016": "no app with this client_id exists in this tenant (check oauth.client_id and oauth.tenant_id)",
    "AADSTS90002": "no tenant with this tenant_id was found (check oauth.tenant_id)",
    "AADSTS90014": "the token request was incomplete (check oauth.client_id)",
}


class ClientCredentials:
    """Tokens for one app registration and one resource, cached and renewed by msal."""

    def __init__(self, config: Config, scope: str, authority_base: str | None = None):
        oauth = config.settings("oauth")
        if not oauth["tenant_id"].strip() or not oauth["client_id"].strip():
            raise ConfigError("tenant_id and client_id are needed for OAuth", key="oauth")
        self._tenant, self._client_id = oauth["tenant_id"].strip(), oauth["client_id"].strip()
        self._secret = secret(oauth["client_secret_env"], "oauth.client_secret_env")
        base = (authority_base or config.settings("graph")["authority"]).rstrip("/")
        self._authority = f"{base}/{self._tenant}"
        self.scope = scope
        self._app = None
        self._lock = threading.Lock()

    def token(self) -> str:
        """A valid access token; raises PermanentFailure with a plain diagnosis, TemporaryFailure when unreachable."""
        with self._lock:
            if self._app is None:
                self._app = self._build()
            try:
                result = self._app.acquire_token_for_client(scopes=[self.scope])
            except Exception as exc:  # network errors come from requests underneath msal
                raise TemporaryFailure(f"cannot reach the sign-in service at {self._authority}: {type(exc).__name__}") from None
        if "access_token" in result:
            return result["access_token"]
        raise PermanentFailure(diagnose(result))

    def _build(self):
        import msal  # imported here: only the OAuth transports pay for it

        try:
            # instance_discovery=False: the authority is the one the config names ([graph] authority), so msal
            # need not ask login.microsoftonline.com to vouch for it (a national cloud, or a test's fake).
            return msal.ConfidentialClientApplication(
                self._client_id, client_credential=self._secret, authority=self._authority,
                token_cache=msal.TokenCache(), instance_discovery=False)
        except ValueError as exc:  # msal checks the authority's discovery document when built
            raise PermanentFailure(f"the sign-in authority {self._authority} was not accepted: {exc}") from None
        except Exception as exc:
            raise TemporaryFailure(f"cannot reach the sign-in service at {self._authority}: {type(exc).__name__}") from None


def diagnose(result: dict) -> str:
    """One line for a failed token request."""
    description = str(result.get("error_description", ""))
    for code, hint in AADSTS_HINTS.items():
        if code in description:
            return f"sign-in refused: {hint}"
    error = result.get("error", "unknown error")
    if error == "invalid_client":
        return "sign-in refused: the client secret or client_id is wrong"
    if error == "unauthorized_client":
        return "sign-in refused: the app is not allowed to use client credentials in this tenant"
    return f"sign-in refused: {error}: {description.splitlines()[0] if description else 'no details given'}"
