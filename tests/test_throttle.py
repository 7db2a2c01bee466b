"""The retry policy and the rate limiter: how long the service waits, and that it never waits without bound."""
import pytest

from core.errors import TemporaryFailure
from core.graph import GraphClient
from core.backoff import FAIL_FAST, Backoff
from core.throttle import RateLimiter


class Clock:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self):
        self.now, self.slept = 100.0, []

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_the_policy_obeys_retry_after_and_doubles_its_own_backoff():
    policy = Backoff(tries=5, budget=60, first=1)
    assert policy.wait_before_retry(1, 0, retry_after=7) == 7
    assert [policy.wait_before_retry(n, 0, None) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]


def test_the_policy_gives_up_when_the_wait_would_overrun_its_budget_or_attempts():
    policy = Backoff(tries=5, budget=60, first=1)
    assert policy.wait_before_retry(1, 0, retry_after=61) is None
    assert policy.wait_before_retry(2, 50, retry_after=11) is None
    assert policy.wait_before_retry(5, 0, retry_after=1) is None
    assert FAIL_FAST.wait_before_retry(1, 0, None) is None


def test_the_limiter_lets_a_full_window_through_then_waits_for_the_oldest_to_age_out():
    clock = Clock()
    limiter = RateLimiter(3, 10, sleep=clock.sleep, clock=lambda: clock.now)
    for _ in range(3):
        assert limiter.acquire() == 0
        clock.now += 1
    assert limiter.acquire() == pytest.approx(7)  # the first went at 100, the window is 10 s, it is now 103
    assert clock.slept == [7]
    clock.now += 20
    assert limiter.acquire() == 0


def test_the_limiter_cannot_spin_on_a_frozen_clock():
    clock = Clock()
    limiter = RateLimiter(2, 10, sleep=clock.sleep, clock=lambda: 100.0)  # never moves, as under freezegun
    for _ in range(5):
        limiter.acquire()
    assert clock.slept == [10, 10]  # each wait is one window at most, never longer


def test_the_graph_client_backs_off_on_503_then_gives_up_with_a_temporary_failure(fake_graph):
    fake_graph.tokens.add("test-token")
    clock = Clock()
    client = GraphClient(fake_graph.endpoint, fake_graph.mailbox, lambda: "test-token",
                         policy=Backoff(tries=4, budget=60, first=1), sleep=clock.sleep)
    fake_graph.fail_next(2, 503)
    assert client.request("GET", "/mailFolders/inbox", permission="Mail.ReadWrite").json()["id"] == "inbox"
    assert clock.slept == [1, 2]
    fake_graph.fail_next(10, 503)
    with pytest.raises(TemporaryFailure, match="unavailable"):
        client.request("GET", "/mailFolders/inbox", permission="Mail.ReadWrite")
    assert clock.slept == [1, 2, 1, 2, 4]  # four tries, then the failure goes to the caller
    client.close()


def test_the_graph_client_never_sends_its_token_to_another_host(fake_graph):
    from core.errors import PermanentFailure

    client = GraphClient(fake_graph.endpoint, fake_graph.mailbox, lambda: "secret-token")
    with pytest.raises(PermanentFailure, match="another host"):
        client.request("GET", "https://attacker.example/steal", permission="Mail.ReadWrite")
    client.close()
