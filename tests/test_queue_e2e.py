"""The merge queue end to end: the real daemon against the simulator over 127.0.0.1,
one scenario per criterion and status wording, and the safety rules around merges."""

from __future__ import annotations

from e2e import make_world, running_daemon, running_queue

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, SimServer, fail_if_present

READY = ["lgtm"]


def behind_world(clock: VirtualClock, **kw):
    """A world whose base moved after the PRs branched, so they need a staging run."""
    world = make_world(clock, **kw)
    return world


def advance_base(world, path: str = "base.txt") -> None:
    world.push_branch("org/repo", "main", {path: "moved\n"}, message="unrelated change")


def settle(world, clock: VirtualClock, seconds: float = 700) -> None:
    clock.advance(seconds)
    world.tick()


def staging_branches(world) -> list[str]:
    return sorted(b for b in world.repo("org/repo").git.branches if b.startswith("tide/"))


async def test_pr_behind_base_is_tested_on_a_staging_branch_then_merged(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    advance_base(world)
    settle(world, clock)
    async with running_queue(world, clock) as q:
        report = await q.sync()
        assert report.pools[0].decision.action == "TRIGGER"
        assert len(staging_branches(world)) == 1
        assert q.merged() == []
        await q.run(12)
        assert q.merged() == [pr.number]
        assert staging_branches(world) == []  # cleaned up once landed


async def test_up_to_date_pr_with_green_checks_merges_without_staging(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    settle(world, clock)
    async with running_queue(world, clock) as q:
        report = await q.sync()
        assert report.pools[0].decision.action == "MERGE"
        assert q.merged() == [pr.number]
        assert world.journal.count("POST /repos/{owner}/{repo}/merges") == 0


async def test_every_status_wording_of_a_pr_that_cannot_merge(schema):
    clock = VirtualClock()
    ci = FakeCI(
        [Job("ci/test", duration=600)], branches=["tide/*"], rules=[fail_if_present("BREAK")]
    )
    world = make_world(clock, ci=ci, files={"README.md": "x\n", "config.txt": "port=80\n"})
    unlabeled = world.open_pr("org/repo", files={"a.txt": "1\n"})
    held = world.open_pr("org/repo", files={"b.txt": "1\n"}, labels=[*READY, "do-not-merge/hold"])
    failing = world.open_pr("org/repo", files={"BREAK": "1\n"}, labels=READY)
    conflicting = world.open_pr("org/repo", files={"config.txt": "port=90\n"}, labels=READY)
    draft = world.open_pr("org/repo", files={"c.txt": "1\n"}, labels=READY, draft=True)
    world.push_branch("org/repo", "main", {"config.txt": "port=70\n"}, message="base change")
    settle(world, clock)
    async with running_queue(world, clock) as q:
        await q.run(3)
        assert q.status(unlabeled.number) == ("pending", "Not mergeable. Needs lgtm label.")
        assert q.status(held.number) == (
            "pending",
            "Not mergeable. Should not have do-not-merge/hold label.",
        )
        assert q.status(failing.number) == (
            "pending",
            "Not mergeable. Job ci/test has not succeeded.",
        )
        assert q.status(conflicting.number) == ("error", "Not mergeable. PR has a merge conflict.")
        assert q.status(draft.number) == ("pending", "Not mergeable. PR is a draft.")
        assert q.merged() == []


async def test_blocker_issue_freezes_the_branch_and_says_so(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    issue = world.open_issue(
        "org/repo", "Release freeze branch:main", labels=["tide/merge-blocker"]
    )
    settle(world, clock)
    async with running_queue(world, clock) as q:
        report = await q.sync()
        assert report.pools[0].decision.action == "BLOCKED"
        assert q.status(pr.number) == (
            "error",
            f"Not mergeable. Merging is blocked by issue {issue.number}.",
        )
        assert q.merged() == []
        world.close_issue(issue)
        await q.run(2)
        assert q.merged() == [pr.number]


async def test_head_pushed_during_a_staging_run_is_never_merged_on_the_stale_result(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    advance_base(world)
    settle(world, clock)
    async with running_queue(world, clock) as q:
        await q.sync()  # TRIGGER on the old head
        old_head = pr.head_sha
        world.push(pr, {"a.txt": "2\n"})
        settle(world, clock)  # the stale staging run passes meanwhile
        await q.sync()
        assert q.merged() == []
        await q.run(15)
        merges = [m for m in world.journal.merges if m.number == pr.number]
        assert [m.head_sha for m in merges] == [pr.head_sha]
        assert pr.head_sha != old_head


async def test_restart_between_trigger_and_merge_needs_no_second_ci_run(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    advance_base(world)
    settle(world, clock)
    async with SimServer(world) as sim:
        async with running_daemon(sim, clock) as first:
            await first.sync()  # TRIGGER, then the daemon dies
        runs_before = len(world.repo("org/repo").ci.runs)
        settle(world, clock)
        async with running_daemon(sim, clock) as second:
            report = await second.sync()
            assert report.pools[0].decision.action == "MERGE"
            assert second.merged() == [pr.number]
        assert len(world.repo("org/repo").ci.runs) == runs_before


async def test_dry_run_changes_nothing_on_github(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    world.open_pr("org/repo", files={"b.txt": "1\n"})
    advance_base(world)
    settle(world, clock)
    async with running_queue(world, clock, dry_run=True) as q:
        pushes = len(world.journal.pushes)
        await q.run(5)
        assert q.merged() == []
        assert len(world.journal.pushes) == pushes
        assert world.journal.count("POST /repos/{owner}/{repo}/statuses/{sha}") == 0
        assert staging_branches(world) == []


async def test_only_the_changed_status_is_written(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"})
    settle(world, clock)
    async with running_queue(world, clock) as q:
        await q.run(4)
        assert world.journal.count("POST /repos/{owner}/{repo}/statuses/{sha}") == 1


async def test_an_operator_error_stops_the_pool_instead_of_retrying_every_sync(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    settle(world, clock)
    async with running_queue(world, clock) as q:
        refusal = {"message": "You're not authorized to push to this branch."}
        q.sim.faults.script("/repos/org/repo/pulls/*/merge", 405, body=refusal, times=100)
        report = await q.sync()
        pool = report.pools[0]
        assert pool.error.startswith("#1: allow this robot to push to the branch")
        await q.run(5)
        attempts = world.journal.count("PUT /repos/{owner}/{repo}/pulls/{number}/merge")
        assert attempts == 1
        assert q.reports[-1].pools[0].decision.reason.startswith("stopped until")
        await q.run(6)  # ten minutes later it tries again
        assert world.journal.count("PUT /repos/{owner}/{repo}/pulls/{number}/merge") == 2
        assert pr.state == "OPEN"
