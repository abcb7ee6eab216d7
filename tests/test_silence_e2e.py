"""Silence is not success, end to end: a commit on which nothing has reported yet never
counts as passed; a repository without CI says so with `queue.no_ci`."""

from __future__ import annotations

from e2e import make_world, running_queue

from tide.cli import main
from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, fail_if_present

READY = ["lgtm"]


async def test_a_pr_nobody_has_reported_on_waits_and_its_status_names_the_option(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.set_ci("org/repo", None)  # CI has not reported anything (yet)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    async with running_queue(world, clock) as q:
        await q.run(3)
        assert pr.state == "OPEN"
        state, description = q.status(pr.number)
        assert state == "pending" and "queue.no_ci" in description
        verdict = q.reports[-1].pools[0].verdicts[0]
        assert [r.code for r in verdict.reasons] == ["no-ci-reported"]


async def test_ci_that_reports_late_is_waited_for_and_a_failure_never_merges(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.set_ci("org/repo", None)
    pr = world.open_pr("org/repo", files={"BREAK": "1\n"}, labels=READY)
    async with running_queue(world, clock) as q:
        await q.run(2)  # the webhook-fast sync: GitHub Actions has not reported yet
        assert pr.state == "OPEN"
        ci = FakeCI([Job("ci/test", duration=120)], rules=[fail_if_present("BREAK")])
        world.set_ci("org/repo", ci)
        ci.start(world, world.repo("org/repo"), pr.head_sha)
        await q.run(5)
        assert pr.state == "OPEN"
        assert q.status(pr.number) == ("pending", "Not mergeable. Job ci/test has not succeeded.")


async def test_a_repository_without_ci_merges_when_the_config_says_so(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.set_ci("org/repo", None)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    async with running_queue(world, clock, queue="queue:\n  no_ci:\n    org/repo: true\n") as q:
        await q.run(2)
        assert pr.state == "MERGED"


def test_check_config_names_the_no_ci_option(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("tide:\n  queries:\n  - repos: [org/repo]\n    labels: [lgtm]\n")
    assert main(["check-config", "--config", str(path)]) == 0
    assert "queue.no_ci" in capsys.readouterr().out
    path.write_text(path.read_text() + "queue:\n  no_ci: true\n")
    assert main(["check-config", "--config", str(path)]) == 0
    assert "queue.no_ci" in capsys.readouterr().out
