"""The transport sections of the configuration: IT gets one line naming the key, before anything connects."""
import pytest

from core.config import load_config, secret
from core.errors import ConfigError

IMAP = '''
[imap]
host = "{imap_host}"
username = "qa-audits@wexcombe.example"
security = "{imap_security}"
[smtp]
host = "smtp.wexcombe.example"
username = "qa-audits@wexcombe.example"
auth = "{smtp_auth}"
'''


def configured(site, transport: str, extra: str = "") -> None:
    text = site.config_path.read_text(encoding="utf-8").replace('transport = "maildir"', f'transport = "{transport}"')
    site.config_path.write_text(text + extra, encoding="utf-8")


def imap(imap_host="imap.wexcombe.example", imap_security="tls", smtp_auth="password") -> str:
    return IMAP.format(imap_host=imap_host, imap_security=imap_security, smtp_auth=smtp_auth)


def test_a_complete_imap_configuration_is_taken_with_defaults_filled_in(site):
    configured(site, "imap", imap())
    config = load_config(site.config_path)
    assert config.transport == "imap"
    assert config.settings("imap")["port"] == 993 and config.settings("imap")["processed_folder"] == "Processed"
    assert config.settings("smtp")["security"] == "starttls"


@pytest.mark.parametrize("transport, extra, key", [
    ("imap", "", "imap.host"),
    ("imap", imap(imap_security="plain"), "imap.security"),
    ("imap", imap(imap_security="ssl"), "imap.security"),
    ("imap", imap(smtp_auth="xoauth2"), "oauth.tenant_id"),
    ("ews", '[ews]\nusername = "COUNCIL\\\\svc"\n', "ews.server"),
    ("ews", '[ews]\nusername = "svc"\nserver = "mail.wexcombe.example"\naccess_type = "owner"\n', "ews.access_type"),
    ("graph", "", "oauth.tenant_id"),
])
def test_an_incomplete_or_unsafe_transport_names_the_key(site, transport, extra, key):
    configured(site, transport, extra)
    with pytest.raises(ConfigError) as caught:
        load_config(site.config_path)
    assert caught.value.message.startswith(f"config: {key}:")


def test_plain_connections_are_allowed_to_loopback_only(site):
    configured(site, "imap", imap(imap_host="127.0.0.1", imap_security="plain"))
    assert load_config(site.config_path).settings("imap")["security"] == "plain"


def test_secrets_come_from_the_environment_and_a_missing_one_is_named(monkeypatch):
    monkeypatch.setenv("AUDITMAIL_TEST_SECRET", "s3cret")
    assert secret("AUDITMAIL_TEST_SECRET", "imap.password_env") == "s3cret"
    monkeypatch.delenv("AUDITMAIL_TEST_SECRET")
    with pytest.raises(ConfigError) as caught:
        secret("AUDITMAIL_TEST_SECRET", "imap.password_env")
    assert "AUDITMAIL_TEST_SECRET" in caught.value.message and "imap.password_env" in caught.value.message
