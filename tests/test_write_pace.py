"""Status writes paced within GitHub's secondary limits for content-creating requests
(about 80 a minute, 500 an hour): a cold start on many PRs writes the eligible PRs' statuses
first, leaves the rest for later passes, and gives every PR its status in the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.write_pace import GITHUB_LIMITS, STATUS_SHARE, WriteLimits, WritePace

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_the_status_share_leaves_room_for_the_queue_s_own_writes():
    assert STATUS_SHARE.per_minute < GITHUB_LIMITS.per_minute
    assert STATUS_SHARE.per_hour < GITHUB_LIMITS.per_hour


def test_a_minute_window_and_an_hour_window_both_hold():
    pace = WritePace(WriteLimits(per_minute=3, per_hour=5))
    assert [pace.take(T0) for _ in range(4)] == [True, True, True, False]
    assert pace.next_room_at(T0) == T0 + timedelta(minutes=1)
    later = T0 + timedelta(minutes=1)
    assert [pace.take(later) for _ in range(3)] == [True, True, False]  # the hour is full
    assert pace.next_room_at(later) == T0 + timedelta(hours=1)
    assert pace.room(T0 + timedelta(hours=1)) == 3  # the first minute's writes have aged out


async def test_a_cold_start_writes_eligible_statuses_first_and_every_status_in_the_end(schema):
    clock = VirtualClock(T0)
    world = make_world(clock)
    ready, waiting = [], []
    for i in range(90):
        labels = ["lgtm"] if i % 3 == 0 else []
        pr = world.open_pr("org/repo", files={f"f{i}.txt": "x\n"}, labels=labels)
        if labels:
            world.set_status("org/repo", pr.head_sha, "ci/test", "success")
            ready.append(pr.number)
        else:
            waiting.append(pr.number)
    advance_base_world(world)
    async with running_queue(world, clock) as q:
        await q.sync()
        first = {n for n in ready + waiting if q.status(n) is not None}
        assert len(first) == STATUS_SHARE.per_minute  # no burst past the pace
        assert set(ready) <= first  # the eligible PRs went first
        for _ in range(3):
            await q.step()
        assert all(q.status(n) is not None for n in ready + waiting)
        built = [p for p in world.journal.pushes if p.branch.startswith("tide/") and not p.old]
        # One per PR, plus tide's mark on each staging commit it built (tide.evidence).
        assert world.journal.count("POST /repos/{owner}/{repo}/statuses/{sha}") == 90 + len(built)
        # The sync's own writes never waited for the status pass.
        assert world.journal.count("POST /repos/{owner}/{repo}/git/refs") >= 1
