"""CI capacity across pools: how many new staging runs a pool may start this sync.

`queue.max_concurrent_runs_total` caps the staging runs tide keeps in flight over every pool
of this instance. Pools decide one after another inside a sync, so each one is told the room
that is left: the cap, less the runs in flight counted this sync for the pools already seen,
less the last count for the pools not seen yet (runs only start through tide, so an old count
can only be too high: the cap is never exceeded, at worst a run starts one sync later).
"""

from __future__ import annotations

from collections.abc import Iterable

from tide.staging import Outcome, RunResult


def in_flight(runs: Iterable[RunResult]) -> int:
    """Staging runs of one pool that still wait for CI."""
    return sum(1 for r in runs if r.outcome == Outcome.PENDING)


class RunAllowance:
    """The instance-wide count behind `PoolState.run_room` (the shell's bookkeeping)."""

    def __init__(self) -> None:
        self._last: dict[str, int] = {}  # pool -> runs in flight when last seen
        self._now: dict[str, int] = {}  # pool -> runs in flight seen this sync, with new ones

    def start_sync(self) -> None:
        self._last.update(self._now)
        self._now = {}

    def room(self, cap: int | None, pool: str, running: int) -> int | None:
        """How many runs `pool` may start now (None: no overall cap); records `running`."""
        self._now[pool] = running
        if cap is None:
            return None
        busy = sum(self._now.values())
        busy += sum(n for key, n in self._last.items() if key not in self._now)
        return max(0, cap - busy)

    def started(self, pool: str, count: int) -> None:
        self._now[pool] = self._now.get(pool, 0) + count

    def forget(self, keep: Iterable[str]) -> None:
        """Pools that are gone (config change, no PRs and no runs) hold no CI any more."""
        wanted = set(keep)
        self._last = {k: v for k, v in self._last.items() if k in wanted}
