"""A test whose server is missing here is skipped with how to enable it, but never in CI, where it fails."""
import pytest

from servers.skips import missing


def test_without_ci_a_missing_server_skips_saying_how_to_enable_it(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="Dovecot is not available here; to run these tests: apt-get"):
        missing("Dovecot", "apt-get install -y dovecot-imapd dovecot-lmtpd")


@pytest.mark.parametrize("value", ["true", "TRUE", "1"])
def test_in_ci_a_missing_server_fails_the_run(monkeypatch, value):
    monkeypatch.setenv("CI", value)
    with pytest.raises(pytest.fail.Exception, match="CI=true and Dovecot is not available here"):
        missing("Dovecot", "apt-get install -y dovecot-imapd dovecot-lmtpd")
