"""The fake Graph's HTTP side: the request handler (sign-in and Graph routes) and its TLS certificate."""
import json
import re
import secrets
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (made once per folder); returns (certificate, key) paths."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    cert_path, key_path = folder / "fake-graph.pem", folder / "fake-graph.key"
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    # Fixed, wide validity: tests freeze Python's clock, OpenSSL checks against the real one.
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(datetime(2020, 1, 1)).not_valid_after(datetime(2099, 1, 1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


DEFAULT_CODES = {429: "ApplicationThrottled", 503: "ServiceUnavailable", 504: "GatewayTimeout",
                 403: "ErrorAccessDenied", 500: "InternalServerError"}


class Handler(BaseHTTPRequestHandler):
    """One client connection; keep-alive (HTTP/1.1), so the fake can count connections."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet: the tests read `fake.seen` instead
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        from servers.fake_graph import Seen

        fake = self.server.fake
        parts = urlsplit(self.path)
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = Seen(method, unquote(parts.path), parts.query, self.client_address)
        fake.entered()
        try:
            with fake.lock:
                fake.seen.append(seen)
                status, headers, payload = self._route(fake, method, seen.path, parse_qs(parts.query), body, seen)
                seen.answered = status
        finally:
            fake.left()
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode() if payload is not None else b""
        self.send_response(status)
        headers.setdefault("Content-Type", "application/json" if not isinstance(payload, bytes) else "message/rfc822")
        for name, value in {**headers, "Content-Length": str(len(data))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _route(self, fake, method, path, query, body, seen):
        if re.fullmatch(r"/[^/]+/v2\.0/\.well-known/openid-configuration", path):
            return self._discovery(fake, path.split("/")[1])
        if method == "POST" and re.fullmatch(r"/[^/]+/oauth2/v2\.0/token", path):
            return self._token(fake, path.split("/")[1], parse_qs(body.decode()))
        match = re.fullmatch(r"/v1\.0/users/([^/]+)(/.*)", path)
        if not match:
            return 404, {}, error("UnknownPath", path)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in fake.tokens:
            seen.authorised = False
            return 401, {}, error("InvalidAuthenticationToken", "Access token is empty or invalid.")
        fault = fake.take_fault(unquote(self.path))
        if fault:
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return fault.status, headers, error(fault.code or DEFAULT_CODES.get(fault.status, "Error"), "injected")
        user, rest = match.groups()
        if user.lower() != fake.mailbox.lower():
            return 404, {}, error("ErrorInvalidUser", f"The requested user '{user}' is invalid.")
        needed = "Mail.Send" if rest == "/sendMail" else "Mail.ReadWrite"
        if needed not in fake.permissions:
            return 403, {}, error("ErrorAccessDenied", "Access is denied. Check credentials and try again.")
        from servers.fake_graph_routes import graph_route

        return graph_route(fake, method, rest, query, body, self.headers)

    def _discovery(self, fake, tenant):
        if tenant != fake.tenant:
            return 400, {}, {"error": "invalid_tenant",
                             "error_description": f"AADSTS90002: Tenant '{tenant}' not found."}
        base = f"{fake.url}/{tenant}"
        return 200, {}, {"token_endpoint": f"{base}/oauth2/v2.0/token",
                         "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                         "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                         "issuer": f"{base}/v2.0", "token_endpoint_auth_methods_supported": ["client_secret_post"]}

    def _token(self, fake, tenant, form):
        value = {k: v[0] for k, v in form.items()}
        if tenant != fake.tenant:
            return 400, {}, {"error": "invalid_request", "error_description": f"AADSTS90002: Tenant '{tenant}' not found."}
        if value.get("grant_type") != "client_credentials":
            return 400, {}, {"error": "unsupported_grant_type", "error_description": "AADSTS70003: unsupported grant"}
        if value.get("client_id") != fake.client_id:
            return 400, {}, {"error": "unauthorized_client", "error_description":
                             f"AADSTS700016: Application with identifier '{value.get('client_id')}' was not found "
                             f"in the directory '{tenant}'."}
        if value.get("client_secret") != fake.secret:
            return 401, {}, {"error": "invalid_client", "error_description":
                             "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the "
                             "request is the client secret value, not the client secret ID."}
        if value.get("scope") != f"{fake.url}/.default":
            return 400, {}, {"error": "invalid_scope", "error_description":
                             f"AADSTS1002012: The provided value for scope {value.get('scope')} is not valid."}
        token = secrets.token_urlsafe(24)
        fake.tokens.add(token)
        return 200, {}, {"token_type": "Bearer", "expires_in": 3599, "access_token": token}
