"""The GraphQL points budget and the retry/rate-limit arithmetic (pure)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from tide.github.budget import RateBudget
from tide.github.retry import RetryPolicy, backoff_delay, is_rate_limited, rate_limit_wait

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def rate_limit(cost: int, remaining: int, reset_in: float, limit: int = 5000) -> dict:
    reset = (NOW + timedelta(seconds=reset_in)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"cost": cost, "limit": limit, "remaining": remaining, "resetAt": reset}


def test_budget_adds_up_the_cost_of_every_response_in_a_sync():
    budget = RateBudget()

    budget.observe(rate_limit(cost=3, remaining=4997, reset_in=3600))
    budget.observe(rate_limit(cost=2, remaining=4995, reset_in=3600))

    assert budget.spent_this_sync == 5
    assert (budget.remaining, budget.limit) == (4995, 5000)
    assert budget.reset_at == NOW + timedelta(hours=1)


def test_starting_a_sync_makes_the_last_spend_the_estimate():
    budget = RateBudget()
    budget.observe(rate_limit(cost=40, remaining=4960, reset_in=3600))

    budget.start_sync()

    assert budget.spent_this_sync == 0
    assert budget.last_sync_cost == 40
    assert budget.cost_per_sync == 40


def test_plenty_of_points_keeps_the_configured_period():
    budget = RateBudget()
    budget.observe(rate_limit(cost=10, remaining=4990, reset_in=3600))
    budget.start_sync()

    assert budget.next_sync_delay(NOW, period=60) == 60


def test_a_budget_that_would_run_dry_spaces_syncs_until_the_reset():
    budget = RateBudget(reserve_fraction=0.0)
    budget.observe(rate_limit(cost=100, remaining=1000, reset_in=3600))
    budget.start_sync()

    # 1,000 points at 100 a sync is 10 syncs for the hour left: one every 6 minutes.
    assert budget.next_sync_delay(NOW, period=60) == pytest.approx(360)


def test_the_reserve_is_kept_back_from_the_pace():
    budget = RateBudget(reserve_fraction=0.1)
    budget.observe(rate_limit(cost=100, remaining=1000, reset_in=3600, limit=5000))
    budget.start_sync()

    # 500 of the 1,000 are reserve: 5 syncs for the hour.
    assert budget.next_sync_delay(NOW, period=60) == pytest.approx(720)


def test_when_one_more_sync_is_unaffordable_wait_for_the_reset():
    budget = RateBudget(reserve_fraction=0.0)
    budget.observe(rate_limit(cost=100, remaining=50, reset_in=900))
    budget.start_sync()

    assert budget.next_sync_delay(NOW, period=60) == pytest.approx(900)


def test_a_reset_in_the_past_means_the_knowledge_is_stale():
    budget = RateBudget()
    budget.observe(rate_limit(cost=100, remaining=0, reset_in=-5))

    assert budget.next_sync_delay(NOW, period=60) == 60


def test_nothing_known_yet_keeps_the_period():
    assert RateBudget().next_sync_delay(NOW, period=30) == 30


def test_backoff_is_full_jitter_under_an_exponential_ceiling():
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    rng = random.Random(7)

    delays = {
        attempt: [backoff_delay(policy, attempt, rng) for _ in range(200)]
        for attempt in (1, 2, 3, 4)
    }

    assert max(delays[1]) <= 1.0 and max(delays[2]) <= 2.0 and max(delays[3]) <= 4.0
    assert max(delays[4]) <= 5.0  # capped
    assert min(delays[3]) < 1.0 < max(delays[3])  # jittered across the whole range


def test_403_is_a_rate_limit_only_when_github_says_so():
    assert is_rate_limited(429, {}, "")
    assert is_rate_limited(403, {"retry-after": "30"}, "")
    assert is_rate_limited(403, {"x-ratelimit-remaining": "0"}, "API rate limit exceeded")
    assert is_rate_limited(403, {}, "You have exceeded a secondary rate limit.")
    assert not is_rate_limited(403, {"x-ratelimit-remaining": "4000"}, "Must have admin rights")
    assert not is_rate_limited(404, {"retry-after": "30"}, "")


def test_retry_after_wins_over_the_reset_time():
    headers = {
        "retry-after": "42",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int((NOW + timedelta(minutes=30)).timestamp())),
    }

    assert rate_limit_wait(headers, NOW) == 42


def test_exhausted_primary_limit_waits_until_the_reset():
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int((NOW + timedelta(seconds=120)).timestamp())),
    }

    assert rate_limit_wait(headers, NOW) == pytest.approx(121)  # one second of slack


def test_retry_after_as_an_http_date():
    assert rate_limit_wait({"retry-after": "Mon, 05 Jan 2026 09:01:00 GMT"}, NOW) == 60


def test_secondary_limit_without_a_time_waits_a_minute():
    assert rate_limit_wait({}, NOW) == 60
