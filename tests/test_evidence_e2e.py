"""Forged staging evidence, end to end: a branch under the staging prefix whose head commit
copies a run's trailers (and even its parents, and a `tide` status) is not a run. It never
lands a PR, by merge calls or by fast-forward, and its failures never push a PR out."""

from __future__ import annotations

import structlog
from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.model import StagedPR
from tide.sim import FakeCI, Job, fail_if_all_present, fail_if_present
from tide.staging import commit_message, run_id

READY = ["lgtm"]
FAST = 'queue:\n  fast_forward:\n    "*": true\n'


def semantic_conflict_world(clock: VirtualClock):
    """#1 passes on its own head but breaks the moved base: only a real run shows it."""
    ci = FakeCI(
        [Job("ci/test", duration=600)],
        branches=["tide/*"],
        rules=[fail_if_all_present("poison.txt", "base.txt")],
    )
    world = make_world(clock, ci=ci)
    pr = world.open_pr("org/repo", files={"poison.txt": "1\n"}, labels=READY)
    advance_base_world(world)
    settle(world, clock)
    return world, pr


def settle(world, clock: VirtualClock) -> None:
    """Let the PRs' own CI finish, so they are eligible when the forger strikes."""
    clock.advance(605)
    world.tick()


def forge(world, prs, *, name: str, files=None, attempt: int = 1, with_head_parents=True):
    """What someone with push access can do: a commit carrying a run's trailers, with the
    run's parents (base, then each head) but a tree of their choosing, plus a `tide` status
    saying it is a staging run, pushed under the staging prefix."""
    repo = world.repo("org/repo")
    base = repo.git.branches["main"]
    staged = [StagedPR(p.number, p.head_sha) for p in prs]
    message = commit_message("org", "repo", "main", base, staged, attempt)
    parent = base
    for i, p in enumerate(prs):
        last = i == len(prs) - 1
        parents = [parent, p.head_sha] if with_head_parents else [parent]
        # Every step keeps the base's tree (the PR's changes are left out) plus `files`.
        commit = world.commit(
            repo,
            parents,
            files if last else None,
            message=message if last else "step",
            author="mallory",
        )
        parent = commit.sha
    rid = run_id("org", "repo", "main", base, staged, attempt)
    world.set_status(
        repo, parent, "tide", "success", description=f"Tide staging run {rid}", creator="mallory"
    )
    world.move_branch(repo, name, parent, actor="mallory")
    return parent


def foreign_logs(logs) -> list[dict]:
    return [e for e in logs if e["event"] == "staging_foreign"]


async def test_a_forged_passing_run_never_merges_a_pr_whose_real_run_fails(schema):
    clock = VirtualClock()
    world, pr = semantic_conflict_world(clock)
    forged = forge(world, [pr], name="tide/main-forged")
    with structlog.testing.capture_logs() as logs:
        async with running_queue(world, clock) as q:
            await q.run(30)
    assert pr.state == "OPEN"
    assert q.merged() == []
    assert world.repo("org/repo").git.branches["tide/main-forged"] == forged  # not deleted
    assert len(foreign_logs(logs)) == 1  # said once, not every sync
    assert q.status(pr.number)[1].startswith("Not mergeable. Broke ci/test")  # the real run


async def test_fast_forward_never_moves_the_base_to_a_forged_commit(schema):
    clock = VirtualClock()
    world, pr = semantic_conflict_world(clock)
    forged = forge(world, [pr], name="tide/main-forged")
    async with running_queue(world, clock, queue=FAST) as q:
        await q.run(30)
    main_history = world.repo("org/repo").git.history["main"]
    assert forged not in main_history
    assert pr.state == "OPEN"


async def test_a_forged_commit_without_the_run_parents_is_not_a_run_either(schema):
    clock = VirtualClock()
    world, pr = semantic_conflict_world(clock)
    forged = forge(world, [pr], name="tide/main-forged", with_head_parents=False)
    async with running_queue(world, clock, queue=FAST) as q:
        await q.run(30)
    assert forged not in world.repo("org/repo").git.history["main"]
    assert pr.state == "OPEN"


async def test_forged_failures_never_push_a_good_pr_out(schema):
    clock = VirtualClock()
    ci = FakeCI(
        [Job("ci/test", duration=600)], branches=["tide/*"], rules=[fail_if_present("BREAK")]
    )
    world = make_world(clock, ci=ci)
    good = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    advance_base_world(world)
    settle(world, clock)
    for attempt in (1, 2, 3):
        forge(
            world, [good], name=f"tide/main-bad{attempt}", files={"BREAK": "1\n"}, attempt=attempt
        )
    async with running_queue(world, clock) as q:
        await q.run(30)
        assert good.state == "MERGED"
        statuses = world.repo("org/repo").statuses
        assert not any(
            s.context == "tide" and s.state == "error"
            for sha in (good.head_sha,)
            for s in statuses.get(sha, [])
        )
        assert not [c for c in good.comments if "broke" in c.body.lower()]
