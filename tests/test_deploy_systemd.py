"""deploy/systemd: a unit that `systemd-analyze verify` accepts, hardened, reading its config
and secrets from files, ready only once the daemon answers /readyz."""

from __future__ import annotations

import asyncio
import re
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path, PurePosixPath

import pytest
import yaml
from aiohttp import web

from tide.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SYSTEMD = ROOT / "deploy" / "systemd"
UNIT = SYSTEMD / "tide.service"
INSTALL_PREFIX = "/opt/tide/bin/"

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here"
)


def directives() -> dict[str, list[str]]:
    """Every `Key=value` of the unit, in order; a key given twice keeps both values."""
    found: dict[str, list[str]] = {}
    for line in UNIT.read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def single(key: str) -> str:
    [value] = directives()[key]
    return value


def installed_copy(tmp_path: Path) -> Path:
    """The unit as installed, with the venv's programs at a path that exists on this machine:
    `verify` checks that every command is executable, and /opt/tide is not installed here."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    text = UNIT.read_text()
    for program in set(re.findall(re.escape(INSTALL_PREFIX) + r"([\w.-]+)", text)):
        stub = bin_dir / program
        stub.write_text("#!/bin/sh\n")
        stub.chmod(0o755)
    unit = tmp_path / "tide.service"
    unit.write_text(text.replace(INSTALL_PREFIX, f"{bin_dir}/"))
    return unit


async def run(*argv: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@needs_systemd_analyze
async def test_unit_passes_systemd_analyze_verify(tmp_path: Path):
    code, out, err = await run(
        "systemd-analyze", "verify", "--man=no", str(installed_copy(tmp_path))
    )

    assert (code, out, err) == (0, "", "")


@needs_systemd_analyze
async def test_verify_does_reject_a_unit_with_a_missing_program(tmp_path: Path):
    unit = tmp_path / "tide.service"
    unit.write_text(UNIT.read_text())  # /opt/tide/bin/tide does not exist on this machine

    code, _, err = await run("systemd-analyze", "verify", "--man=no", str(unit))

    assert code != 0
    assert "/opt/tide/bin/tide is not executable" in err


@needs_systemd_analyze
async def test_unit_exposure_is_rated_ok_by_systemd(tmp_path: Path):
    code, out, _ = await run(
        "systemd-analyze", "security", "--offline=yes", str(installed_copy(tmp_path))
    )

    score = re.search(r"Overall exposure level for tide\.service: ([\d.]+) (\w+)", out)
    assert code == 0
    assert score is not None and float(score[1]) <= 2.0 and score[2] == "OK"


@needs_systemd_analyze
async def test_sysusers_file_creates_the_dedicated_user():
    if shutil.which("systemd-sysusers") is None:
        pytest.skip("systemd-sysusers is not installed here")

    code, out, err = await run(
        "systemd-sysusers", "--dry-run", "--root=/nonexistent", str(SYSTEMD / "tide.sysusers")
    )

    assert code == 0
    assert "Creating user 'tide' (tide merge queue)" in out + err


def test_unit_runs_as_a_dedicated_user_in_a_read_only_system():
    unit = directives()

    assert single("User") == single("Group") == "tide"
    assert single("NoNewPrivileges") == "yes"
    assert single("ProtectSystem") == "strict"
    assert single("ProtectHome") == "yes"
    assert single("CapabilityBoundingSet") == ""
    assert unit["SystemCallFilter"] == ["@system-service", "~@privileged @resources"]


def test_unit_restarts_on_failure_and_stops_gracefully():
    assert single("Restart") == "on-failure"
    assert single("KillSignal") == "SIGTERM"
    assert single("WantedBy") == "multi-user.target"


def test_unit_waits_for_readyz_before_it_counts_as_started():
    ready = single("ExecStartPost").split()
    config_path = single("ExecStart").split("--config ", 1)[1]

    assert ready[:2] == [f"{INSTALL_PREFIX}python", f"{INSTALL_PREFIX}tide-ready"]
    assert ready[2:4] == ["--config", config_path]  # the port comes from the daemon's config
    assert float(ready[4]) < float(single("TimeoutStartSec"))


def test_the_daemon_stops_within_the_grace_systemd_and_kubernetes_give_it():
    from tide.daemon import SHUTDOWN_GRACE

    stop = float(single("TimeoutStopSec").removesuffix("s"))
    pod = yaml.safe_load((SYSTEMD.parent / "kubernetes" / "deployment.yaml").read_text())
    grace = pod["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
    assert SHUTDOWN_GRACE < stop <= 90
    assert SHUTDOWN_GRACE < grace <= 90


async def test_tide_ready_reads_the_port_from_the_config(tmp_path: Path):
    config = tmp_path / "config.yaml"
    config.write_text("server:\n  address: 0.0.0.0\n  port: 9\n")
    code, _, err = await run(
        sys.executable, str(SYSTEMD / "tide-ready"), "--config", str(config), "0"
    )
    assert code == 1
    assert err.startswith("tide-ready: http://127.0.0.1:9/readyz is not ready: ")
    code, _, err = await run(
        sys.executable, str(SYSTEMD / "tide-ready"), "--config", str(tmp_path / "none.yaml")
    )
    assert code == 2 and err.startswith(f"tide-ready: cannot read {tmp_path}/none.yaml")


def test_config_and_app_key_come_from_files_the_example_config_names():
    config_path = single("ExecStart").split("--config ", 1)[1]
    credential, source = single("LoadCredential").split(":", 1)
    config = load_config(SYSTEMD / "config.yaml")

    assert config_path == "/etc/tide/config.yaml"
    assert source.startswith("/etc/tide/")
    assert config.github.app is not None
    assert config.github.app.private_key_file == f"/run/credentials/tide.service/{credential}"


def test_history_lives_in_the_state_directory():
    config = load_config(SYSTEMD / "config.yaml")

    state = PurePosixPath("/var/lib") / single("StateDirectory")
    assert PurePosixPath(config.history.path).parent == state
    assert single("WorkingDirectory") == str(state)


# -- the readiness check ---------------------------------------------------------------------


@pytest.fixture
async def readyz() -> AsyncIterator[tuple[str, list[int]]]:
    """/readyz answering 503 twice, then 200; yields its URL and the statuses sent."""
    sent: list[int] = []

    async def answer(_: web.Request) -> web.Response:
        status = 503 if len(sent) < 2 else 200
        sent.append(status)
        return web.json_response({"ready": status == 200}, status=status)

    app = web.Application()
    app.router.add_get("/readyz", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/readyz", sent
    await runner.cleanup()


async def test_readiness_check_waits_until_readyz_answers_ok(readyz: tuple[str, list[int]]):
    url, sent = readyz

    code, _, err = await run(sys.executable, str(SYSTEMD / "tide-ready"), url, "20")

    assert (code, err) == (0, "")
    assert sent == [503, 503, 200]


async def test_readiness_check_gives_up_with_the_reason(readyz: tuple[str, list[int]]):
    url, _ = readyz
    closed = url.replace(url.split(":")[2].split("/")[0], "9")

    code, _, err = await run(sys.executable, str(SYSTEMD / "tide-ready"), closed, "0")

    assert code == 1
    assert err.startswith(f"tide-ready: {closed} is not ready: ")
