"""History survives restarts: what the queue did is written to `history.path` after every
sync and read back at start; a corrupt or missing file is reported and replaced, never fatal."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from builders import at
from e2e import config_text, make_world, running_daemon

from tide.clock import VirtualClock
from tide.config import parse_config
from tide.history import History, Record, Target
from tide.server.app import StatusServer
from tide.service import run_service
from tide.sim import SimServer, World

POOL = "org/repo:main"


def queue_world(clock: VirtualClock) -> World:
    """Two ready PRs behind a moved base: the first sync starts a staging run for both."""
    world = make_world(clock)
    for name in ("a.txt", "b.txt"):
        world.open_pr("org/repo", files={name: "1\n"}, labels=["lgtm"])
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    return world


def service_config(sim: SimServer, path: Path):
    text = config_text(sim) + f"history:\n  path: {path}\nlog:\n  format: json\n"
    return parse_config(text)


def actions(path: Path) -> list[str]:
    return [r["action"] for r in json.loads(path.read_text())[POOL]]


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "sim-token")


async def test_history_written_by_one_run_is_there_after_a_restart(schema, tmp_path, token):
    clock = VirtualClock()
    world = queue_world(clock)
    path = tmp_path / "var" / "history.json"
    async with SimServer(world) as sim:
        config = service_config(sim, path)
        assert await run_service(config, None, once=True, clock=clock) == 0
        assert actions(path) == ["TRIGGER_BATCH"]
        clock.advance(700)
        world.tick()

        await run_service(config, None, once=True, clock=clock)  # a new process, same file

    assert actions(path) == ["MERGE_BATCH", "TRIGGER_BATCH"]


async def test_a_restarted_daemon_serves_the_history_of_the_previous_one(schema, tmp_path):
    clock = VirtualClock()
    world = queue_world(clock)
    path = tmp_path / "history.json"
    async with SimServer(world) as sim:
        async with running_daemon(sim, clock, history_path=path) as first:
            await first.sync()
        async with running_daemon(sim, clock, history_path=path) as second:
            second.daemon.history.load()
            async with (
                StatusServer(second.daemon, port=0) as server,
                aiohttp.ClientSession(server.url) as http,
                http.get("/history") as resp,
            ):
                served = await resp.json()

    assert [r["action"] for r in served[POOL]] == ["TRIGGER_BATCH"]


async def test_a_corrupt_history_file_is_set_aside_reported_and_replaced(
    schema, tmp_path, token, capsys
):
    clock = VirtualClock()
    world = queue_world(clock)
    path = tmp_path / "history.json"
    path.write_text('{"org/repo:main": [{"action": "MERGE"')  # cut off mid-write
    async with SimServer(world) as sim:
        status = await run_service(service_config(sim, path), None, once=True, clock=clock)

    assert status == 0
    assert (tmp_path / "history.json.corrupt").read_text().startswith('{"org/repo:main"')
    assert actions(path) == ["TRIGGER_BATCH"]
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    corrupt = [e for e in logged if e["event"] == "history_corrupt"]
    assert corrupt and corrupt[0]["level"] == "error"
    assert corrupt[0]["moved_to"].endswith("history.json.corrupt")


async def test_a_missing_history_file_is_reported_and_created(schema, tmp_path, token, capsys):
    clock = VirtualClock()
    world = make_world(clock)
    path = tmp_path / "new" / "history.json"
    async with SimServer(world) as sim:
        await run_service(service_config(sim, path), None, once=True, clock=clock)

    events = [json.loads(line)["event"] for line in capsys.readouterr().out.splitlines()]
    assert "history_missing" in events
    assert json.loads(path.read_text()) == {}


@pytest.mark.parametrize(
    "content",
    [
        "[]",
        '{"org/repo:main": [{"action": "MERGE"}]}',  # a record without its time
        '{"org/repo:main": [{"time": "yesterday", "action": "MERGE"}]}',
        "\x00\x01 not json",
        "[null]",
        '{"org/repo:main": [null]}',
        '{"org/repo:main": "MERGE"}',
        '{"org/repo:main": [[1]]}',
        '{"org/repo:main": [{"time": "2026-01-05T09:00:00", "action": "MERGE"}]}',  # naive
        '{"org/repo:main": [{"time": "2026-01-05T09:00:00Z", "action": "MERGE", "target": [1]}]}',
    ],
)
def test_history_that_is_not_tides_shape_counts_as_corrupt(tmp_path, content):
    path = tmp_path / "history.json"
    path.write_text(content)
    history = History(path=path)

    history.load()

    assert history.pools() == []
    assert not path.exists() and (tmp_path / "history.json.corrupt").exists()


def test_a_reader_leaves_a_corrupt_file_where_it_is(tmp_path):
    path = tmp_path / "history.json"
    path.write_text("not json")

    History(path=path).load(set_aside=False)

    assert path.read_text() == "not json"


def test_history_keeps_the_newest_records_per_pool_when_saved_and_loaded(tmp_path):
    path = tmp_path / "history.json"
    history = History(limit=3, path=path)
    for minute in range(5):
        history.record(POOL, Record(at(minute), "MERGE", "base", (Target(minute, "a", "s", "t"),)))
    history.flush()
    smaller = History(limit=2, path=path)

    smaller.load()

    assert [r.target[0].number for r in history.records(POOL)] == [4, 3, 2]
    assert [r.target[0].number for r in smaller.records(POOL)] == [4, 3]


def test_a_failed_history_write_leaves_no_temp_file_behind(tmp_path):
    path = tmp_path / "history.json"
    path.mkdir()  # the rename onto it fails, as on a read-only or full volume
    history = History(path=path)
    history.record(POOL, Record(time=at(0), action="MERGE"))

    history.flush()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json"]


def test_a_history_write_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    import os

    steps: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: steps.append("fsync") or real_fsync(fd))
    monkeypatch.setattr(os, "replace", lambda a, b: steps.append("replace") or real_replace(a, b))
    history = History(path=tmp_path / "history.json")
    history.record(POOL, Record(time=at(0), action="MERGE"))

    history.flush()

    assert steps == ["fsync", "replace"]
    assert History(path=tmp_path / "history.json").path.exists()
