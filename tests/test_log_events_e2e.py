"""What the log tells an operator: a staging run that finished (outcome, failed contexts
with their links), one spelling of a PR (`org/repo#n`) in every event, a per-pool summary
on change, idle syncs only at debug, and useful debug lines."""

from __future__ import annotations

import io
import json

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.logs import configure_logging
from tide.sim import FakeCI, Job, fail_if_all_present


async def logged(level: str, minutes: int, *, idle_after: int = 0) -> list[dict[str, object]]:
    clock = VirtualClock()
    # #2 passes on its own but breaks together with the moved base: only staging finds out.
    rule = fail_if_all_present("poison.txt", "base.txt")
    ci = FakeCI([Job("ci/test", duration=600)], branches=["tide/*"], rules=[rule])
    world = make_world(clock, ci=ci)
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    world.open_pr("org/repo", files={"poison.txt": "1\n"}, labels=["lgtm"])
    clock.advance(700)
    world.tick()
    advance_base_world(world)
    clock.advance(700)
    world.tick()
    out = io.StringIO()
    configure_logging(level, "json", stream=out)
    async with running_queue(world, clock) as q:
        await q.run(minutes)
        mark = len(out.getvalue().splitlines())
        await q.run(idle_after)
    lines = out.getvalue().splitlines()
    events = [json.loads(line) for line in lines]
    if idle_after:
        return events[mark:]
    return events


async def test_staging_finished_names_the_outcome_and_the_failed_contexts_with_links(schema):
    events = await logged("info", 40)
    finished = [e for e in events if e["event"] == "staging_finished"]
    failed = [e for e in finished if e["outcome"] == "failure"]
    assert failed, [e["event"] for e in events]
    first = failed[0]
    assert first["pool"] == "org/repo:main"
    assert first["run"].startswith("tide/main-")
    assert "org/repo#2" in first["prs"]
    assert first["failed"][0]["context"] == "ci/test"
    assert first["failed"][0]["url"].startswith("https://ci.example/org/repo/")
    assert any(e["outcome"] == "success" for e in finished)
    # Each finished run is said once.
    assert len({e["run"] for e in finished}) == len(finished)


async def test_every_event_spells_a_pr_as_org_repo_number(schema):
    events = await logged("debug", 60)
    for event in events:
        if "pr" in event:
            assert isinstance(event["pr"], str) and event["pr"].startswith("org/repo#"), event
        for key in ("prs", "merged"):
            for pr in event.get(key) or []:
                assert isinstance(pr, str) and pr.startswith("org/repo#"), event
    assert {"merged", "culprit", "status_set"} <= {e["event"] for e in events if "pr" in e}


async def test_a_pool_summary_on_change_and_idle_syncs_only_at_debug(schema):
    events = await logged("info", 40)
    summaries = [e for e in events if e["event"] == "pool_summary"]
    assert summaries
    assert {"pool", "queued", "in_flight", "oldest_waiting", "last_merge"} <= set(summaries[0])
    assert summaries[-1]["last_merge"] is not None
    # Nothing left to do: twenty more minutes log nothing at info.
    idle = await logged("info", 60, idle_after=20)
    assert idle == []


async def test_debug_says_what_each_pool_decided_and_what_github_was_asked(schema):
    events = await logged("debug", 3)
    names = {e["event"] for e in events}
    assert {"pool_decision", "github.request", "sync"} <= names
    decision = next(e for e in events if e["event"] == "pool_decision")
    assert {"pool", "action", "reason", "eligible"} <= set(decision)
