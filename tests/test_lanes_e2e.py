"""The `lanes` strategy end to end: a stack of staging runs lands by fast-forward and by API
merges, a push in the middle of the stack, a bad PR in it, and a restart mid-stack."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_daemon, running_queue
from test_batches_e2e import staging_runs

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, SimServer, fail_if_present
from tide.sim.world.git import tree_sha

READY = ["lgtm"]
CI_MINUTES = 10
LANES = "queue:\n  batch_failure_strategy: lanes\n  landing_interval: 1m\n  merge_pause: 1s\n"
FAST = LANES + '  fast_forward:\n    "*": true\n'
TIDE = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo]
    labels: [lgtm]
  context_options:
    required-contexts: [ci/test]
"""


def lanes_world(clock: VirtualClock, count: int, *, bad=()):
    """PRs whose own checks a test turns green one at a time (staging runs use the CI)."""
    ci = FakeCI(
        [Job("ci/test", duration=CI_MINUTES * 60)],
        branches=["tide/*"],
        rules=[fail_if_present("BREAK")],
        pull_requests=False,
    )
    world = make_world(clock, ci=ci)
    prs = []
    for n in range(1, count + 1):
        files = {f"f{n}.txt": "x\n", **({"BREAK": f"{n}\n"} if n in bad else {})}
        prs.append(world.open_pr("org/repo", files=files, labels=READY))
    advance_base_world(world)
    return world, prs


def green(world, pr) -> None:
    world.set_status("org/repo", world.pr("org/repo", pr.number).head_sha, "ci/test", "success")


async def stack_one_by_one(q, world, prs) -> None:
    """Each PR turns green a minute after the previous one: one layer per sync."""
    for pr in prs:
        green(world, pr)
        await q.step()


def staging_commits(world) -> list[str]:
    return [p.new for p in world.journal.pushes if p.branch.startswith("tide/") and p.old is None]


async def test_a_stack_lands_by_fast_forward_with_one_run_per_layer(schema):
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3)
    async with running_queue(world, clock, tide=TIDE, queue=FAST) as q:
        await stack_one_by_one(q, world, prs)
        assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3)]
        await q.run(CI_MINUTES + 3)
        repo = world.repo("org/repo")
        assert all(world.pr("org/repo", pr.number).state == "MERGED" for pr in prs)
        assert q.merged() == []  # every layer landed by moving the base to its tested commit
        assert repo.git.branches["main"] == staging_commits(world)[-1]
        assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3)]


async def test_a_stack_lands_by_merge_calls_on_the_tree_it_was_stacked_on(schema):
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3)
    async with running_queue(world, clock, tide=TIDE, queue=LANES) as q:
        await stack_one_by_one(q, world, prs)
        await q.run(CI_MINUTES + 3)
        repo = world.repo("org/repo")
        assert q.merged() == [1, 2, 3]
        # No re-runs: each run's base had exactly the tree of the layer below it.
        assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3)]
        last = repo.git.commits[staging_commits(world)[-1]]
        base = repo.git.commits[repo.git.branches["main"]]
        assert tree_sha(base.tree) == tree_sha(last.tree)


async def test_a_push_in_the_middle_of_the_stack_restacks_only_what_is_above_it(schema):
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3)
    async with running_queue(world, clock, tide=TIDE, queue=FAST) as q:
        await stack_one_by_one(q, world, prs)
        head = world.pr("org/repo", 2).head_sha
        world.push_branch("org/repo", prs[1].head_ref, {"f2b.txt": "y\n"}, from_sha=head)
        await q.step()
        # #3 goes back on top of run (1,); #2 waits for its new head's checks.
        assert staging_runs(world)[3:] == [(1, 3)]
        green(world, prs[1])
        await q.run(2 * CI_MINUTES + 3)
        assert all(world.pr("org/repo", pr.number).state == "MERGED" for pr in prs)
        runs = staging_runs(world)
        assert runs == [(1,), (1, 2), (1, 2, 3), (1, 3), (1, 3, 2)]
        assert world.repo("org/repo").git.branches["main"] == staging_commits(world)[-1]


