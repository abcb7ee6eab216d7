"""The sync hands the planner what it knows beyond the pool, and does what it decides: an
unread blocker list and a daemon shutting down each hold a pool that would otherwise merge
(the planner's side is in tests/test_planner_precedence.py)."""

from __future__ import annotations

from e2e import make_world, running_queue

from tide.clock import VirtualClock

READY = ["lgtm"]


def settle(world, clock: VirtualClock, seconds: float = 700) -> None:
    clock.advance(seconds)
    world.tick()


async def test_a_pool_never_merges_while_the_blocker_issues_cannot_be_read(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    settle(world, clock)  # up to date with green checks: it would merge at once
    async with running_queue(world, clock) as q:
        q.sim.faults.script("/graphql", 502, operation="SearchIssues", times=1000)
        report = await q.sync()
        pool = report.pools[0]
        assert pool.decision.action == "WAIT"
        assert pool.decision.reason.startswith("could not read blocker issues")
        assert pool.error == pool.decision.reason
        assert pool.execution is None
        assert report.errors == (pool.error,)
        assert q.merged() == []
        q.sim.faults.clear()
        await q.step()
        assert q.merged() == [pr.number]


async def test_a_daemon_shutting_down_merges_nothing_and_starts_no_run(schema):
    clock = VirtualClock()
    world = make_world(clock)
    direct = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    settle(world, clock)
    async with running_queue(world, clock) as q:
        q.daemon.syncer.stopping.set()
        report = await q.sync()
        pool = report.pools[0]
        assert (pool.decision.action, pool.decision.reason) == (
            "WAIT",
            "shutting down: no new actions",
        )
        assert q.merged() == []
        branches = world.repo("org/repo").git.branches
        assert not [b for b in branches if b.startswith("tide/")]
        q.daemon.syncer.stopping.clear()
        await q.step()
        assert q.merged() == [direct.number]
