"""The operations guide's `jq` recipes, run as written against a real log stream of the
daemon (bisection, a culprit, a PR GitHub refuses): each must parse and find something."""

from __future__ import annotations

import asyncio
import io
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.logs import configure_logging
from tide.sim import FakeCI, Job, fail_if_all_present

GUIDE = Path(__file__).parent.parent / "docs" / "operations.md"
RECIPE = re.compile(
    r"^(?:journalctl -u tide -o cat|kubectl -n tide logs deploy/tide) \| jq -c '(.+?)'(?:\s+#.*)?$"
)


def recipes() -> list[str]:
    found = []
    for line in GUIDE.read_text().splitlines():
        match = RECIPE.match(line)
        if match:
            found.append(match.group(1))
    return found


def jq() -> str:
    path = shutil.which("jq")
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail("jq is missing; CI is set, so the recipe test may not be skipped")
    pytest.skip("jq is missing (apt-get install -y jq; .ci/run installs it)")


async def log_stream() -> str:
    """Logs of a queue where one PR is found to break the build and one is refused."""
    clock = VirtualClock()
    rule = fail_if_all_present("poison.txt", "base.txt")
    ci = FakeCI([Job("ci/test", duration=600)], branches=["tide/*"], rules=[rule])
    world = make_world(clock, ci=ci)
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"], review="APPROVED")
    world.open_pr("org/repo", files={"poison.txt": "1\n"}, labels=["lgtm"], review="APPROVED")
    world.open_pr("org/repo", files={"c.txt": "1\n"}, labels=["lgtm"])
    world.protect("org/repo", "main", required_approving_reviews=1)
    clock.advance(700)
    world.tick()
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    async with running_queue(world, clock) as q:
        await q.run(120)
    return out.getvalue()


def test_every_recipe_in_the_operations_guide_works_as_written(schema, tmp_path):
    binary = jq()
    found = recipes()
    assert len(found) >= 8
    # The guide's examples name acme/widgets; the simulated queue is org/repo.
    text = asyncio.run(log_stream()).replace("org/repo", "acme/widgets")
    log = tmp_path / "tide.log"
    log.write_text(text)
    for filter_ in found:
        with log.open() as stdin:
            done = subprocess.run(
                [binary, "-c", filter_], stdin=stdin, capture_output=True, text=True, check=False
            )
        assert done.returncode == 0, (filter_, done.stderr)
        if '.level == "error"' in filter_:
            continue  # a healthy queue has nothing that needs a person
        lines = done.stdout.splitlines()
        assert lines, f"{filter_} found nothing"
        assert all(json.loads(line) is not None for line in lines)
