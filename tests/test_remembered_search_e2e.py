"""The sync remembers which PRs its queries match and searches only what was updated since,
yet acts on what changed without an update: CI turning green on a head (GitHub keeps the PR's
`updatedAt`) is merged by the next sync, and a PR that lost its label leaves its pool."""

from __future__ import annotations

from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.remembered_search import SWEEP_EVERY
from tide.sim import World


def lean_searches(world: World) -> int:
    return sum(1 for r in world.journal.requests if r.endpoint.endswith("SearchPullRequestIds"))


def pool_numbers(report) -> set[int]:
    return {v.pr.number for pool in report.pools for v in pool.verdicts}


async def test_ci_turning_green_without_an_update_is_merged_by_the_next_sync():
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "a\n"}, labels=["lgtm"])
    world.set_status("org/repo", pr.head_sha, "ci/test", "pending")
    clock.advance(10)
    async with running_queue(world, clock) as q:
        await q.sync()
        assert q.merged() == []
        updated = pr.updated_at

        world.set_status("org/repo", pr.head_sha, "ci/test", "success")
        assert pr.updated_at == updated  # as on GitHub: CI is not an update of the PR
        before = lean_searches(world)
        clock.advance(60)
        world.tick()
        await q.daemon.sync_once()

        assert q.merged() == [pr.number]
        assert lean_searches(world) == before + 1  # only what was updated, one page
        assert q.daemon.syncer.searched.swept == 1


async def test_a_pr_that_loses_its_label_leaves_its_pool_and_a_sweep_comes_every_30_minutes():
    clock = VirtualClock()
    world = make_world(clock)
    prs = [world.open_pr("org/repo", files={f"{i}.txt": "x\n"}, labels=["lgtm"]) for i in (1, 2)]
    for pr in prs:
        world.set_status("org/repo", pr.head_sha, "ci/test", "failure")
    clock.advance(10)
    async with running_queue(world, clock) as q:
        first = await q.sync()
        assert pool_numbers(first) == {1, 2}

        world.remove_label(prs[1], "lgtm")
        report = await q.step()
        assert pool_numbers(report) == {1}
        assert q.daemon.syncer.searched.swept == 1

        await q.step(SWEEP_EVERY.total_seconds())
        assert q.daemon.syncer.searched.swept == 2
