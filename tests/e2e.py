"""End-to-end harness: the real daemon against the simulator over 127.0.0.1, sharing a
virtual clock, so CI durations and back-offs take no real time."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from tide.clock import VirtualClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.retry import RetryPolicy
from tide.history import History
from tide.report import SyncReport
from tide.sim import FakeCI, Job, SimServer, World

TOKEN = "sim-token"

DEFAULT_TIDE = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo]
    labels: [lgtm]
    missingLabels: [do-not-merge/hold]
  blocker_label: tide/merge-blocker
"""


def config_text(sim: SimServer, tide: str = DEFAULT_TIDE, queue: str = "") -> str:
    head = f"""
github:
  graphql_url: {sim.graphql_url}
  api_url: {sim.api_url}
"""
    return textwrap.dedent(head) + textwrap.dedent(tide) + textwrap.dedent(queue)


def make_world(
    clock: VirtualClock, *, ci: FakeCI | None = None, files: dict[str, str] | None = None
) -> World:
    world = World(clock, tokens={TOKEN: "tide-bot"})
    world.create_repo(
        "org/repo",
        files=files or {"README.md": "hello\n", "src/app.txt": "v1\n"},
        ci=ci or FakeCI([Job("ci/test", duration=600)], branches=["tide/*"]),
    )
    return world


def advance_base_world(world: World, path: str = "base.txt") -> None:
    """Move the base branch on, so PRs opened earlier need a staging run."""
    world.push_branch("org/repo", "main", {path: "moved\n"}, message="unrelated change")


class Queue:
    """One daemon wired to the simulator; `step()` is one minute of simulated life."""

    def __init__(self, sim: SimServer, clock: VirtualClock, daemon: Daemon) -> None:
        self.sim = sim
        self.world = sim.world
        self.clock = clock
        self.daemon = daemon
        self.reports: list[SyncReport] = []

    async def sync(self) -> SyncReport:
        self.world.tick()
        report = await self.daemon.sync_once()
        self.reports.append(report)
        await self.daemon.statuses_once()
        return report

    async def step(self, seconds: float = 60.0) -> SyncReport:
        self.clock.advance(seconds)
        return await self.sync()

    async def run(self, minutes: int) -> None:
        for _ in range(minutes):
            await self.step()

    def pr(self, number: int, repo: str = "org/repo"):
        return self.world.pr(repo, number)

    def status(self, number: int, repo: str = "org/repo") -> tuple[str, str] | None:
        """The `tide` status (state, description) on the PR's current head."""
        pr = self.pr(number, repo)
        statuses = self.world.repo(repo).statuses.get(pr.head_sha, [])
        mine = [s for s in statuses if s.context == "tide"]
        if not mine:
            return None
        return mine[-1].state, mine[-1].description

    def merged(self, repo: str = "org/repo") -> list[int]:
        return [m.number for m in self.world.journal.merges if m.repo == repo]


@asynccontextmanager
async def running_queue(
    world: World,
    clock: VirtualClock,
    *,
    tide: str = DEFAULT_TIDE,
    queue: str = "",
    dry_run: bool = False,
    history_path: Path | None = None,
    sim: SimServer | None = None,
    instance: str | None = None,
) -> AsyncIterator[Queue]:
    """The simulator for `world` (or `sim`), plus a daemon configured against it."""
    if sim is None:
        async with (
            SimServer(world) as started,
            running_daemon(
                started,
                clock,
                tide=tide,
                queue=queue,
                dry_run=dry_run,
                history_path=history_path,
                instance=instance,
            ) as q,
        ):
            yield q
    else:
        async with running_daemon(
            sim,
            clock,
            tide=tide,
            queue=queue,
            dry_run=dry_run,
            history_path=history_path,
            instance=instance,
        ) as q:
            yield q


@asynccontextmanager
async def running_daemon(
    sim: SimServer,
    clock: VirtualClock,
    *,
    tide: str = DEFAULT_TIDE,
    queue: str = "",
    dry_run: bool = False,
    history_path: Path | None = None,
    instance: str | None = None,
) -> AsyncIterator[Queue]:
    config = parse_config(config_text(sim, tide, queue))
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
    retry = RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0)
    async with GitHub(endpoint, StaticToken(TOKEN), clock=clock, retry=retry) as gh:
        daemon = Daemon(
            ConfigHolder(config),
            gh,
            clock=clock,
            dry_run=dry_run,
            history=History(path=history_path),
            instance=instance,
        )
        yield Queue(sim, clock, daemon)
