"""Primary rate limits: an hourly GraphQL points budget and a REST request budget per token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

WINDOW = timedelta(hours=1)


@dataclass
class Window:
    """One token's budget for one resource; the hour starts with its first request."""

    limit: int
    used: int = 0
    started: datetime | None = None

    def roll(self, now: datetime) -> None:
        if self.started is None or now >= self.started + WINDOW:
            self.started = now
            self.used = 0

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_at(self) -> datetime:
        assert self.started is not None
        return self.started + WINDOW

    def charge(self, cost: int) -> bool:
        """Spend `cost` if it fits; False (nothing spent) when the budget cannot cover it."""
        if cost > self.remaining:
            return False
        self.used += cost
        return True

    def headers(self, resource: str) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(int(self.reset_at.timestamp())),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-resource": resource,
        }


class RateBudgets:
    def __init__(self, graphql_limit: int = 5000, rest_limit: int = 5000) -> None:
        self.graphql_limit = graphql_limit
        self.rest_limit = rest_limit
        self._graphql: dict[str, Window] = {}
        self._rest: dict[str, Window] = {}

    def __repr__(self) -> str:  # the keys are tokens
        return f"RateBudgets(graphql={self.graphql_limit}/h, rest={self.rest_limit}/h)"

    def graphql(self, token: str, now: datetime) -> Window:
        window = self._graphql.setdefault(token, Window(self.graphql_limit))
        window.roll(now)
        return window

    def rest(self, token: str, now: datetime) -> Window:
        window = self._rest.setdefault(token, Window(self.rest_limit))
        window.roll(now)
        return window

    def set_remaining(
        self, token: str, now: datetime, *, graphql: int | None = None, rest: int | None = None
    ) -> None:
        """For tests: leave exactly this much of the current hour's budget."""
        if graphql is not None:
            window = self.graphql(token, now)
            window.used = window.limit - graphql
        if rest is not None:
            window = self.rest(token, now)
            window.used = window.limit - rest
