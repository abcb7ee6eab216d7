"""The queue plans its staging builds within GitHub's write budget (`PoolState.write_room`):
a batch is cut to what can be built now, a pool with no room waits and says why, and a merge
of a passed run is never held back by the budget."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from planner_world import make_policy, make_pr, make_run
from test_planner import BASE, pool
from test_planner_properties import pools

from tide.planner import decide
from tide.pool import STAGING_WRITES, Action
from tide.staging import Outcome


def test_a_batch_is_cut_to_the_prs_whose_build_fits_in_the_write_room():
    prs = [make_pr(n) for n in range(1, 21)]
    d = decide(pool(prs, write_room=STAGING_WRITES + 5))
    assert d.action == Action.TRIGGER_BATCH
    assert d.numbers == (1, 2, 3, 4, 5)
    assert sum(t.writes for t in d.triggers) <= STAGING_WRITES + 5


def test_a_configured_batch_size_smaller_than_the_room_is_kept():
    prs = [make_pr(n) for n in range(1, 21)]
    d = decide(pool(prs, policy=make_policy(batch_size_limit=3), write_room=80))
    assert d.numbers == (1, 2, 3)


def test_a_pool_without_write_room_waits_for_github_s_write_budget_and_says_so():
    d = decide(pool([make_pr(1), make_pr(2)], write_room=STAGING_WRITES))
    assert d.action == Action.WAIT
    assert d.triggers == ()
    assert d.reason.startswith("waiting for GitHub's write budget: testing #1")
    assert "80 a minute, 500 an hour" in d.reason


def test_a_passed_run_merges_whatever_the_write_budget_says():
    prs = [make_pr(1), make_pr(2)]
    passed = make_run(prs, BASE, Outcome.SUCCESS)
    d = decide(pool(prs, [passed], write_room=0))
    assert d.action == Action.MERGE_BATCH
    assert d.numbers == (1, 2)


def test_without_a_write_budget_nothing_changes():
    prs = [make_pr(n) for n in range(1, 9)]
    assert decide(pool(prs)) == decide(pool(prs, write_room=None))


@settings(max_examples=300, deadline=None)
@given(pools(), st.integers(0, 40))
def test_a_pool_never_plans_more_staging_writes_than_its_room_nor_holds_back_a_merge(pool, room):
    free = decide(pool)
    d = decide(replace(pool, write_room=room))
    assert sum(t.writes for t in d.triggers) <= room
    if room == 0:
        assert d.triggers == ()
        assert d.action not in (Action.TRIGGER, Action.TRIGGER_BATCH)
    if free.action in (Action.MERGE, Action.MERGE_BATCH):
        assert (d.action, d.prs, d.merge_run) == (free.action, free.prs, free.merge_run)
