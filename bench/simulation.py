"""One benchmark run: a seeded PR stream against the real daemon and the simulator, driven
event by event on a shared virtual clock, so hours of queue traffic take seconds.

The daemon syncs on its 1-minute schedule. After a sync that changed nothing on GitHub,
the ticks before the next CI event would see the same eligible PRs and runs (a PR that
just opened is not eligible before its own check ends, which is such an event), so
they are skipped, and their requests counted as the last idle sync's.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bench.strategies import READY_LABEL, REPO, config_for
from bench.workload import Arrival, Kind, Workload, arrivals
from tide.clock import VirtualClock
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.retry import RetryPolicy
from tide.history import History
from tide.pool import Action
from tide.sim import FakeCI, Job, SimServer, World, fail_if_all_present
from tide.sim.world.entities import SimPR, SimRepo
from tide.sync import SyncReport

TOKEN = "bench-token"
CONTEXT = "ci/test"
# On the base right after the start; bad PRs branch from before it, and fail with it.
MARKER = "MARKER"
BASE = "main"
QUIET = (Action.WAIT, Action.BLOCKED)

Trace = Callable[[datetime, SyncReport], None]


@dataclass
class Run:
    """A finished simulation: the world as it ended, plus what the driver counted."""

    workload: Workload
    strategy: str
    seed: int
    world: World
    started: datetime
    ended: datetime
    stream: list[Arrival]
    numbers: dict[int, int] = field(default_factory=dict)  # arrival index -> PR number
    syncs: int = 0
    skipped_syncs: int = 0
    skipped_requests: int = 0  # what the skipped idle syncs would have asked GitHub

    @property
    def repo(self) -> SimRepo:
        return self.world.repo(REPO)


class _Stream:
    """Opens the workload's PRs at their arrival times, as their authors would."""

    def __init__(self, world: World, workload: Workload, stream: list[Arrival]) -> None:
        self.world = world
        self.repo = world.repo(REPO)
        self.workload = workload
        self.pending = list(stream)
        self.numbers: dict[int, int] = {}
        self.paths: dict[int, str] = {}
        self.initial = self.repo.git.history[BASE][0]
        self._watched: list[int] = []  # indices into ci.runs of PR checks still running

    def next_at(self) -> float:
        return self.pending[0].at if self.pending else math.inf

    def open_until(self, t: float, advance_to: Callable[[float], None]) -> None:
        """Open every PR arriving by `t`, each at its own time."""
        while self.next_at() <= t:
            arrival = self.pending.pop(0)
            advance_to(arrival.at)
            self.world.tick()
            self.open(arrival)

    def open(self, arrival: Arrival) -> SimPR:
        ci = self.repo.ci
        assert ci is not None
        path = arrival.path
        if arrival.kind == Kind.BAD:
            ci.rules.append(fail_if_all_present(MARKER, path))
        if arrival.partner is not None and arrival.partner in self.paths:
            ci.rules.append(fail_if_all_present(self.paths[arrival.partner], path))
        self.paths[arrival.index] = path
        before = len(ci.runs)
        pr = self.world.open_pr(
            self.repo,
            files={path: f"change {arrival.index}\n"},
            title=f"{arrival.kind.value} change {arrival.index}",
            labels=[READY_LABEL],
            from_sha=self.initial if arrival.kind == Kind.BAD else None,
        )
        self._watched.extend(range(before, len(ci.runs)))
        self.numbers[arrival.index] = pr.number
        return pr

    def rerun_flakes(self) -> None:
        """An author re-runs their PR's own check when it flaked (a real failure stays)."""
        ci = self.repo.ci
        assert ci is not None
        still: list[int] = []
        for i in self._watched:
            run = ci.runs[i]
            if not run.done:
                still.append(i)
                continue
            if not run.flaked:
                continue
            pr = next((p for p in self.repo.open_with_head(run.sha)), None)
            if pr is None:
                continue
            before = len(ci.runs)
            ci.start(self.world, self.repo, run.sha, ref=run.ref)
            still.extend(range(before, len(ci.runs)))
        self._watched = still


