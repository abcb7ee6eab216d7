"""The status pass's overlap (it re-searches the 30 s before the newest update it saw, for
GitHub's search lag) costs one lean search page, not a detail read of every PR in it: a PR
already judged at its `updatedAt` is not read again, and one that changed is."""

from __future__ import annotations

from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.sim import World


def details_read(world: World) -> int:
    return sum(1 for r in world.journal.requests if r.endpoint.endswith("PullRequestDetails"))


def searches(world: World) -> int:
    return sum(1 for r in world.journal.requests if r.endpoint.endswith("SearchPullRequestIds"))


async def test_the_overlap_rereads_only_what_changed_since_it_was_judged():
    clock = VirtualClock()
    world = make_world(clock)
    burst = [
        world.open_pr("org/repo", files={f"f{i}.txt": "x\n"}, labels=["lgtm"]) for i in range(5)
    ]
    clock.advance(10)
    async with running_queue(world, clock) as q:
        await q.daemon.statuses_once()
        assert details_read(world) == 1
        assert all(q.status(pr.number) is not None for pr in burst)
        # A status write is not an update of the PR (GitHub keeps `updatedAt`): nothing new,
        # and the burst is still inside the overlap window.
        clock.advance(20)
        world.tick()
        before = searches(world)
        await q.daemon.statuses_once()
        assert searches(world) == before + 1  # the overlap is still searched
        assert details_read(world) == 1  # but nothing in it is read again

        world.add_label(burst[2], "do-not-merge/hold")
        clock.advance(31)
        world.tick()
        await q.daemon.statuses_once()
        assert details_read(world) == 2
        state, description = q.status(burst[2].number)
        assert state == "pending" and "do-not-merge/hold" in description
