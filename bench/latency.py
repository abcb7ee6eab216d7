"""How long from a CI status turning green to the merge call, with and without webhooks.

Real time, real HTTP: the daemon with its scheduler and status server against the
simulator, which delivers signed webhooks when asked. For each mode, PRs are opened one
after another (the base moves first, so each needs a staging run); the clock starts when
the fake CI reports the staging commit green and stops when the PR is merged.

    python bench/latency.py [--samples 5] [--sync-period 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import textwrap
import time
from dataclasses import dataclass

import structlog

from tide.clock import RealClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, SimServer, World

TOKEN = "bench-token"
SECRET = "bench-secret"
CI_SECONDS = 2.0


@dataclass
class Mode:
    name: str
    webhooks: bool


def world_for() -> World:
    world = World(
        RealClock(),
        tokens={TOKEN: "tide-bot"},
        graphql_points_per_hour=1_000_000,
        rest_requests_per_hour=1_000_000,
    )
    world.create_repo("org/repo", files={"README.md": "x\n"}, ci=ci_taking(CI_SECONDS))
    return world


def ci_taking(seconds: float) -> FakeCI:
    return FakeCI([Job("ci/test", duration=seconds)], branches=["tide/*"])


def config_for(sim: SimServer, mode: Mode, sync_period: float) -> str:
    return textwrap.dedent(
        f"""
        github:
          graphql_url: {sim.graphql_url}
          api_url: {sim.api_url}
        tide:
          sync_period: {sync_period:g}s
          status_update_period: 1h
          queries:
          - repos: [org/repo]
            labels: [lgtm]
        webhooks:
          enabled: {"true" if mode.webhooks else "false"}
          secret_env: TIDE_BENCH_SECRET
          debounce: 0.5s
        """
    )


def any_green(world: World) -> bool:
    """Has the fake CI reported ci/test green on a staging commit?"""
    repo = world.repo("org/repo")
    staging = [sha for name, sha in repo.git.branches.items() if name.startswith("tide/")]
    return any(
        s.context == "ci/test" and s.state == "success"
        for sha in staging
        for s in repo.statuses.get(sha, [])
    )


async def measure(mode: Mode, samples: int, sync_period: float) -> list[float]:
    os.environ["TIDE_BENCH_SECRET"] = SECRET
    world = world_for()
    latencies: list[float] = []
    async with SimServer(world) as sim:
        config = parse_config(config_for(sim, mode, sync_period))
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(TOKEN)) as gh:
            daemon = Daemon(ConfigHolder(config), gh)
            server = StatusServer(daemon, port=0)
            await server.start()
            if mode.webhooks:
                world.hooks.add(f"{server.url}/webhook", SECRET.encode())
            task = asyncio.create_task(daemon.run(install_signals=False))
            try:
                for i in range(samples):
                    # CI durations that do not line up with the sync period, as in life.
                    duration = CI_SECONDS + (i * 0.37 % 1) * sync_period
                    world.set_ci("org/repo", ci_taking(duration))
                    # Open it ready, then move the base, so it needs a staging run.
                    pr = world.open_pr("org/repo", files={f"f{i}.txt": "1\n"}, labels=["lgtm"])
                    world.push_branch("org/repo", "main", {f"base{i}.txt": "x\n"})
                    deadline = time.monotonic() + 3 * sync_period + 30
                    seen_green: float | None = None
                    merged_at: float | None = None
                    while merged_at is None and time.monotonic() < deadline:
                        world.tick()  # CI finishes exactly when due, not at the next request
                        now = time.monotonic()
                        if seen_green is None and any_green(world):
                            seen_green = now
                        if pr.state == "MERGED":
                            merged_at = now
                        await asyncio.sleep(0.02)
                    if seen_green is None or merged_at is None:
                        raise RuntimeError(f"{mode.name}: PR {pr.number} did not merge in time")
                    latencies.append(merged_at - seen_green)
            finally:
                daemon.stop()
                await task
                await server.stop()
    return latencies


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--sync-period", type=float, default=60.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    print(f"CI green -> merge call; sync_period {args.sync_period:g}s, {args.samples} PRs each")
    print(f"{'mode':<22} {'median s':>9} {'max s':>7}  samples")
    for mode in (Mode("polling only", False), Mode("webhooks + polling", True)):
        got = asyncio.run(measure(mode, args.samples, args.sync_period))
        shown = " ".join(f"{x:.1f}" for x in got)
        print(f"{mode.name:<22} {statistics.median(got):>9.1f} {max(got):>7.1f}  {shown}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
