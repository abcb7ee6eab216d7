"""`/tide retest` end to end: honoured from the PR's author and people with write access,
ignored from anyone else (each honoured retest costs a CI run)."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, fail_if_all_present

CI_MINUTES = 11


def culprit_world(clock: VirtualClock):
    """One PR that passes alone but breaks on the moved base: its staging runs fail."""
    ci = FakeCI(
        [Job("ci/test", duration=600)],
        branches=["tide/*"],
        rules=[fail_if_all_present("poison.txt", "base.txt")],
    )
    world = make_world(clock, ci=ci)
    pr = world.open_pr("org/repo", files={"poison.txt": "1\n"}, labels=["lgtm"], author="carol")
    advance_base_world(world)
    return world, pr


def staging_pushes(world) -> int:
    return sum(1 for p in world.journal.pushes if p.branch.startswith("tide/") and p.new)


async def test_retest_from_a_drive_by_commenter_is_ignored_and_the_authors_is_honoured(schema):
    clock = VirtualClock()
    world, pr = culprit_world(clock)
    queue = "queue:\n  single_retries: 0\n"
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(2 * CI_MINUTES + 2)
        assert q.status(pr.number)[1].startswith("Not mergeable. Broke ci/test")
        runs = staging_pushes(world)
        world.comment(pr, "/tide retest", author="mallory", association="NONE")
        await q.run(3)
        assert staging_pushes(world) == runs
        assert q.status(pr.number)[1].startswith("Not mergeable. Broke ci/test")
        world.comment(pr, "/tide retest", author="carol", association="CONTRIBUTOR")
        await q.run(3)
        assert staging_pushes(world) == runs + 1


async def test_retest_from_a_collaborator_is_honoured(schema):
    clock = VirtualClock()
    world, pr = culprit_world(clock)
    queue = "queue:\n  single_retries: 0\n"
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(2 * CI_MINUTES + 2)
        runs = staging_pushes(world)
        world.comment(pr, "/tide retest", author="maintainer", association="COLLABORATOR")
        await q.run(3)
        assert staging_pushes(world) == runs + 1


async def test_allowed_associations_are_configurable(schema):
    clock = VirtualClock()
    world, pr = culprit_world(clock)
    queue = "queue:\n  single_retries: 0\n  retest_associations: [OWNER]\n"
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(2 * CI_MINUTES + 2)
        runs = staging_pushes(world)
        world.comment(pr, "/tide retest", author="member", association="MEMBER")
        await q.run(3)
        assert staging_pushes(world) == runs
