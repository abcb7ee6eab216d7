"""The GraphQL points budget: what GitHub says is left, and how fast each loop may spend it.

GitHub grants a number of points per hour; each response's `rateLimit` tells the cost and what
remains. Both loops share one budget per installation, on purpose, with merging first: the
status pass (`next_status_delay`) may only spend what is left after the sync loop's projected
need until the reset, so it slows down first; the sync loop (`next_sync_delay`) slows only
when its own pace would not last until the reset.
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
    spent_total: int = 0
    last_status_cost: int | None = None
    _status_mark: int | None = None

    def observe(self, rate_limit: Mapping[str, object] | None) -> None:
        """Take in one response's `rateLimit { cost limit remaining resetAt }`."""
        if not rate_limit:
            return
        cost = rate_limit.get("cost")
        if isinstance(cost, int):
            self.spent_this_sync += cost
            self.spent_total += cost
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

    def begin_status_pass(self) -> None:
        self._status_mark = self.spent_total

    def end_status_pass(self) -> None:
        """What the status pass spent is its own estimate, not part of the sync's."""
        if self._status_mark is None:
            return
        cost = self.spent_total - self._status_mark
        self._status_mark = None
        self.spent_this_sync = max(0, self.spent_this_sync - cost)
        if cost:
            self.last_status_cost = cost

    def next_status_delay(self, now: datetime, period: float, sync_period: float) -> float:
        """Seconds to wait before the next status pass: at least `period`, longer when what is
        left after the reserve and the sync loop's need until the reset would not cover
        status passes at that pace, and until the reset when it covers none."""
        if self.remaining is None or self.reset_at is None:
            return period
        until_reset = (self.reset_at - now).total_seconds()
        if until_reset <= 0:
            return period
        reserve = int((self.limit or 0) * self.reserve_fraction)
        sync_need = self.cost_per_sync * until_reset / max(sync_period, 1.0)
        usable = self.remaining - reserve - sync_need
        cost = max(1, self.last_status_cost or 1)
        if usable < cost:
            return max(period, until_reset)
        return max(period, until_reset / (usable // cost))

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
