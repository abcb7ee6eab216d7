"""Merging comes first on the shared GraphQL budget: when points run low the status pass
slows down while the sync loop keeps its pace; `slowing_down` is said once, not per sync."""

from __future__ import annotations

import io
import json

from e2e import TOKEN, running_queue

from tide.clock import VirtualClock
from tide.logs import configure_logging
from tide.sim import FakeCI, Job, World

ONE_MINUTE = """
tide:
  sync_period: 1m
  status_update_period: 1m
  queries:
  - repos: [org/repo]
    labels: [lgtm]
"""


def budget_world(clock: VirtualClock, points: int) -> World:
    world = World(clock, tokens={TOKEN: "tide-bot"}, graphql_points_per_hour=points)
    world.create_repo(
        "org/repo",
        files={"README.md": "x\n"},
        ci=FakeCI([Job("ci/test", duration=600)], branches=["tide/*"]),
    )
    for n in range(3):
        world.open_pr("org/repo", files={f"f{n}.txt": "1\n"}, labels=["lgtm"] if n else [])
    return world


async def an_hour(points: int) -> tuple[int, int, list[dict[str, object]], int, int]:
    """An hour of the daemon's own scheduled jobs, one tick a minute: (syncs, status
    passes, pace events, points the syncs spent, points the status passes spent)."""
    clock = VirtualClock()
    world = budget_world(clock, points)
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    syncs, passes = [], []
    async with running_queue(world, clock, tide=ONE_MINUTE) as q:
        q.daemon.listeners.append(syncs.append)
        q.daemon.status_listeners.append(lambda result, seconds: passes.append(result))
        budget = q.daemon.gh.budget
        spent = [0, 0]
        for _ in range(60):
            clock.advance(60)
            world.tick()
            before = budget.spent_total
            await q.daemon._sync_job()  # what the scheduler calls, pacing included
            middle = budget.spent_total
            await q.daemon._status_job()
            spent[0] += middle - before
            spent[1] += budget.spent_total - middle
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    pace = [e for e in events if e["event"] in ("slowing_down", "pace_restored")]
    return len(syncs), len(passes), pace, spent[0], spent[1]


async def test_with_points_to_spare_both_loops_keep_their_period(schema):
    syncs, passes, pace, _, _ = await an_hour(5000)
    assert (syncs, passes, pace) == (60, 60, [])


async def test_when_points_run_low_the_status_pass_slows_first(schema):
    full_syncs, full_passes, _, sync_points, status_points = await an_hour(5000)
    # Enough for every sync of the hour but not for every status pass on top.
    points = int((sync_points * 2 + status_points * 0.5) / 0.95)
    syncs, passes, pace, _, _ = await an_hour(points)
    assert syncs == full_syncs == 60  # merging keeps its pace
    assert 0 < passes < full_passes  # the status pass gives way
    assert [e["loop"] for e in pace] == ["statuses"] * len(pace)  # never the sync loop
    assert [e["event"] for e in pace][:1] == ["slowing_down"]
    # Said when the pace changes, not every time a pass is put off.
    assert len(pace) <= 2
