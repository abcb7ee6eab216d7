"""What a long-running daemon remembers between syncs (which PRs each query matches, kept by
`updated:` searches between sweeps; repository node ids; statuses left for later passes; the
status pass's `updated:` searches and the PRs of their overlap it already judged) never makes
it decide or report differently from a fresh daemon that reads everything anew (hypothesis).

Random sequences of changes on GitHub between syncs (labels, holds, pushes, CI results as
statuses and as check runs, which do not change a PR's `updatedAt`, merges by others, closes,
new PRs, base moves, in two repositories); after each, a fresh daemon decides
in dry-run mode on the same state, then the long-running one acts: every pool's decision
must match, and after its status pass every open PR must carry the status a fresh full read
says it should.
"""

from __future__ import annotations

import asyncio
import contextlib

from e2e import TOKEN, config_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tide.clock import VirtualClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.retry import RetryPolicy
from tide.history import History
from tide.sim import FakeCI, Job, SimServer, World
from tide.sim.world.entities import Refusal

REPOS = ("org/repo", "org/other")
TIDE = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo, org/other]
    labels: [lgtm]
    missingLabels: [do-not-merge/hold]
"""
CHANGES = (
    "label",
    "unlabel",
    "hold",
    "unhold",
    "push",
    "ci-success",
    "ci-failure",
    "ci-pending",
    "check-success",
    "check-failure",
    "merge-by-other",
    "close",
    "open",
    "base-moves",
)


@st.composite
def histories(draw: st.DrawFn) -> dict:
    return {
        "prs": draw(
            st.lists(st.tuples(st.sampled_from(REPOS), st.booleans()), min_size=1, max_size=5)
        ),
        "steps": draw(
            st.lists(
                st.tuples(st.sampled_from(CHANGES), st.integers(0, 20), st.integers(0, 3)),
                min_size=1,
                max_size=6,
            )
        ),
    }


def apply(world: World, change: str, pick: int, idle_minutes: int, serial: list[int]) -> None:
    open_prs = [
        pr for name in REPOS for pr in world.repo(name).pulls.values() if pr.state == "OPEN"
    ]
    pr = open_prs[pick % len(open_prs)] if open_prs else None
    serial[0] += 1
    n = serial[0]
    if change == "open" or pr is None:
        repo = REPOS[pick % 2]
        world.open_pr(repo, files={f"new{n}.txt": "x\n"}, labels=["lgtm"] if pick % 3 else [])
    elif change == "label":
        world.add_label(pr, "lgtm")
    elif change == "unlabel":
        world.remove_label(pr, "lgtm")
    elif change == "hold":
        world.add_label(pr, "do-not-merge/hold")
    elif change == "unhold":
        world.remove_label(pr, "do-not-merge/hold")
    elif change == "push":
        world.push_branch(pr.repo, pr.head_ref, {f"push{n}.txt": "y\n"})
    elif change.startswith("check-"):
        world.add_check_run(pr.repo, pr.head_sha, "build", conclusion=change.removeprefix("check-"))
    elif change.startswith("ci-"):
        world.set_status(pr.repo, pr.head_sha, "ci/test", change.removeprefix("ci-"))
    elif change == "merge-by-other":
        with contextlib.suppress(Refusal):  # GitHub may refuse (a conflict): nothing changes
            world.merge_pr(pr, actor="someone")
    elif change == "close":
        world.close_pr(pr)
    elif change == "base-moves":
        world.push_branch(pr.repo, "main", {f"base{n}.txt": "z\n"})


def decisions(report) -> dict[str, tuple[str, tuple[int, ...]]]:
    return {
        p.state.key: (p.decision.action.value, tuple(sorted(p.decision.numbers)))
        for p in report.pools
    }


async def play(history: dict) -> None:
    clock = VirtualClock()
    world = World(clock, tokens={TOKEN: "tide-bot"})
    for name in REPOS:
        ci = FakeCI([Job("ci/test", duration=120)], branches=["tide/*"])
        world.create_repo(name, files={"README.md": "hello\n"}, ci=ci)
    for i, (repo, labelled) in enumerate(history["prs"]):
        pr = world.open_pr(repo, files={f"f{i}.txt": "x\n"}, labels=["lgtm"] if labelled else [])
        world.set_status(repo, pr.head_sha, "ci/test", "success")
        clock.advance(5)
    retry = RetryPolicy(attempts=3, base_delay=0.1, max_delay=1.0)
    serial = [0]
    async with SimServer(world) as sim:
        config = parse_config(config_text(sim, TIDE))
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(TOKEN), clock=clock, retry=retry) as gh:
            kept = Daemon(ConfigHolder(config), gh, clock=clock, history=History())
            await kept.sync_once()
            await kept.statuses_once()
            for change, pick, idle in history["steps"]:
                apply(world, change, pick, idle, serial)
                # 15 s apart, the status pass's next search overlaps this one's (30 s):
                # what it already judged at the same `updatedAt` it does not read again.
                clock.advance(15 if idle == 0 else 60 * idle)
                world.tick()
                async with GitHub(
                    endpoint, StaticToken(TOKEN), clock=clock, retry=retry
                ) as fresh_gh:
                    fresh = Daemon(
                        ConfigHolder(config), fresh_gh, clock=clock, dry_run=True, history=History()
                    )
                    expected = decisions(await fresh.sync_once())
                acted = decisions(await kept.sync_once())
                assert acted == expected, (change, acted, expected)
                # The long-running daemon searched only what changed: its one sweep was the first.
                assert kept.syncer.searched.swept == 1
                await kept.statuses_once()
                async with GitHub(
                    endpoint, StaticToken(TOKEN), clock=clock, retry=retry
                ) as fresh_gh:
                    fresh = Daemon(
                        ConfigHolder(config), fresh_gh, clock=clock, dry_run=True, history=History()
                    )
                    await fresh.sync_once()
                    await fresh.statuses_once()
                for name in REPOS:
                    repo = world.repo(name)
                    for pr in repo.pulls.values():
                        if pr.state != "OPEN":
                            continue
                        want = fresh.statuses.expected[pr.key]
                        mine = [
                            s for s in repo.statuses.get(pr.head_sha, []) if s.context == "tide"
                        ]
                        assert mine, f"{pr.key} has no tide status after {change}"
                        assert (mine[-1].state, mine[-1].description) == (
                            want.state,
                            want.description,
                        ), (
                            pr.key,
                            change,
                        )


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(histories())
def test_a_long_running_daemon_decides_and_reports_as_a_fresh_full_read_would(history):
    asyncio.run(play(history))
