"""The fake CI: which pushes start runs, how long they take, and what decides the verdict."""

from __future__ import annotations

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, World, fail_if_all_present, fail_if_present
from tide.sim.world.contexts import latest_check_runs, latest_statuses
from tide.sim.world.merges import merge_branches


def world_with(ci: FakeCI) -> tuple[World, VirtualClock]:
    clock = VirtualClock()
    world = World(clock)
    world.create_repo("org/repo", files={"README": "r"}, ci=ci)
    return world, clock


def states(world: World, sha: str) -> dict[str, str]:
    repo = world.repo("org/repo")
    out = {s.context: s.state for s in latest_statuses(repo, sha)}
    for run in latest_check_runs(repo, sha):
        out[run.name] = f"{run.status}/{run.conclusion}"
    return out


def test_a_pr_head_goes_pending_then_passes_after_the_duration() -> None:
    ci = FakeCI([Job("ci/test", duration=60)])
    world, clock = world_with(ci)
    pr = world.open_pr("org/repo", files={"a": "1"})
    assert states(world, pr.head_sha) == {"ci/test": "pending"}

    clock.advance(59)
    world.tick()
    assert states(world, pr.head_sha) == {"ci/test": "pending"}
    clock.advance(1)
    world.tick()

    assert states(world, pr.head_sha) == {"ci/test": "success"}
    [run] = ci.runs
    assert (run.sha, run.context, run.result) == (pr.head_sha, "ci/test", "success")
    assert run.ended_at is not None
    assert (run.ended_at - run.started_at).total_seconds() == 60


def test_a_file_that_breaks_the_build_fails_every_context() -> None:
    ci = FakeCI([Job("ci/test", duration=1)], rules=[fail_if_present("BREAK")])
    world, clock = world_with(ci)
    bad = world.open_pr("org/repo", files={"BREAK": "x"})
    good = world.open_pr("org/repo", files={"fine": "x"})
    clock.advance(1)
    world.tick()
    assert states(world, bad.head_sha) == {"ci/test": "failure"}
    assert states(world, good.head_sha) == {"ci/test": "success"}
    status = latest_statuses(world.repo("org/repo"), bad.head_sha)[0]
    assert status.description == "BREAK breaks the build"


def test_a_semantic_pair_passes_alone_and_fails_together() -> None:
    ci = FakeCI([Job("ci/test", duration=1)], rules=[fail_if_all_present("a.txt", "b.txt")])
    world, clock = world_with(ci)
    a = world.open_pr("org/repo", files={"a.txt": "a"})
    b = world.open_pr("org/repo", files={"b.txt": "b"})
    base = world.repo("org/repo").git.branches["main"]
    world.push_branch("org/repo", "tide/batch", from_sha=base)
    repo = world.repo("org/repo")
    merge_branches(world, repo, base="tide/batch", head=a.head_sha, message=None, actor="bot")
    both = merge_branches(
        world, repo, base="tide/batch", head=b.head_sha, message=None, actor="bot"
    )
    clock.advance(1)
    world.tick()

    assert states(world, a.head_sha) == {"ci/test": "success"}
    assert states(world, b.head_sha) == {"ci/test": "success"}
    assert both is not None and states(world, both.sha) == {"ci/test": "failure"}
    assert not ci.verdict(both.tree)
    assert ci.verdict(repo.git.commits[a.head_sha].tree)


def test_check_runs_are_queued_then_in_progress_then_completed() -> None:
    world, clock = world_with(FakeCI([Job("build", kind="check_run", duration=30)], queue_delay=5))
    pr = world.open_pr("org/repo", files={"a": "1"})
    assert states(world, pr.head_sha) == {"build": "queued/None"}
    clock.advance(5)
    world.tick()
    assert states(world, pr.head_sha) == {"build": "in_progress/None"}
    clock.advance(25)
    world.tick()
    assert states(world, pr.head_sha) == {"build": "completed/success"}


