"""A staging run whose PRs all leave the queries is cleaned up at the next sync, even when
no other PR of that repository is left to bring it into the search."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock


def staging_branches(world) -> list[str]:
    return [b for b in world.repo("org/repo").git.branches if b.startswith("tide/")]


async def test_the_run_of_an_unlabelled_pr_is_deleted_at_the_next_sync(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "a\n"}, labels=["lgtm"])
    world.set_status("org/repo", pr.head_sha, "ci/test", "success")
    advance_base_world(world)
    async with running_queue(world, clock) as q:
        await q.sync()
        assert len(staging_branches(world)) == 1  # testing the PR on the moved base
        world.remove_label(pr, "lgtm")
        await q.step()
        assert staging_branches(world) == []
