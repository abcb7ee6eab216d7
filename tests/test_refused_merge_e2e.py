"""A PR that GitHub refuses to merge (here: branch protection wants an approving review,
which tide's query does not ask for) is set aside: the rest of the batch merges on the new
base, the PR's `tide` status gives GitHub's reason, history records it, no further CI run
includes it (a restart included), and it is retried once its head, labels or the branch
protection change, or the back-off runs out."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_daemon, running_queue
from test_batches_e2e import staging_runs

from tide.clock import VirtualClock
from tide.sim import SimServer

READY = ["lgtm"]
REFUSAL = (
    "Not mergeable. GitHub refused the merge: "
    "At least 1 approving review is required by reviewers with write access."
)


def refusing_world(clock: VirtualClock):
    world = make_world(clock)
    prs = [
        world.open_pr("org/repo", files={f"f{n}.txt": "x\n"}, labels=READY, review=review)
        for n, review in ((1, "APPROVED"), (2, None), (3, "APPROVED"))
    ]
    world.protect("org/repo", "main", required_approving_reviews=1)
    advance_base_world(world)
    clock.advance(700)
    world.tick()
    return world, prs


def runs_with(world, number: int) -> int:
    return sum(number in run for run in staging_runs(world))


async def test_a_refused_pr_is_set_aside_and_the_rest_merge(schema):
    clock = VirtualClock()
    world, (a, b, c) = refusing_world(clock)
    async with SimServer(world) as sim:
        async with running_daemon(sim, clock) as q:
            await q.run(40)
            assert sorted(q.merged()) == [a.number, c.number]
            assert b.state == "OPEN"
            assert q.status(b.number) == ("error", REFUSAL)
            assert runs_with(world, b.number) == 1  # the first batch only
            records = [
                r for pool in q.daemon.history.pools() for r in q.daemon.history.records(pool)
            ]
            refused = [r for r in records if "set aside #2: GitHub refused the merge" in r.reason]
            assert refused and "PR is unmergeable" in refused[0].err
            assert refused[0].failed == (b.number,)  # the batch's others did not fail
            assert q.daemon.last_report.set_aside == {
                "org/repo#2": REFUSAL.removeprefix("Not mergeable. GitHub refused the merge: ")
            }
            api_pool = q.daemon.last_report.pools[0]
            assert b.number not in [p.number for p in api_pool.state.eligible]
        # A restart reads the refusal back from the status: still no CI run for #2.
        async with running_daemon(sim, clock) as q:
            await q.run(30)
            assert runs_with(world, b.number) == 1
            assert q.status(b.number) == ("error", REFUSAL)
            assert b.state == "OPEN"
            # The branch protection changes (reviews no longer required): #2 is retried.
            world.protect("org/repo", "main")
            await q.run(30)
            assert b.state == "MERGED"
            assert runs_with(world, b.number) == 2


async def test_a_new_head_or_the_back_off_retries_a_refused_pr(schema):
    clock = VirtualClock()
    world, (_, b, _) = refusing_world(clock)
    queue = "queue:\n  refused_backoff: 1h\n"
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(40)
        assert q.status(b.number) == ("error", REFUSAL)
        assert runs_with(world, b.number) == 1
        # A new head: a new chance (GitHub still wants the review, so it is refused again).
        world.push_branch("org/repo", b.head_ref, {"g.txt": "y\n"}, from_sha=b.head_sha)
        await q.run(30)
        assert runs_with(world, b.number) == 2
        assert q.status(b.number) == ("error", REFUSAL)
        # Approved meanwhile, but nothing tide watches changed: it waits for the back-off.
        world.set_review(b, "APPROVED")
        await q.run(30)
        assert b.state == "OPEN" and runs_with(world, b.number) == 2
        await q.run(60)
        assert b.state == "MERGED"
        assert runs_with(world, b.number) == 3
