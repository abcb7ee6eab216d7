"""Small things an operator relies on: a dry run leaves the live history file alone, and
the demo's banner says how it ends."""

from __future__ import annotations

import json

from tide.config import parse_config
from tide.demo import stop_note
from tide.service import run_service


async def test_a_dry_run_never_writes_the_history_file(monkeypatch, tmp_path, sim):
    monkeypatch.setenv("TIDE_TEST_TOKEN", "sim-token")
    world = sim.world
    world.create_repo("org/repo", files={"README.md": "x\n"})
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    history = tmp_path / "history.json"
    live = {"org/repo:main": [{"time": "2026-01-01T00:00:00Z", "action": "MERGE"}]}
    history.write_text(json.dumps(live))
    config = parse_config(
        f"""
github:
  graphql_url: {sim.graphql_url}
  api_url: {sim.api_url}
  token_env: TIDE_TEST_TOKEN
tide:
  queries:
  - repos: [org/repo]
    labels: [lgtm]
history:
  path: {history}
log:
  format: json
"""
    )
    assert await run_service(config, None, once=True, dry_run=True) == 0
    assert pr.state == "OPEN"
    assert json.loads(history.read_text()) == live


def test_the_demo_says_how_it_ends():
    assert "stops by itself" in stop_note(False)
    assert "until Ctrl-C" in stop_note(True) and "by itself" not in stop_note(True)


def test_an_instance_that_recorded_nothing_never_writes_the_history_file(tmp_path):
    """A replica standing by shares the history volume: it must not overwrite the file
    with its stale copy, and re-reads it when it takes over."""
    from datetime import UTC, datetime

    from tide.history import History, Record

    path = tmp_path / "history.json"
    acting, standing_by = History(path=path), History(path=path)
    standing_by.load()
    acting.record("o/r:main", Record(datetime(2026, 1, 1, tzinfo=UTC), "MERGE", "sha1"))
    acting.flush()
    standing_by.flush()  # nothing recorded: the acting instance's file stays
    assert json.loads(path.read_text())["o/r:main"][0]["baseSHA"] == "sha1"
    standing_by.reload()
    assert [r.base_sha for r in standing_by.records("o/r:main")] == ["sha1"]
