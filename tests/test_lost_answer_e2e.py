"""A merge whose answer was lost, end to end: tide continues a batch only onto exactly the
merge commit GitHub reports for that PR, never onto whatever the base holds by then."""

from __future__ import annotations

import structlog
from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job

READY = ["lgtm"]


def batch_world(clock: VirtualClock):
    world = make_world(clock, ci=FakeCI([Job("ci/test", duration=600)], branches=["tide/*"]))
    prs = [world.open_pr("org/repo", files={f"f{n}.txt": "x\n"}, labels=READY) for n in (1, 2)]
    advance_base_world(world)
    clock.advance(605)
    world.tick()
    return world, prs


def push_when_first_merged(world, first, pushed: list[str]):
    """A foreign push to main right after #1 merged (fires while tide re-reads #1)."""

    def act() -> None:
        if pushed or first.state != "MERGED":
            return
        commit = world.push_branch("org/repo", "main", {"foreign.txt": "1\n"}, author="mallory")
        pushed.append(commit.sha)

    return act


async def test_a_foreign_push_after_a_lost_merge_answer_stops_the_batch(schema):
    clock = VirtualClock()
    world, (first, second) = batch_world(clock)
    faults = None
    pushed: list[str] = []
    async with running_queue(world, clock, queue="queue:\n  merge_pause: 1s\n") as q:
        faults = q.sim.faults
        # The merge of #1 is applied, but its answer is lost (a 502 after the write) ...
        faults.script("/repos/org/repo/pulls/1/merge", 502, method="PUT", after=True)
        # ... and while tide re-reads #1, someone pushes to main.
        faults.script("/repos/org/repo/pulls/1", delay=5, method="GET")
        with structlog.testing.capture_logs() as logs:
            for _ in range(15):
                world.schedule(61, push_when_first_merged(world, first, pushed))
                await q.step()
                if pushed:
                    break
        assert pushed, "the scenario never reached the lost merge answer"
        assert first.state == "MERGED"
        assert second.state == "OPEN"  # never merged onto the foreign commit untested
        stopped = [e for e in logs if e["event"] == "batch_stopped"]
        assert stopped and "not the merge commit" in stopped[-1]["why"]
        records = q.daemon.history.records("org/repo:main")
        assert records[0].action == "MERGE_BATCH" and "not the merge commit" in records[0].err
        await q.run(14)  # re-planned: #2 is tested again on the new base, then lands
        assert second.state == "MERGED"
        main = world.repo("org/repo").git.branches["main"]
        assert world.repo("org/repo").git.is_ancestor(pushed[0], main)


async def test_a_lost_merge_answer_with_the_base_at_its_merge_commit_continues(schema):
    clock = VirtualClock()
    world, (first, second) = batch_world(clock)
    async with running_queue(world, clock, queue="queue:\n  merge_pause: 1s\n") as q:
        q.sim.faults.script("/repos/org/repo/pulls/1/merge", 502, method="PUT", after=True)
        await q.run(14)
        assert first.state == "MERGED" and second.state == "MERGED"
        created = [p for p in world.journal.pushes if p.branch.startswith("tide/") and not p.old]
        assert len(created) == 1  # one staging run: the batch went on without a retest
