"""Batches end to end: conflicts inside a batch, bisection, flakes, contexts that never
start, fast-forward landing and its fallback, and a restart in the middle of a bisection."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_daemon, running_queue

from tide.clock import VirtualClock
from tide.execution import Dropped
from tide.sim import FakeCI, Job, SimServer, fail_if_all_present, fail_if_present

READY = ["lgtm"]
CI_MINUTES = 10


def batch_world(clock: VirtualClock, count: int, *, rules=(), jobs=None, bad=()):
    ci = FakeCI(
        jobs or [Job("ci/test", duration=CI_MINUTES * 60)], branches=["tide/*"], rules=list(rules)
    )
    world = make_world(clock, ci=ci)
    prs = []
    for n in range(1, count + 1):
        files = {f"f{n}.txt": "x\n"}
        if n in bad:
            files["BREAK"] = f"{n}\n"
        prs.append(world.open_pr("org/repo", files=files, labels=READY))
        clock.advance(1)
    advance_base_world(world)
    clock.advance(CI_MINUTES * 60 + 5)
    world.tick()
    return world, prs


def staging_runs(world) -> list[tuple[int, ...]]:
    """The PR sets of every staging branch ever created, in order."""
    runs = []
    for push in world.journal.pushes:
        if push.branch.startswith("tide/") and push.old is None and push.new:
            message = world.repo("org/repo").git.commits[push.new].message
            runs.append(
                tuple(
                    int(line.split()[1])
                    for line in message.splitlines()
                    if line.startswith("Tide-PR:")
                )
            )
    return runs


async def test_a_pr_that_conflicts_with_the_batch_is_left_out_and_says_why(schema):
    clock = VirtualClock()
    world = make_world(clock, files={"README.md": "x\n", "config.txt": "port=80\n"})
    a = world.open_pr("org/repo", files={"config.txt": "port=81\n"}, labels=READY)
    b = world.open_pr("org/repo", files={"config.txt": "port=82\n"}, labels=READY)
    c = world.open_pr("org/repo", files={"c.txt": "1\n"}, labels=READY)
    advance_base_world(world)
    clock.advance(700)
    world.tick()
    async with running_queue(world, clock) as q:
        report = await q.sync()
        assert report.pools[0].decision.numbers == (1, 2, 3)
        assert report.pools[0].execution.dropped == [Dropped(2, "conflicts with #1")]
        assert staging_runs(world) == [(1, 3)]
        await q.run(15)
        assert sorted(q.merged()) == [a.number, c.number]
        assert q.status(b.number) == ("error", "Not mergeable. PR has a merge conflict.")


async def test_bisection_finds_the_culprit_among_eight_with_few_ci_runs(schema):
    clock = VirtualClock()
    world, prs = batch_world(clock, 8, rules=[fail_if_present("BREAK")], bad=())
    # #6 passes alone on the old base but breaks together with the moved base.
    culprit = prs[5]
    world.push_branch(
        "org/repo", culprit.head_ref, {"poison.txt": "1\n"}, from_sha=culprit.head_sha
    )
    world.repo("org/repo").ci.rules.append(fail_if_all_present("poison.txt", "base.txt"))
    clock.advance(CI_MINUTES * 60 + 5)
    world.tick()
    async with running_queue(world, clock) as q:
        await q.run(12 * CI_MINUTES)
        assert sorted(q.merged()) == [1, 2, 3, 4, 5, 7, 8]
        assert q.status(6)[0] == "error"
        assert q.status(6)[1].startswith("Not mergeable. Broke ci/test on base")
        runs = staging_runs(world)
        # 1-8 fails; 1-4 passes and lands; 5,6 fails; 5 lands; 6 fails twice; 7,8 lands.
        assert runs == [(1, 2, 3, 4, 5, 6, 7, 8), (1, 2, 3, 4), (5, 6), (5,), (6,), (6,), (7, 8)]
        comments = world.pr("org/repo", 6).comments
        assert (
            len(comments) == 1
            and "ci/test" in comments[0].body
            and "https://ci.example" in comments[0].body
        )


async def test_a_flaky_single_failure_is_retried_and_then_merges(schema):
    clock = VirtualClock()
    world, prs = batch_world(clock, 1)
    async with running_queue(world, clock) as q:
        await q.sync()
        first = staging_runs(world)
        assert first == [(1,)]
        staging = next(b for b in world.repo("org/repo").git.branches if b.startswith("tide/"))
        sha = world.repo("org/repo").git.branches[staging]
        world.set_status("org/repo", sha, "ci/test", "failure", description="flaked")
        await q.step()
        assert staging_runs(world) == [(1,), (1,)]
        await q.run(CI_MINUTES + 2)
        assert q.merged() == [prs[0].number]


async def test_a_required_context_that_never_starts_fails_the_run_with_a_reason(schema):
    clock = VirtualClock()
    jobs = [Job("ci/test", duration=60), Job("ci/e2e", duration=60, never_starts=True)]
    ci = FakeCI(jobs, branches=["tide/*"], pull_requests=False)
    world = make_world(clock, ci=ci)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    advance_base_world(world)
    tide = """
    tide:
      sync_period: 1m
      queries:
      - repos: [org/repo]
        labels: [lgtm]
      context_options:
        required-contexts: [ci/test, ci/e2e]
    """
    # Its own head reports both (a human ran them); staging never gets ci/e2e.
    world.set_status("org/repo", pr.head_sha, "ci/test", "success")
    world.set_status("org/repo", pr.head_sha, "ci/e2e", "success")
    async with running_queue(
        world, clock, tide=tide, queue="queue:\n  context_start_timeout: 5m\n"
    ) as q:
        await q.sync()
        await q.run(3)
        pending = q.reports[-1].pools[0].state.runs[0]
        assert pending.outcome == "PENDING" and "ci/e2e" in pending.reason
        await q.run(4)
        assert q.merged() == []
        reasons = [r.reason for p in q.reports[-3:] for r in p.pools[0].state.runs]
        assert any("ci/e2e never started within 5m" in r for r in reasons)


async def test_fast_forward_lands_the_tested_commit_itself(schema):
    clock = VirtualClock()
    world, prs = batch_world(clock, 3)
    queue = 'queue:\n  fast_forward:\n    "*": true\n'
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(CI_MINUTES + 2)
        repo = world.repo("org/repo")
        assert all(pr.state == "MERGED" for pr in prs)
        assert q.merged() == []  # no merge API call: GitHub marked them merged on the push
        tested = [p.new for p in world.journal.pushes if p.branch.startswith("tide/") and p.new]
        assert repo.git.branches["main"] == tested[-1]


async def test_fast_forward_refused_falls_back_to_merge_calls(schema):
    clock = VirtualClock()
    world, _ = batch_world(clock, 2)
    world.protect("org/repo", "main", allow_direct_push=False)
    queue = 'queue:\n  fast_forward:\n    "*": true\n  merge_pause: 1s\n'
    async with running_queue(world, clock, queue=queue) as q:
        await q.run(CI_MINUTES + 2)
        assert q.merged() == [1, 2]


async def test_restart_in_the_middle_of_a_bisection_costs_no_extra_run(schema):
    clock = VirtualClock()
    world, prs = batch_world(clock, 4, rules=[fail_if_present("BREAK")])
    world.push_branch("org/repo", prs[3].head_ref, {"poison.txt": "1\n"}, from_sha=prs[3].head_sha)
    world.repo("org/repo").ci.rules.append(fail_if_all_present("poison.txt", "base.txt"))
    clock.advance(CI_MINUTES * 60 + 5)
    world.tick()
    async with SimServer(world) as sim:
        async with running_daemon(sim, clock) as first:
            await first.sync()  # 1-4
            await first.run(CI_MINUTES + 1)  # fails; bisection starts 1,2
            assert staging_runs(world) == [(1, 2, 3, 4), (1, 2)]
        async with running_daemon(sim, clock) as second:
            await second.run(8 * CI_MINUTES)
        runs = staging_runs(world)
        assert runs[:3] == [(1, 2, 3, 4), (1, 2), (3,)]
        assert sorted(second.merged()) == [1, 2, 3]
