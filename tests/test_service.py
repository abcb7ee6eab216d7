"""`tide run` as a user meets it: start-up errors in one line, `--once`, SIGTERM with a
merge in flight, hot reload of config.yaml, and JSON logs that never show the token."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import structlog
from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.logs import configure_logging
from tide.service import run_service
from tide.sim import SimServer

NO_CI = "queue:\n  no_ci: true\n"  # the repositories of these worlds have no CI at all


def service_config(graphql: str, api: str, extra: str = "", fmt: str = "json") -> str:
    return textwrap.dedent(
        f"""
        github:
          graphql_url: {graphql}
          api_url: {api}
          token_env: TIDE_TEST_TOKEN
        tide:
          sync_period: 1s
          queries:
          - repos: [org/repo]
            labels: [lgtm]
        log:
          format: {fmt}
        server:
          port: 0
        """
    ) + textwrap.dedent(extra)


async def test_run_once_names_an_unreachable_github_in_one_line(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TIDE_TEST_TOKEN", "anything")
    monkeypatch.chdir(tmp_path)
    config = parse_config(
        service_config("http://127.0.0.1:9/graphql", "http://127.0.0.1:9", fmt="console")
    )
    code = await run_service(config, None, once=True, clock=VirtualClock())
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("tide: cannot reach GitHub at http://127.0.0.1:9/graphql")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


async def test_run_once_reports_a_rejected_token_in_one_line(capsys, monkeypatch, tmp_path, sim):
    monkeypatch.setenv("TIDE_TEST_TOKEN", "ghp_wrong_token_value")
    monkeypatch.chdir(tmp_path)
    config = parse_config(service_config(sim.graphql_url, sim.api_url, fmt="console"))
    code = await run_service(config, None, once=True, clock=VirtualClock())
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == "tide: GitHub rejected the token (401 Bad credentials)"
    assert "ghp_wrong_token_value" not in err


async def test_run_once_without_a_token_says_how_to_give_one(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("TIDE_TEST_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    config = parse_config(
        service_config("http://127.0.0.1:9/graphql", "http://127.0.0.1:9", fmt="console")
    )
    assert await run_service(config, None, once=True) == 1
    assert capsys.readouterr().err.strip() == (
        "tide: no GitHub token: set TIDE_TEST_TOKEN or github.token_file"
    )


async def test_run_once_does_one_full_sync_and_exits_0(capsys, monkeypatch, tmp_path, sim):
    monkeypatch.setenv("TIDE_TEST_TOKEN", "sim-token")
    monkeypatch.chdir(tmp_path)
    world = sim.world
    world.create_repo("org/repo", files={"README.md": "x\n"})
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    config = parse_config(service_config(sim.graphql_url, sim.api_url, NO_CI))
    assert await run_service(config, None, once=True) == 0
    assert pr.state == "MERGED"  # no CI, and the config says so: up to date, nothing to test
    statuses = world.repo("org/repo").statuses[pr.head_sha]
    assert [s.description for s in statuses if s.context == "tide"] == ["In merge pool."]


async def _read_until(stream: asyncio.StreamReader, needle: str) -> list[str]:
    lines: list[str] = []
    while True:
        raw = await stream.readline()
        if not raw:
            raise AssertionError("the daemon exited early:\n" + "".join(lines))
        lines.append(raw.decode())
        if needle in lines[-1]:
            return lines


async def test_sigterm_finishes_the_merge_in_flight_then_exits_0(tmp_path, sim):
    world = sim.world
    world.create_repo("org/repo", files={"README.md": "x\n"})
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    sim.faults.script("/repos/org/repo/pulls/*/merge", delay=2.0, method="PUT")
    path = tmp_path / "config.yaml"
    path.write_text(
        service_config(
            sim.graphql_url, sim.api_url, f"history:\n  path: {tmp_path}/h.json\n{NO_CI}"
        )
    )
    env = {**os.environ, "TIDE_TEST_TOKEN": "sim-token"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tide.cli", "run", "--config", str(path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, env=env,
    )  # fmt: skip
    assert proc.stdout is not None
    try:
        # The executor sets `tide` to success right before the merge call, which the
        # simulator now holds for 2 s: stop the daemon in that window.
        async with asyncio.timeout(30):
            await _read_until(proc.stdout, '"status_set"')
        proc.send_signal(signal.SIGTERM)
        rest = (await asyncio.wait_for(proc.stdout.read(), timeout=30)).decode()
        code = await proc.wait()
    finally:
        if proc.returncode is None:
            proc.kill()
    assert code == 0
    assert pr.state == "MERGED"
    events = [json.loads(line)["event"] for line in rest.splitlines() if line.startswith("{")]
    assert "merged" in events and events[-1] == "stopped"
    assert (tmp_path / "h.json").exists()


async def test_config_edits_apply_at_the_next_sync_and_bad_edits_keep_the_old(tmp_path, schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["approved"])
    advance_base_world(world)
    clock.advance(700)
    world.tick()
    async with SimServer(world) as sim:
        path = tmp_path / "config.yaml"
        text = service_config(sim.graphql_url, sim.api_url)
        path.write_text(text)
        holder = ConfigHolder(parse_config(text), path)
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken("sim-token"), clock=clock) as gh:
            daemon = Daemon(holder, gh, clock=clock)
            report = await daemon.sync_once()
            assert report.pools == ()  # lgtm is required and #1 only has approved
            path.write_text(text.replace("labels: [lgtm]", "labels: [approved]"))
            report = await daemon.sync_once()
            assert [p.decision.action for p in report.pools] == ["TRIGGER"]
            path.write_text(text.replace("sync_period: 1s", "sync_period: soon"))
            report = await daemon.sync_once()
            assert len(holder.last_error) == 1
            assert holder.last_error[0] == (
                f'{path}:7: tide.sync_period: "soon" is not a duration; '
                'expected a Go duration such as "30s", "1m" or "1h30m"'
            )
            assert report.pools and holder.config.tide.queries[0].labels == ["approved"]
    assert pr.number == 1


async def test_logs_are_json_lines_without_the_token(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    out = io.StringIO()
    configure_logging("debug", "auto", stream=out)
    try:
        async with running_queue(world, clock) as q:
            await q.run(3)
    finally:
        structlog.reset_defaults()
    lines = [line for line in out.getvalue().splitlines() if line]
    events = [json.loads(line) for line in lines]
    summary = next(e for e in events if e["event"] == "sync")
    assert {
        "pools",
        "open_prs",
        "eligible",
        "actions",
        "duration",
        "graphql_cost",
        "rate_remaining",
    } <= set(summary)
    pool = next(e for e in events if e["event"] == "pool")
    assert {"pool", "action", "prs", "base", "reason"} <= set(pool)
    assert "sim-token" not in out.getvalue()


def test_history_file_is_valid_json_after_a_run(tmp_path: Path):
    from tide.history import History, Record

    history = History(limit=2, path=tmp_path / "h.json")
    from datetime import UTC, datetime

    for i in range(3):
        history.record("o/r:main", Record(datetime(2026, 1, 1, i, tzinfo=UTC), "MERGE", f"sha{i}"))
    history.flush()
    data = json.loads((tmp_path / "h.json").read_text())
    assert [r["baseSHA"] for r in data["o/r:main"]] == ["sha2", "sha1"]
