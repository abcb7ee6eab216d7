"""CI capacity over every pool: `queue.max_concurrent_runs_total` is never exceeded, and
a pool that has no room left waits for it instead of starting runs."""

from __future__ import annotations

from e2e import TOKEN, running_queue
from hypothesis import given
from hypothesis import strategies as st
from planner_world import make_policy, make_pr, make_run
from test_planner import BASE
from test_planner import pool as planner_pool

from tide.capacity import RunAllowance
from tide.clock import VirtualClock
from tide.planner import decide
from tide.pool import Action, PoolState
from tide.sim import FakeCI, Job, World
from tide.staging import Outcome


def pool(prs, runs=(), policy=None, room=None) -> PoolState:
    return planner_pool(prs, runs, policy, run_room=room)


def test_parallel_bisection_with_room_for_one_run_tests_the_first_half_only():
    prs = [make_pr(n) for n in range(1, 9)]
    failed = make_run(prs, BASE, Outcome.FAILURE)
    d = decide(pool(prs, [failed], policy=make_policy(parallel=True), room=1))
    assert [tuple(p.number for p in t.prs) for t in d.triggers] == [(1, 2, 3, 4)]
    assert d.action == Action.TRIGGER_BATCH
    assert d.numbers == (1, 2, 3, 4)


def test_a_pool_without_room_waits_for_ci_capacity_and_says_which_setting():
    d = decide(pool([make_pr(1), make_pr(2)], room=0))
    assert d.action == Action.WAIT
    assert "max_concurrent_runs_total" in d.reason
    assert d.triggers == ()


def test_without_an_overall_cap_nothing_changes():
    prs = [make_pr(n) for n in range(1, 9)]
    failed = make_run(prs, BASE, Outcome.FAILURE)
    capped = decide(pool(prs, [failed], policy=make_policy(parallel=True), room=None))
    assert len(capped.triggers) == 2


@given(
    room=st.integers(min_value=0, max_value=3),
    size=st.integers(min_value=1, max_value=8),
    parallel=st.booleans(),
    failed=st.booleans(),
)
def test_no_decision_starts_more_runs_than_its_room(room, size, parallel, failed):
    prs = [make_pr(n) for n in range(1, size + 1)]
    runs = [make_run(prs, BASE, Outcome.FAILURE)] if failed and size > 1 else []
    d = decide(pool(prs, runs, policy=make_policy(parallel=parallel), room=room))
    assert len(d.triggers) <= room
    if d.action in (Action.TRIGGER, Action.TRIGGER_BATCH):
        assert d.triggers
        assert d.numbers == tuple(p.number for t in d.triggers for p in t.prs)


@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3), st.integers(0, 3)), max_size=30))
def test_pools_deciding_one_after_another_never_exceed_the_cap(steps):
    """(pool, runs that finished since, runs it wants): the allowance's room is obeyed."""
    cap = 3
    allowance = RunAllowance()
    running = dict.fromkeys(range(5), 0)
    for index, (key, finished, wanted) in enumerate(steps):
        if index % 5 == 0:
            allowance.start_sync()
        running[key] = max(0, running[key] - finished)
        room = allowance.room(cap, str(key), running[key])
        assert room is not None
        start = min(room, wanted)
        running[key] += start
        allowance.started(str(key), start)
        assert sum(running.values()) <= cap or start == 0


async def test_two_repositories_share_one_run_of_ci_capacity_and_both_merge(schema):
    clock = VirtualClock()
    world = World(clock, tokens={TOKEN: "tide-bot"})
    for name in ("org/repo", "org/other"):
        world.create_repo(
            name,
            files={"README.md": "hello\n"},
            ci=FakeCI([Job("ci/test", duration=600)], branches=["tide/*"]),
        )
        world.open_pr(name, files={"a.txt": "a\n"}, labels=["lgtm"])
        world.push_branch(name, "main", {"base.txt": "moved\n"}, message="unrelated change")
    tide = """
    tide:
      sync_period: 1m
      queries:
      - repos: [org/repo, org/other]
        labels: [lgtm]
    """
    queue = "queue:\n  max_concurrent_runs_total: 1\n"

    def staging_branches() -> int:
        return sum(
            1
            for name in ("org/repo", "org/other")
            for branch in world.repo(name).git.branches
            if branch.startswith("tide/")
        )

    async with running_queue(world, clock, tide=tide, queue=queue) as q:
        waited = False
        for _ in range(40):
            report = await q.step()
            assert staging_branches() <= 1
            waited |= any("max_concurrent_runs_total" in p.decision.reason for p in report.pools)
        assert waited
        assert q.merged("org/repo") == [1]
        assert q.merged("org/other") == [1]
