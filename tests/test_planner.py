"""The planner's rules, on plain data: what merges, what gets tested, and when to wait."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from planner_world import T0, make_policy, make_pr, make_run, with_labels, world_of

from tide.model import Blocker, StagedPR
from tide.planner import decide
from tide.policy import FailureStrategy
from tide.pool import Action, PoolState
from tide.staging import Outcome

BASE = "b" * 40
OLD_BASE = "a" * 40


def pool(prs, runs=(), policy=None, **kw) -> PoolState:
    return PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha=BASE,
        policy=policy or make_policy(),
        now=T0 + timedelta(minutes=30),
        eligible=tuple(prs),
        runs=tuple(runs),
        **kw,
    )


def test_passed_run_on_current_base_merges_its_prs_in_staged_order():
    a, b = make_pr(3), make_pr(1)
    run = make_run([a, b], BASE, Outcome.SUCCESS)
    d = decide(pool([b, a], [run]))
    assert d.action == Action.MERGE_BATCH
    assert d.numbers == (3, 1)
    assert d.merge_run == run.run


def test_passed_run_on_an_old_base_is_never_merged_and_its_branch_is_dropped():
    a = make_pr(1)
    run = make_run([a], OLD_BASE, Outcome.SUCCESS)
    d = decide(pool([a], [run]))
    assert d.action == Action.TRIGGER
    assert d.merge_run is None
    assert run.run in d.obsolete


def test_run_whose_pr_got_a_new_head_is_discarded_not_merged():
    a = make_pr(1)
    run = make_run([a], BASE, Outcome.SUCCESS)
    pushed = replace(a, head_sha="f" * 40)
    d = decide(pool([pushed], [run]))
    assert d.action == Action.TRIGGER
    assert run.run in d.obsolete


def test_passed_batch_is_not_merged_when_one_of_its_prs_left_the_pool():
    a, b = make_pr(1), make_pr(2)
    run = make_run([a, b], BASE, Outcome.SUCCESS)
    d = decide(pool([a], [run]))
    assert d.action != Action.MERGE_BATCH
    assert run.run in d.obsolete


def test_up_to_date_pr_merges_without_a_staging_run():
    a, b = make_pr(1), make_pr(2)
    d = decide(pool([a, b], contains_base={a.head_sha: False, b.head_sha: True}))
    assert d.action == Action.MERGE
    assert d.numbers == (2,)
    assert d.merge_run is None


def test_pending_run_blocks_direct_merges_and_new_runs():
    a, b = make_pr(1), make_pr(2)
    running = make_run([a], BASE, Outcome.PENDING)
    d = decide(pool([a, b], [running], contains_base={a.head_sha: False, b.head_sha: True}))
    assert d.action == Action.WAIT
    assert "waiting for staging run" in d.reason
    assert not d.triggers


def test_batching_off_tests_the_highest_priority_pr_alone():
    prs = [make_pr(5), with_labels(make_pr(9), "priority/critical"), make_pr(2)]
    policy = make_policy(batch_size_limit=-1, priority=(("priority/critical",),))
    d = decide(pool(prs, policy=policy))
    assert d.action == Action.TRIGGER
    assert d.numbers == (9,)


def test_batch_takes_prs_in_priority_order_up_to_the_limit():
    prs = [make_pr(n) for n in (7, 3, 5, 1)] + [with_labels(make_pr(8), "urgent")]
    policy = make_policy(batch_size_limit=3, priority=(("urgent",),))
    d = decide(pool(prs, policy=policy))
    assert d.action == Action.TRIGGER_BATCH
    assert d.numbers == (8, 1, 3)


def test_blocker_issue_blocks_the_pool():
    a = make_pr(1)
    blocker = Blocker("org", "repo", 5, "freeze")
    d = decide(pool([a], [make_run([a], BASE, Outcome.SUCCESS)], blockers=(blocker,)))
    assert d.action == Action.BLOCKED
    assert "#5" in d.reason
    assert not d.obsolete and not d.triggers and not d.culprits


def test_failed_batch_is_bisected_first_half_first():
    prs = [make_pr(n) for n in range(1, 9)]
    failed = make_run(prs, BASE, Outcome.FAILURE)
    d = decide(pool(prs, [failed]))
    assert d.action == Action.TRIGGER_BATCH
    assert d.numbers == (1, 2, 3, 4)


def test_parallel_bisection_tests_both_halves_at_once():
    prs = [make_pr(n) for n in range(1, 9)]
    failed = make_run(prs, BASE, Outcome.FAILURE)
    d = decide(pool(prs, [failed], policy=make_policy(parallel=True)))
    assert [tuple(p.number for p in t.prs) for t in d.triggers] == [(1, 2, 3, 4), (5, 6, 7, 8)]


def test_single_failure_is_retried_once_then_the_pr_is_a_culprit():
    a, b = make_pr(1), make_pr(2)
    first = make_run([a], BASE, Outcome.FAILURE)
    d = decide(pool([a, b], [first]))
    assert d.action == Action.TRIGGER and d.numbers == (1,)
    assert d.triggers[0].attempt == 2
    second = make_run([a], BASE, Outcome.FAILURE, created=T0 + timedelta(minutes=1), attempt=2)
    d = decide(pool([a, b], [first, second]))
    assert [c.pr.number for c in d.culprits] == [1]
    assert d.numbers == (2,)  # the queue moves on without the culprit
    assert {first.run, second.run} <= set(d.obsolete)


def test_tide_strategy_takes_a_pr_out_after_one_serial_failure():
    a, b = make_pr(1), make_pr(2)
    policy = make_policy(strategy=FailureStrategy.TIDE)
    d = decide(pool([a, b], [make_run([a], BASE, Outcome.FAILURE)], policy=policy))
    assert [c.pr.number for c in d.culprits] == [1]


def test_tide_strategy_runs_a_serial_retest_beside_a_pending_batch():
    prs = [make_pr(n) for n in (1, 2, 3)]
    policy = make_policy(strategy=FailureStrategy.TIDE)
    batch = make_run(prs, BASE, Outcome.PENDING)
    d = decide(pool(prs, [batch], policy=policy))
    assert d.action == Action.TRIGGER
    assert d.numbers == (1,)


def test_tide_strategy_does_not_merge_a_serial_success_while_a_batch_is_pending():
    prs = [make_pr(n) for n in (1, 2, 3)]
    policy = make_policy(strategy=FailureStrategy.TIDE)
    runs = [make_run(prs, BASE, Outcome.PENDING), make_run([prs[0]], BASE, Outcome.SUCCESS)]
    d = decide(pool(prs, runs, policy=policy))
    assert d.action == Action.WAIT


def test_tide_strategy_forgets_a_failed_batch_and_picks_again():
    prs = [make_pr(n) for n in (1, 2, 3)]
    policy = make_policy(strategy=FailureStrategy.TIDE)
    d = decide(pool(prs, [make_run(prs, BASE, Outcome.FAILURE)], policy=policy))
    assert d.action == Action.TRIGGER_BATCH
    assert d.numbers == (1, 2, 3)


def test_bisection_isolates_one_culprit_among_eight_in_a_handful_of_runs():
    world = world_of(8, bad={6})
    world.run_until_idle()
    assert sorted(world.merged) == [1, 2, 3, 4, 5, 7, 8]
    assert {b.number for b in world.broken} == {6}
    # 1 batch + halves [1-4] ok, [5,6] fail, [5] ok, [6] x2, then [7,8] -> 7 runs.
    assert world.ci_runs <= 8


def test_bisection_isolates_two_culprits_among_eight():
    world = world_of(8, bad={2, 7})
    world.run_until_idle()
    assert sorted(world.merged) == [1, 3, 4, 5, 6, 8]
    assert {b.number for b in world.broken} == {2, 7}
    assert world.ci_runs <= 14


def test_pair_that_breaks_only_together_lands_one_and_rejects_the_other():
    world = world_of(6, pairs={frozenset({2, 5})})
    world.run_until_idle()
    assert len(world.merged) == 5
    assert {b.number for b in world.broken} & {2, 5}
    assert all(world.passes(state) for state in world.base_history)


def test_a_flaky_batch_failure_costs_runs_but_merges_everything():
    world = world_of(4)
    world.flaky.add((1, 2, 3, 4))
    world.run_until_idle()
    assert sorted(world.merged) == [1, 2, 3, 4]
    assert not world.broken


def test_a_culprit_comes_back_after_a_new_head():
    world = world_of(2, bad={1})
    world.run_until_idle()
    assert world.merged == [2]
    world.bad.discard(1)
    world.prs[1] = replace(world.prs[1], head_sha="e" * 40)
    world.run_until_idle()
    assert world.merged == [2, 1]


def test_broken_heads_explain_failed_runs_that_contained_them():
    a, b = make_pr(1), make_pr(2)
    failed = make_run([a, b], BASE, Outcome.FAILURE)
    d = decide(pool([b], [failed], broken=frozenset({StagedPR(1, a.head_sha)})))
    assert failed.run in d.obsolete
    assert d.numbers == (2,)


@pytest.mark.parametrize("prioritize", [True, False])
def test_a_running_batch_is_never_abandoned_whatever_prioritize_existing_batches(
    prioritize: bool,
) -> None:
    # Prow's flag only chooses whether earlier batch results are reused when picking a batch;
    # Prow never aborts a running batch for a higher-priority PR, so neither does tide.
    prs = [make_pr(2), make_pr(3)]
    running = make_run(prs, BASE, Outcome.PENDING)
    urgent = with_labels(make_pr(9), "urgent")
    policy = replace(make_policy(priority=(("urgent",),)), prioritize_existing_batches=prioritize)
    d = decide(pool([*prs, urgent], [running], policy=policy))
    assert d.action == Action.WAIT
    assert running.run not in d.obsolete