def build_world(workload: Workload, seed: int) -> tuple[VirtualClock, World]:
    clock = VirtualClock()
    world = World(
        clock,
        tokens={TOKEN: "tide-bot"},
        seed=seed,
        # GitHub's budgets are per hour; the daemon must live within them, so keep them.
        graphql_points_per_hour=5000,
        rest_requests_per_hour=5000,
    )
    ci = FakeCI(
        [Job(CONTEXT, duration=workload.ci_seconds)],
        branches=["tide/*"],
        flake_rate=workload.flake_rate,
        seed=seed,
    )
    world.create_repo(REPO, files={"README.md": "# bench\n"}, ci=ci)
    world.push_branch(REPO, BASE, {MARKER: "on the base since the start\n"}, message="Marker")
    return clock, world


def _wrote(world: World, since: int) -> bool:
    """Whether any request after `since` changed something on GitHub."""
    return any(
        r.method not in ("GET", "HEAD") and r.endpoint.split(" ")[1] != "/graphql"
        for r in world.journal.requests[since:]
    )


async def simulate(
    workload: Workload,
    strategy: str,
    seed: int,
    *,
    trace: Trace | None = None,
    skip_idle: bool = True,
) -> Run:
    """Run `strategy` on `workload` for the workload's hours; `skip_idle=False` syncs on
    every tick (slower, the same decisions: the tests hold the shortcut to that)."""
    clock, world = build_world(workload, seed)
    start = clock.now()
    stream_plan = arrivals(workload, seed)
    stream = _Stream(world, workload, stream_plan)
    period = 60.0
    end = workload.seconds
    run = Run(workload, strategy, seed, world, start, start, stream_plan)

    def elapsed() -> float:
        return (clock.now() - start).total_seconds()

    def advance_to(t: float) -> None:
        gap = t - elapsed()
        if gap > 0:
            clock.advance(gap)

    async with SimServer(world) as sim:
        config = config_for(strategy, sim.graphql_url, sim.api_url)
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        retry = RetryPolicy(attempts=3, base_delay=1.0, max_delay=10.0)
        async with GitHub(endpoint, StaticToken(TOKEN), clock=clock, retry=retry) as gh:
            daemon = Daemon(ConfigHolder(config), gh, clock=clock, history=History())
            next_sync = period
            idle_cost = 0
            while next_sync <= end:
                stream.open_until(next_sync, advance_to)
                advance_to(next_sync)
                world.tick()
                stream.rerun_flakes()
                before = len(world.journal.requests)
                report = await daemon.sync_once()
                run.syncs += 1
                if trace is not None:
                    trace(clock.now(), report)
                busy = _wrote(world, before) or any(
                    p.error or p.decision.action not in QUIET for p in report.pools
                )
                # The next tick on the schedule (a long sync skips the ticks it overran).
                following = period * (math.floor(elapsed() / period) + 1)
                if busy or not skip_idle:
                    next_sync = following
                    continue
                idle_cost = len(world.journal.requests) - before
                wake = end + period
                while True:
                    # An event applied while opening a PR still wants the tick after it.
                    due = world.next_event_at()
                    if due is not None:
                        wake = min(wake, (due - start).total_seconds())
                    next_sync = max(following, period * math.ceil(wake / period))
                    # PRs opening before then start CI runs that may end sooner.
                    if stream.next_at() > next_sync:
                        break
                    stream.open_until(stream.next_at(), advance_to)
                skipped = int((min(next_sync, end + period) - following) // period)
                run.skipped_syncs += skipped
                run.skipped_requests += skipped * idle_cost
            advance_to(end)
            world.tick()
    run.ended = clock.now()
    run.numbers = dict(stream.numbers)
    return run
