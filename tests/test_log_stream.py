"""One machine-readable stream: with JSON logs every line `tide run --once` prints, on stdout
and stderr, is one JSON object (self-check, fatal reasons, library warnings); `--log-format`,
`--log-level` and their environment variables override the config; `--version`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest
from test_service import service_config

from tide.cli import main
from tide.logs import overrides


def config_file(tmp_path: Path, graphql: str, api: str, fmt: str = "console") -> Path:
    path = tmp_path / "config.yaml"
    extra = f"""
        history:
          path: {tmp_path}/history.json
        queue:
          no_ci: true  # the world has no CI at all
        """
    path.write_text(service_config(graphql, api, extra, fmt))
    return path


async def tide_run(*args: str, token: str = "sim-token", env: dict[str, str] | None = None):
    """`tide run ...` as a process: (exit code, stdout lines, stderr lines)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TIDE_LOG_")}
    environ.update({"TIDE_TEST_TOKEN": token, **(env or {})})
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "always", "-m", "tide.cli", "run", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=environ,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode().splitlines(), err.decode().splitlines()


def parsed(lines: list[str]) -> list[dict[str, object]]:
    """Every line as JSON; a line that is not JSON fails the test, naming it."""
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
    return events


async def test_run_once_prints_only_json_on_stdout_and_stderr(tmp_path, sim):
    world = sim.world
    world.create_repo("org/repo", files={"README.md": "x\n"})
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    path = config_file(tmp_path, sim.graphql_url, sim.api_url, fmt="console")
    # The config asks for the console; the flag wins (and every warning is shown).
    code, out, err = await tide_run(
        "--once", "--config", str(path), "--log-format", "json", env={"PYTHONWARNINGS": "always"}
    )
    events = parsed(out) + parsed(err)
    assert code == 0, events
    assert pr.state == "MERGED"
    names = [e["event"] for e in events]
    check = next(e for e in events if e["event"] == "self_check")
    assert any("repo org/repo: permission" in line for line in check["report"])
    assert "merged" in names
    assert all({"event", "level", "timestamp"} <= set(e) for e in events)


async def test_a_fatal_start_up_reason_is_a_json_event(tmp_path, sim):
    sim.world.create_repo("org/repo", files={"README.md": "x\n"})
    path = config_file(tmp_path, sim.graphql_url, sim.api_url, fmt="json")
    code, out, err = await tide_run("--once", "--config", str(path), token="ghp_wrong")
    events = parsed(out) + parsed(err)
    assert code == 1
    fatal = [e for e in events if e["event"] == "fatal"]
    assert [e["reason"] for e in fatal] == ["GitHub rejected the token (401 Bad credentials)"]
    assert "ghp_wrong" not in json.dumps(events)


async def test_config_problems_are_json_when_the_flag_asks_for_json(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("tide:\n  sync_period: soon\n")
    code, out, err = await tide_run(
        "--once", "--config", str(path), env={"TIDE_LOG_FORMAT": "json"}
    )
    events = parsed(out) + parsed(err)
    assert code == 2
    assert [e["event"] for e in events] == ["config_invalid"]
    assert "sync_period" in str(events[0]["problem"])


async def test_library_warnings_and_crashes_join_the_json_stream(capsys):
    """apscheduler's and Python's warnings go through the same renderer."""
    import logging
    import warnings

    from tide.logs import configure_logging

    configure_logging("info", "json")
    logging.getLogger("apscheduler.executors.default").warning(
        "Run time of job %r was missed by %s", "sync", "0:00:03"
    )
    warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
    lines = capsys.readouterr().out.splitlines()
    events = parsed(lines)
    assert events[0]["event"] == "Run time of job 'sync' was missed by 0:00:03"
    assert events[0]["logger"] == "apscheduler.executors.default"
    assert events[0]["level"] == "warning"
    assert "something is deprecated" in str(events[1]["event"])


def test_flags_and_environment_override_the_config():
    assert overrides(None, None, env={}) == (None, None)
    assert overrides(None, None, env={"TIDE_LOG_LEVEL": "debug"}) == ("debug", None)
    assert overrides("error", "json", env={"TIDE_LOG_LEVEL": "debug"}) == ("error", "json")
    with pytest.raises(ValueError, match="TIDE_LOG_FORMAT='xml': use one of auto, json, console"):
        overrides(None, "xml", env={})


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "tide 0.1.0"