async def test_runs_no_longer_needed_keep_their_branch_and_count_until_their_ci_ends(schema):
    """CI keeps running a staging run whose branch is deleted, so tide keeps it (and counts
    it against max_concurrent_runs) until CI ends: the bench saw 25 runs under a cap of 24."""
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3)
    capped = FAST + "  max_concurrent_runs: 3\n"
    async with running_queue(world, clock, tide=TIDE, queue=capped) as q:
        await stack_one_by_one(q, world, prs)
        head = world.pr("org/repo", 2).head_sha
        world.push_branch("org/repo", prs[1].head_ref, {"f2b.txt": "y\n"}, from_sha=head)
        await q.step()
        repo = world.repo("org/repo")
        # (1, 2) and (1, 2, 3) are no longer needed but still run: #3 waits for room.
        assert len(staging_runs(world)) == 3
        assert sum(1 for b in repo.git.branches if b.startswith("tide/")) == 3
        await q.run(CI_MINUTES)
        # Room again only once (1,) passed: #3 goes on top of it; the others' branches went
        # once their CI ended.
        assert staging_runs(world)[3:] == [(1, 3)]
        assert sum(1 for b in repo.git.branches if b.startswith("tide/")) == 1
        green(world, prs[1])
        await q.run(2 * CI_MINUTES + 3)
        assert all(world.pr("org/repo", pr.number).state == "MERGED" for pr in prs)


async def test_a_bad_pr_in_the_stack_is_named_and_the_layers_above_restacked(schema):
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3, bad=(2,))
    async with running_queue(world, clock, tide=TIDE, queue=FAST) as q:
        await stack_one_by_one(q, world, prs)
        await q.run(3 * CI_MINUTES + 5)
        assert sorted(
            p.number for p in prs if world.pr("org/repo", p.number).state == "MERGED"
        ) == [
            1,
            3,
        ]
        assert q.status(2)[0] == "error"
        assert q.status(2)[1].startswith("Not mergeable. Broke ci/test")
        # (1,2) failed on top of a passed (1,): #2 is the only suspect. #3 goes back on the
        # new base while #2 is tested alone, off the stack, and fails again.
        assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3), (3,), (2,)]


async def test_a_restart_mid_stack_costs_no_extra_run(schema):
    clock = VirtualClock()
    world, prs = lanes_world(clock, 3)
    async with SimServer(world) as sim:
        async with running_daemon(sim, clock, tide=TIDE, queue=LANES) as first:
            await stack_one_by_one(first, world, prs)
            await first.run(3)
            assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3)]
        async with running_daemon(sim, clock, tide=TIDE, queue=LANES) as second:
            await second.run(CI_MINUTES + 2)
            assert second.merged() == [1, 2, 3]
        assert staging_runs(world) == [(1,), (1, 2), (1, 2, 3)]


async def test_after_a_culprit_prs_are_stacked_as_a_chain_and_hedged_against_a_failure(schema):
    """With a recent culprit each PR gets a layer of its own: the PRs ready together are
    stacked in one sync, each on the one before, and a sync later the PRs above each
    running layer are also stacked without it. #3 is bad: #2 and #4 land (through the
    API) when the CI runs under way end, with no run started after."""
    clock = VirtualClock()
    world, prs = lanes_world(clock, 4, bad=(1, 3))
    async with running_queue(world, clock, tide=TIDE, queue=LANES) as q:
        green(world, prs[0])
        await q.run(3 * CI_MINUTES + 3)
        assert q.status(1)[0] == "error"
        before = len(staging_runs(world))
        for pr in prs[1:]:
            green(world, pr)
        await q.step()
        assert staging_runs(world)[before:] == [(2,), (2, 3), (2, 3, 4)]
        # The top run records the layers below it with their trees, which an API merge
        # of a lower layer alone must match for the runs above it to stay on the base.
        git = world.repo("org/repo").git
        top = git.commits[staging_commits(world)[-1]].message
        layers = [line.split()[1:] for line in top.splitlines() if line.startswith("Tide-Layer:")]
        assert [size for size, _, _ in layers] == ["1", "2"]
        assert all(tree == tree_sha(git.commits[sha].tree) for _, sha, tree in layers)
        await q.step()
        assert staging_runs(world)[before + 3 :] == [(2, 4), (3,), (3, 4)]
        await q.run(CI_MINUTES + 3)
        assert q.merged() == [2, 4]
        assert q.status(3)[0] == "error"
        assert len(staging_runs(world)) == before + 6
