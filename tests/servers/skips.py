"""Skipping a test whose server is missing here, without ever letting CI pass by skipping it."""
import os

import pytest


def in_ci() -> bool:
    """True where the environment says it is CI (CI=true, as GitHub, GitLab and our .ci/run set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def missing(what: str, how_to_enable: str) -> None:
    """Skip the test, saying how to enable it; in CI the same call fails it, so a skip cannot hide a gap."""
    message = f"{what} is not available here; to run these tests: {how_to_enable}"
    if in_ci():
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)
