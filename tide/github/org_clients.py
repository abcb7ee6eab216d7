"""The GitHub clients a daemon talks through: one for a token, or one per org installation
of a GitHub App (each installation has its own token, its own scope and its own budget).

Everything in a pool belongs to one org, so callers ask `for_org(org)` and never mix.
"""

from __future__ import annotations

import asyncio

from tide.clock import Clock, RealClock
from tide.github.app_auth import GitHubApp
from tide.github.budget import RateBudget
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.retry import RetryPolicy
from tide.write_pace import WritePace


class Clients:
    def __init__(
        self,
        single: GitHub | None = None,
        *,
        app: GitHubApp | None = None,
        endpoint: GitHubEndpoint | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        if (single is None) == (app is None):
            raise ValueError("give either one client or a GitHub App")
        self._single = single
        self._app = app
        self._endpoint = endpoint or GitHubEndpoint()
        self._clock = clock or RealClock()
        self._retry = retry
        self._by_org: dict[str, GitHub] = {}
        self._opening = asyncio.Lock()
        # One write budget for the whole instance, whichever installation sends the write.
        self.writes = single.writes if single is not None else WritePace()

    @classmethod
    def of(cls, gh: GitHub) -> Clients:
        """One already-open client for every org (a token, or a pinned installation)."""
        return cls(gh)

    @property
    def sharded(self) -> bool:
        """Searches must run per org: an installation token only sees its own org."""
        return self._app is not None

    async def for_org(self, org: str) -> GitHub:
        if self._single is not None:
            return self._single
        key = org.lower()
        async with self._opening:
            gh = self._by_org.get(key)
            if gh is None:
                assert self._app is not None
                gh = GitHub(
                    self._endpoint,
                    self._app.for_org(org),
                    clock=self._clock,
                    retry=self._retry,
                    writes=self.writes,
                )
                await gh.__aenter__()
                self._by_org[key] = gh
        return gh

    def opened(self) -> list[GitHub]:
        if self._single is not None:
            return [self._single]
        return list(self._by_org.values())

    @property
    def default(self) -> GitHub | None:
        """The client metrics and the start-up check read: the only one, or the first opened."""
        opened = self.opened()
        return opened[0] if opened else None

    def budgets(self) -> list[RateBudget]:
        return [gh.budget for gh in self.opened()]

    def start_sync(self) -> None:
        for budget in self.budgets():
            budget.start_sync()

    def begin_status_pass(self) -> None:
        for budget in self.budgets():
            budget.begin_status_pass()

    def end_status_pass(self) -> None:
        for budget in self.budgets():
            budget.end_status_pass()

    def spent_this_sync(self) -> int:
        return sum(b.spent_this_sync for b in self.budgets())

    def remaining(self) -> int | None:
        """The smallest budget left: the installation that will run dry first."""
        known = [b.remaining for b in self.budgets() if b.remaining is not None]
        return min(known) if known else None

    async def close(self) -> None:
        """Close the per-org clients this object opened (a single client is the caller's)."""
        for gh in self._by_org.values():
            await gh.close()
        self._by_org.clear()
