"""Queue strategies: how a pool picks what to test next and what to do with failures."""

from __future__ import annotations

from collections.abc import Callable

from tide.policy import BranchPolicy, FailureStrategy
from tide.pool import Decision, PoolState
from tide.strategies.bisect import decide_bisect
from tide.strategies.lanes import decide_lanes
from tide.strategies.steps import RunBook
from tide.strategies.tide import decide_tide

Strategy = Callable[[PoolState, RunBook], Decision]

STRATEGIES: dict[FailureStrategy, Strategy] = {
    FailureStrategy.BISECT: decide_bisect,
    FailureStrategy.TIDE: decide_tide,
    FailureStrategy.LANES: decide_lanes,
}


def strategy_for(policy: BranchPolicy) -> Strategy:
    return STRATEGIES[policy.queue.batch_failure_strategy]


__all__ = ["STRATEGIES", "Strategy", "strategy_for"]
