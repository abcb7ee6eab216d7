"""When to try a GitHub request again, and how long to wait first (pure arithmetic).

Transient failures back off exponentially with full jitter; rate limits wait for the time GitHub
names in `Retry-After` or `x-ratelimit-reset`, up to a cap.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# GitHub's advice for a secondary limit that names no time: wait at least a minute.
SECONDARY_LIMIT_DEFAULT_WAIT = 60.0
# x-ratelimit-reset has one-second resolution and clocks drift: wait a little past it.
RESET_SLACK = 1.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_rate_limit_wait: float = 600.0
    request_timeout: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("a request needs at least one attempt")


def backoff_delay(policy: RetryPolicy, attempt: int, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(max_delay, base * 2**(attempt-1))] after `attempt` failed."""
    ceiling = min(policy.max_delay, policy.base_delay * (2 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def is_rate_limited(status: int, headers: Mapping[str, str], message: str) -> bool:
    """GitHub's primary and secondary limits answer 403 or 429; a plain 403 is a permission."""
    if status == 429:
        return True
    if status != 403:
        return False
    if "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0":
        return True
    return "rate limit" in message.lower()


def rate_limit_wait(headers: Mapping[str, str], now: datetime) -> float:
    """Seconds GitHub asks us to wait: `Retry-After`, else until `x-ratelimit-reset` when
    nothing remains, else the documented minute for secondary limits."""
    retry_after = headers.get("retry-after")
    if retry_after is not None:
        seconds = _retry_after_seconds(retry_after, now)
        if seconds is not None:
            return seconds
    reset = reset_time(headers)
    if headers.get("x-ratelimit-remaining") == "0" and reset is not None:
        return max(0.0, (reset - now).total_seconds() + RESET_SLACK)
    return SECONDARY_LIMIT_DEFAULT_WAIT


def reset_time(headers: Mapping[str, str]) -> datetime | None:
    raw = headers.get("x-ratelimit-reset")
    if raw is None:
        return None
    try:
        return datetime.fromtimestamp(int(raw), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _retry_after_seconds(value: str, now: datetime) -> float | None:
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
