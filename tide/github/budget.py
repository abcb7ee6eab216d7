"""The GraphQL points budget: what GitHub says is left, and how fast the sync loop may spend it.

GitHub grants a number of points per hour; each response's `rateLimit` tells the cost and what
remains. The sync loop asks `next_sync_delay` so it slows down before running dry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

# Points kept back for the status loop and for an operator poking at things by hand.
DEFAULT_RESERVE_FRACTION = 0.05


@dataclass
class RateBudget:
    """Mutable account of the hourly GraphQL budget, updated from every response."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None
    spent_this_sync: int = 0
    last_sync_cost: int | None = None
    reserve_fraction: float = DEFAULT_RESERVE_FRACTION

    def observe(self, rate_limit: Mapping[str, object] | None) -> None:
        """Take in one response's `rateLimit { cost limit remaining resetAt }`."""
        if not rate_limit:
            return
        cost = rate_limit.get("cost")
        if isinstance(cost, int):
            self.spent_this_sync += cost
        limit = rate_limit.get("limit")
        if isinstance(limit, int):
            self.limit = limit
        remaining = rate_limit.get("remaining")
        if isinstance(remaining, int):
            self.remaining = remaining
        reset = rate_limit.get("resetAt")
        if isinstance(reset, str):
            self.reset_at = parse_time(reset)

    def exhausted(self, reset_at: datetime | None) -> None:
        """GitHub answered RATE_LIMITED: nothing is left until `reset_at`."""
        self.remaining = 0
        if reset_at is not None:
            self.reset_at = reset_at

    def start_sync(self) -> None:
        """Mark a sync boundary: what the finished sync spent becomes the estimate for the next."""
        if self.spent_this_sync:
            self.last_sync_cost = self.spent_this_sync
        self.spent_this_sync = 0

    @property
    def cost_per_sync(self) -> int:
        return max(1, self.last_sync_cost or self.spent_this_sync or 1)

    def next_sync_delay(self, now: datetime, period: float) -> float:
        """Seconds to wait before the next sync: at least `period`, longer when the points left
        would not last until the reset at the current pace, and until the reset when one more
        sync cannot be afforded at all."""
        if self.remaining is None or self.reset_at is None:
            return period
        until_reset = (self.reset_at - now).total_seconds()
        if until_reset <= 0:
            return period  # the window has rolled over; what we know is stale
        reserve = int((self.limit or 0) * self.reserve_fraction)
        usable = self.remaining - reserve
        cost = self.cost_per_sync
        if usable < cost:
            return max(period, until_reset)
        affordable_syncs = usable // cost
        return max(period, until_reset / affordable_syncs)


def parse_time(text: str) -> datetime:
    """GitHub's ISO-8601 timestamps (`2026-01-05T09:00:00Z`) as aware datetimes."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
