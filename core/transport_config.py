"""The transports' own configuration sections (DESIGN.md, "Mailbox transports") and their checks.

Each section is read only by the transport in use; the others keep their defaults and are not checked,
so a council can keep, say, an [imap] block for later while running on maildir.
"""
from core.errors import ConfigError

SECURITY = ("tls", "starttls", "plain")
# section -> key -> (type, default), merged into core/config.py's SCHEMA.
TRANSPORT_SCHEMA: dict[str, dict[str, tuple[type, object]]] = {
    "imap": {
        "host": (str, ""),
        "port": (int, 993),
        "security": (str, "tls"),
        "username": (str, ""),
        "auth": (str, "password"),
        "password_env": (str, "AUDITMAIL_IMAP_PASSWORD"),
        "inbox_folder": (str, "INBOX"),
        "processed_folder": (str, "Processed"),
        "failed_folder": (str, "Failed"),
    },
    "smtp": {
        "host": (str, ""),
        "port": (int, 587),
        "security": (str, "starttls"),
        "username": (str, ""),
        "auth": (str, "password"),
        "password_env": (str, "AUDITMAIL_SMTP_PASSWORD"),
    },
    "ews": {
        "server": (str, ""),
        "service_endpoint": (str, ""),
        "auth": (str, "ntlm"),
        "username": (str, ""),
        "password_env": (str, "AUDITMAIL_EWS_PASSWORD"),
        "access_type": (str, "delegate"),
        "processed_folder": (str, "Processed"),
        "failed_folder": (str, "Failed"),
    },
    "graph": {
        "processed_folder": (str, "Processed"),
        "failed_folder": (str, "Failed"),
        "endpoint": (str, "https://graph.microsoft.com/v1.0"),
        "authority": (str, "https://login.microsoftonline.com"),
    },
    "oauth": {
        "tenant_id": (str, ""),
        "client_id": (str, ""),
        "client_secret_env": (str, "AUDITMAIL_CLIENT_SECRET"),
    },
}

TRANSPORT_SECTIONS = ("imap", "smtp", "ews", "graph", "oauth")
# What each transport cannot work without; the rest have defaults.
NEEDS = {
    "imap": {"imap": ("host", "username"), "smtp": ("host", "username")},
    "ews": {"ews": ("username",)},
    "graph": {"oauth": ("tenant_id", "client_id")},
}
CHOICES = {"security": SECURITY, "auth": ("password", "xoauth2"), "access_type": ("delegate", "impersonation")}
LOOPBACK = ("localhost", "::1")


def check_transport(transport: str, v: dict) -> None:
    """The settings of the transport in use must be complete and make sense; others are left alone."""
    for section, keys in NEEDS.get(transport, {}).items():
        for key in keys:
            if not v[section][key].strip():
                raise ConfigError(f"is required when mailbox.transport = {transport!r}", key=f"{section}.{key}")
    sections = {"imap": ("imap", "smtp"), "ews": ("ews",), "graph": ("graph",)}.get(transport, ())
    for section in sections:
        values = v[section]
        for key, allowed in CHOICES.items():
            if section == "ews" and key == "auth":
                allowed = ("ntlm", "basic", "oauth")
            if key in values and values[key] not in allowed:
                raise ConfigError(f"must be one of {', '.join(allowed)}, not {values[key]!r}", key=f"{section}.{key}")
        if "port" in values and not 1 <= values["port"] <= 65535:
            raise ConfigError("must be a port number, 1 to 65535", key=f"{section}.port")
        if values.get("security") == "plain" and not _is_loopback(values["host"]):
            # A password or a child's case reference must never cross a network in clear text.
            raise ConfigError("plain (unencrypted) is allowed only to a loopback address such as 127.0.0.1; "
                              "use tls or starttls", key=f"{section}.security")
    if transport == "ews" and not (v["ews"]["server"].strip() or v["ews"]["service_endpoint"].strip()):
        raise ConfigError("needs ews.server or ews.service_endpoint", key="ews.server")
    uses_oauth = transport == "graph" or v["ews"]["auth"] == "oauth" and transport == "ews" or transport == "imap" and \
        "xoauth2" in (v["imap"]["auth"], v["smtp"]["auth"])
    if uses_oauth:
        for key in ("tenant_id", "client_id"):
            if not v["oauth"][key].strip():
                raise ConfigError("is required for OAuth (xoauth2, ews oauth, graph)", key=f"oauth.{key}")


def _is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    return host in LOOPBACK or host.startswith("127.")
