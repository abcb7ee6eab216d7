"""Writes paced within GitHub's secondary limits for content-creating requests (about 80 a
minute, 500 an hour), the queue's first: a cold start on many PRs builds its staging branch,
writes the eligible PRs' statuses next, leaves the rest for later passes, and gives every PR
its status in the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock
from tide.write_pace import GITHUB_LIMITS, QUEUE_RESERVE, STATUS_SHARE, WriteLimits, WritePace

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


def test_the_status_pass_leaves_the_queue_s_reserve_and_the_queue_s_writes_count():
    pace = WritePace()
    for _ in range(GITHUB_LIMITS.per_minute - QUEUE_RESERVE.per_minute - 1):
        pace.note(T0)
    assert pace.room(T0, keep=QUEUE_RESERVE) == 1
    assert pace.room(T0) == QUEUE_RESERVE.per_minute + 1
    pace.note(T0)  # a queue write
    assert pace.room(T0, keep=QUEUE_RESERVE) == 0
    assert pace.next_room_at(T0, QUEUE_RESERVE) == T0 + timedelta(minutes=1)
    for _ in range(QUEUE_RESERVE.per_minute + 5):
        pace.note(T0)  # the queue's own writes are counted even past the limit
    assert pace.room(T0) == 0


async def test_a_cold_start_writes_eligible_statuses_first_and_every_status_in_the_end(schema):
    clock = VirtualClock(T0)
    world = make_world(clock)
    ready, waiting = [], []
    for i in range(90):
        labels = ["lgtm"] if i % 5 == 0 else []
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
        writes = sum(world.journal.count(f"{m} *") for m in ("POST", "PATCH", "PUT", "DELETE"))
        # The staging build went first; the status pass had what was left after the reserve.
        assert world.journal.count("POST /repos/{owner}/{repo}/merges") == len(ready)
        assert len(first) < len(ready + waiting)  # the rest waits for later passes
        assert writes <= GITHUB_LIMITS.per_minute  # no burst past GitHub's limit
        assert set(ready) <= first  # the eligible PRs went first
        for _ in range(3):
            await q.step()
        assert all(q.status(n) is not None for n in ready + waiting)
        built = [p for p in world.journal.pushes if p.branch.startswith("tide/") and not p.old]
        # One per PR, plus tide's mark on each staging commit it built (tide.evidence).
        assert world.journal.count("POST /repos/{owner}/{repo}/statuses/{sha}") == 90 + len(built)
        # The sync's own writes never waited for the status pass.
        assert world.journal.count("POST /repos/{owner}/{repo}/git/refs") >= 1
