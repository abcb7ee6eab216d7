"""How fast each loop may go on the shared GraphQL budget, and saying so when it changes.

Merging comes first: the status pass is paced on what the sync loop leaves (see
`tide.github.budget`), so when points run low the status pass slows down before the sync
loop does. `slowing_down` is logged when a loop's pace drops, `pace_restored` when it
recovers; never once per sync.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import structlog

from tide.github.budget import RateBudget

log = structlog.get_logger()

SLOWER = 1.01  # a delay above period x this counts as slowed down


class Pacer:
    """The earliest time each loop may run again (None: on its schedule)."""

    def __init__(self) -> None:
        self.sync_not_before: datetime | None = None
        self.status_not_before: datetime | None = None

    def after_sync(self, budgets: Sequence[RateBudget], now: datetime, period: float) -> None:
        if not budgets:
            return
        # The installation that would run dry first sets the pace.
        budget = max(budgets, key=lambda b: b.next_sync_delay(now, period))
        delay = budget.next_sync_delay(now, period)
        was = self.sync_not_before is not None
        self.sync_not_before = now + timedelta(seconds=delay) if delay > period * SLOWER else None
        _say("sync", was, self.sync_not_before is not None, delay, period, budget)

    def after_status_pass(
        self, budgets: Sequence[RateBudget], now: datetime, period: float, sync_period: float
    ) -> None:
        if not budgets:
            return
        budget = max(budgets, key=lambda b: b.next_status_delay(now, period, sync_period))
        delay = budget.next_status_delay(now, period, sync_period)
        was = self.status_not_before is not None
        slow = delay > period * SLOWER
        self.status_not_before = now + timedelta(seconds=delay) if slow else None
        _say("statuses", was, slow, delay, period, budget)

    def status_due(self, now: datetime) -> bool:
        return self.status_not_before is None or now >= self.status_not_before


def _say(loop: str, was: bool, slow: bool, delay: float, period: float, budget: RateBudget) -> None:
    if slow and not was:
        log.warning(
            "slowing_down",
            loop=loop,
            next_in=round(delay),
            period=period,
            rate_remaining=budget.remaining,
            resets_at=str(budget.reset_at),
        )
    elif was and not slow:
        log.info("pace_restored", loop=loop, period=period, rate_remaining=budget.remaining)
    elif slow:
        log.debug("still_slow", loop=loop, next_in=round(delay), rate_remaining=budget.remaining)
