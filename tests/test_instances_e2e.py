"""Two daemons on one repository (a rolling update, a forgotten systemd unit): one acts, the
other stands by and says so in its log, its /readyz and `tide status`, and takes over once
the first one has been quiet for `instance.standby_expiry`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp
import structlog
from e2e import make_world, running_daemon

from tide.cli import main
from tide.clock import VirtualClock
from tide.instance import id_file, load_instance_id
from tide.sim import SimServer, World

READY = ["lgtm"]
WRITES = ("POST /repos*", "PUT *", "PATCH *", "DELETE *")
EXPIRY = """
instance:
  standby_expiry: 15m
"""


def writes(world: World) -> int:
    return sum(world.journal.count(pattern) for pattern in WRITES)


def behind_world(clock: VirtualClock, prs: int = 2) -> tuple[World, list[int]]:
    world = make_world(clock)
    numbers = [
        world.open_pr("org/repo", files={f"f{i}.txt": f"{i}\n"}, labels=READY).number
        for i in range(prs)
    ]
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    return world, numbers


def merged(world: World) -> list[int]:
    return [m.number for m in world.journal.merges]


async def readyz(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/readyz") as resp:
        return resp.status, json.loads(await resp.text())


async def test_second_instance_stands_by_and_says_so_everywhere(schema, capsys):
    from tide.server.app import StatusServer

    clock = VirtualClock()
    world, numbers = behind_world(clock)
    async with (
        SimServer(world) as sim,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-a") as a,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-b") as b,
        StatusServer(b.daemon, port=0) as server,
    ):
        first = await a.sync()
        assert first.pools[0].decision.action == "TRIGGER_BATCH"
        staging = [n for n in world.repo("org/repo").git.branches if n.startswith("tide/")]
        [ref] = staging
        head = world.repo("org/repo").git.branches[ref]
        assert "Tide-Instance: tide-a" in world.repo("org/repo").git.commits[head].message

        before = writes(world)
        with structlog.testing.capture_logs() as logs:
            report = await b.sync()
        assert writes(world) == before  # no staging branch, no status, no merge
        [pool] = report.pools
        assert pool.decision.action == "WAIT"
        assert pool.decision.reason.startswith("standing by: instance tide-a is acting on org/repo")
        [line] = [e for e in logs if e["event"] == "standing_by"]
        assert line["other_instance"] == "tide-a" and line["repo"] == "org/repo"
        assert line["until"].startswith("2026-01-05T09:26:40")  # the staging commit + 15m

        status, body = await readyz(server.url)
        assert status == 200
        assert body["instance"] == "tide-b"
        assert "tide-a" in body["standby"]["org/repo"]

        capsys.readouterr()
        code = await asyncio.to_thread(main, ["status", "--url", server.url])
        out = capsys.readouterr().out
        assert code == 0
        assert "Instance tide-b." in out
        assert "Standing by on org/repo: standing by: instance tide-a is acting" in out

        # The first instance goes on and lands the batch; the second writes nothing.
        for _ in range(12):
            clock.advance(60)
            await a.sync()
            before = writes(world)
            await b.sync()
            assert writes(world) == before
        assert sorted(merged(world)) == numbers
        b_merges = [r for r in world.journal.requests if r.method == "PUT"]
        assert len(b_merges) == len(numbers)  # one merge call per PR: nobody raced


async def test_standby_instance_writes_no_status_even_when_it_would_differ(schema):
    clock = VirtualClock()
    world, numbers = behind_world(clock)
    async with (
        SimServer(world) as sim,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-a") as a,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-b") as b,
    ):
        await a.sync()
        pr = world.pr("org/repo", numbers[0])
        # Someone (or the other instance, a moment ago) left another `tide` status there.
        world.set_status("org/repo", pr.head_sha, "tide", "pending", description="Not mergeable.")
        before = writes(world)
        await b.sync()
        assert writes(world) == before
        assert b.status(numbers[0]) == ("pending", "Not mergeable.")
        await a.sync()
        assert a.status(numbers[0]) == ("success", "In merge pool.")


async def test_standby_takes_over_once_the_other_instance_is_quiet(schema):
    clock = VirtualClock()
    world, numbers = behind_world(clock)
    async with (
        SimServer(world) as sim,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-a") as a,
        running_daemon(sim, clock, queue=EXPIRY, instance="tide-b") as b,
    ):
        await a.sync()  # starts a staging run, then "crashes": never syncs again
        clock.advance(60)
        report = await b.sync()
        assert report.standby["org/repo"].startswith("standing by: instance tide-a")
        clock.advance(13 * 60)
        report = await b.sync()
        assert report.pools[0].decision.action == "WAIT"  # still within 15 minutes
        assert merged(world) == []
        clock.advance(2 * 60)
        with structlog.testing.capture_logs() as logs:
            report = await b.sync()
        assert report.standby == {}
        assert any(e["event"] == "acting" and e["repo"] == "org/repo" for e in logs)
        for _ in range(15):
            clock.advance(60)
            await b.sync()
        assert sorted(merged(world)) == numbers


async def test_scratch_branches_are_per_instance(schema):
    clock = VirtualClock()
    world, _ = behind_world(clock, prs=1)
    async with (
        SimServer(world) as sim,
        running_daemon(sim, clock, instance="tide-a") as a,
    ):
        await a.sync()
    created = [p.branch for p in world.journal.pushes if p.old is None]
    scratch = [b for b in created if b.startswith("tide-build/")]
    assert scratch and all(b.startswith("tide-build/tide-a/") for b in scratch)


def test_identity_is_kept_beside_the_history_file(tmp_path: Path):
    history = tmp_path / "var" / "history.json"
    first = load_instance_id(None, history)
    assert id_file(history).read_text().strip() == first
    assert load_instance_id(None, history) == first  # a restart is the same instance
    assert load_instance_id("configured", history) == "configured"