def test_a_job_that_never_starts_leaves_no_context() -> None:
    ci = FakeCI([Job("ci/test", duration=1), Job("ci/old-name", never_starts=True)])
    world, clock = world_with(ci)
    pr = world.open_pr("org/repo", files={"a": "1"})
    clock.advance(10)
    world.tick()
    assert states(world, pr.head_sha) == {"ci/test": "success"}


def test_flakes_are_seeded_and_depend_on_the_attempt() -> None:
    ci = FakeCI([Job("ci/test", duration=1)], flake_rate=0.5, seed=7)
    same = FakeCI([Job("ci/test", duration=1)], flake_rate=0.5, seed=7)
    shas = [f"{n:040x}" for n in range(200)]
    outcomes = [ci.flakes("org/repo", sha, "ci/test", 1) for sha in shas]
    assert outcomes == [same.flakes("org/repo", sha, "ci/test", 1) for sha in shas]
    assert 60 < sum(outcomes) < 140
    retries = [ci.flakes("org/repo", sha, "ci/test", 2) for sha in shas]
    assert retries != outcomes


def test_a_flaky_run_fails_with_a_flaky_description_and_a_rerun_can_pass() -> None:
    ci = FakeCI([Job("ci/test", duration=1, flake_rate=1.0)])
    world, clock = world_with(ci)
    pr = world.open_pr("org/repo", files={"a": "1"})
    clock.advance(1)
    world.tick()
    assert states(world, pr.head_sha) == {"ci/test": "failure"}
    assert ci.runs[0].flaked
    assert ci.verdict(world.repo("org/repo").git.commits[pr.head_sha].tree)

    ci.jobs = (Job("ci/test", duration=1, flake_rate=0.0),)
    ci.start(world, world.repo("org/repo"), pr.head_sha)
    clock.advance(1)
    world.tick()
    assert states(world, pr.head_sha) == {"ci/test": "success"}
    assert [r.attempt for r in ci.runs] == [1, 2]


def test_staging_branches_trigger_by_glob_and_the_base_branch_does_not_by_default() -> None:
    world, _ = world_with(FakeCI([Job("ci/test")]))
    staged = world.push_branch("org/repo", "tide/batch-1", files={"s": "1"})
    based = world.push_branch("org/repo", "main", files={"m": "1"})
    assert states(world, staged.sha) == {"ci/test": "pending"}
    assert states(world, based.sha) == {}


def test_base_branch_pushes_trigger_when_configured() -> None:
    world, _ = world_with(FakeCI([Job("ci/test")], branches=["main"], pull_requests=False))
    pushed = world.push_branch("org/repo", "main", files={"m": "1"})
    pr = world.open_pr("org/repo", files={"p": "1"})
    assert states(world, pushed.sha) == {"ci/test": "pending"}
    assert states(world, pr.head_sha) == {}


def test_a_newer_push_cancels_the_run_it_supersedes() -> None:
    ci = FakeCI([Job("ci/test", duration=60), Job("build", kind="check_run", duration=60)])
    world, clock = world_with(ci)
    first = world.push_branch("org/repo", "tide/batch", files={"x": "1"})
    second = world.push_branch("org/repo", "tide/batch", files={"x": "2"})
    clock.advance(60)
    world.tick()
    assert states(world, first.sha) == {"ci/test": "error", "build": "completed/cancelled"}
    assert states(world, second.sha) == {"ci/test": "success", "build": "completed/success"}
    assert [r.result for r in ci.runs] == ["cancelled", "cancelled", "success", "success"]


def test_every_commit_the_base_pointed_to_can_be_checked_against_the_verdict() -> None:
    ci = FakeCI([Job("ci/test", duration=1)], rules=[fail_if_present("BREAK")])
    world, _ = world_with(ci)
    for name in ("a", "b"):
        pr = world.open_pr("org/repo", files={name: name})
        world.merge_pr(pr)
    repo = world.repo("org/repo")
    history = repo.git.history["main"]
    assert len(history) == 3
    assert all(ci.verdict(repo.git.commits[sha].tree) for sha in history)
