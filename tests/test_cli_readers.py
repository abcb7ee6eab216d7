"""`tide status` and `tide explain` as a user runs them: against the daemon's API (`--url`),
or straight from GitHub with the config alone (`--direct`), which must change nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from e2e import config_text, make_world, running_queue

from tide.cli import main
from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, SimServer, World, fail_if_present

WRITES = ("POST /repos*", "PUT *", "PATCH *", "DELETE *")


def stuck_world(clock: VirtualClock) -> tuple[World, dict[str, int]]:
    """One ready PR (base moved: it needs a staging run), one that lacks its label and
    fails its check, one labelled whose check fails."""
    ci = FakeCI(
        [Job("ci/test", duration=600)], branches=["tide/*"], rules=[fail_if_present("BREAK")]
    )
    world = make_world(clock, ci=ci)
    ready = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"], title="Ready")
    stuck = world.open_pr("org/repo", files={"BREAK": "1\n"}, title="Stuck")
    failing = world.open_pr("org/repo", files={"BREAK": "2\n"}, labels=["lgtm"], title="Fails")
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    return world, {"ready": ready.number, "stuck": stuck.number, "failing": failing.number}


async def tide(*argv: str) -> int:
    """The `tide` command in a thread of its own, as if run from a shell."""
    return await asyncio.to_thread(main, list(argv))


def writes(world: World) -> int:
    return sum(world.journal.count(pattern) for pattern in WRITES)


async def test_status_prints_every_pool_queue_from_the_daemon(schema, capsys):
    clock = VirtualClock()
    world, n = stuck_world(clock)
    async with running_queue(world, clock) as q, StatusServer(q.daemon, port=0) as server:
        await q.sync()
        await q.step()
        capsys.readouterr()

        code = await tide("status", "--url", server.url)

    out = capsys.readouterr().out
    assert code == 0
    assert "org/repo:main" in out and "WAIT: waiting for staging run" in out
    rows = {line.split()[1]: line.split(maxsplit=2) for line in out.splitlines() if "  #" in line}
    assert rows[f"#{n['ready']}"][0] == "1"
    assert "in the batch being tested" in rows[f"#{n['ready']}"][2]
    assert rows[f"#{n['failing']}"][0] == "-"
    assert "not eligible" in rows[f"#{n['failing']}"][2]
    assert rows[f"#{n['failing']}"][2].endswith("Job ci/test has not succeeded.")


async def test_explain_names_every_reason_and_the_place_in_the_queue(schema, capsys):
    clock = VirtualClock()
    world, n = stuck_world(clock)
    async with running_queue(world, clock) as q, StatusServer(q.daemon, port=0) as server:
        await q.sync()
        await q.step()
        capsys.readouterr()

        stuck = await tide("explain", f"org/repo#{n['stuck']}", "--url", server.url)
        stuck_out = capsys.readouterr().out
        ready = await tide("explain", f"org/repo#{n['ready']}", "--url", server.url)
        ready_out = capsys.readouterr().out

    assert stuck == 0
    assert "Not eligible: Needs lgtm label. (and 1 more reason)" in stuck_out
    assert "NO  labels" in stuck_out and "Needs lgtm label." in stuck_out
    assert "NO  checks" in stuck_out and "Job ci/test has not succeeded." in stuck_out
    assert "ok  mergeable" in stuck_out
    assert ready == 0
    assert "Queue: #1 of 1 (in the batch being tested)" in ready_out
    assert "Batch: pending: tide/main-" in ready_out


async def test_explain_of_an_unknown_pr_or_a_missing_daemon_fails_with_one_line(schema, capsys):
    clock = VirtualClock()
    world, _ = stuck_world(clock)
    async with running_queue(world, clock) as q, StatusServer(q.daemon, port=0) as server:
        await q.sync()
        unknown = await tide("explain", "org/repo#999", "--url", server.url)
        unknown_out = capsys.readouterr().out
        url = server.url
    gone = await tide("status", "--url", url)
    gone_err = capsys.readouterr().err
    bad = await tide("explain", "not-a-pr", "--url", url)
    bad_err = capsys.readouterr().err

    assert unknown == 1 and "Not found among the open pull requests" in unknown_out
    assert gone == 1 and gone_err.startswith(f"tide: cannot read {url}/api/v1/pools")
    assert "--direct" in gone_err and len(gone_err.strip().splitlines()) == 1
    assert bad == 2 and "write org/repo#123" in bad_err


@pytest.fixture
def direct_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    def write(sim: SimServer) -> Path:
        path = tmp_path / "config.yaml"
        history = tmp_path / "history.json"
        path.write_text(config_text(sim) + f"history:\n  path: {history}\n")
        monkeypatch.setenv("GITHUB_TOKEN", "sim-token")
        return path

    return write


async def test_direct_explain_asks_github_and_changes_nothing(schema, capsys, direct_config):
    clock = VirtualClock()
    world, n = stuck_world(clock)
    async with SimServer(world) as sim:
        config = direct_config(sim)
        before = writes(world)

        stuck = await tide("explain", f"org/repo#{n['stuck']}", "--direct", "--config", str(config))
        stuck_out = capsys.readouterr().out
        status = await tide("status", "--direct", "--config", str(config))
        status_out = capsys.readouterr().out

    assert stuck == 0
    assert "Needs lgtm label." in stuck_out and "Job ci/test has not succeeded." in stuck_out
    assert status == 0
    assert "org/repo:main" in status_out and "TRIGGER: " in status_out  # what it would do
    assert writes(world) == before  # a dry run: no status, no branch, no merge
    assert not (config.parent / "history.json").exists()


async def test_direct_with_a_broken_config_reports_its_problems(tmp_path, capsys):
    path = tmp_path / "config.yaml"
    path.write_text("tide:\n  sync_perod: 1m\n")

    code = await tide("status", "--direct", "--config", str(path))

    assert code == 2
    assert "sync_perod" in capsys.readouterr().err
