"""The precedence `decide` owns, on plain data: what a sync knows beyond the pool (another
instance acts, the blocker issues are unread, the search missed PRs, the daemon stops, an
operator must fix something) and which heads already hold the base (Prow's `syncSubpool`:
blockers first, then the action table; `TestTakeAction`'s cases for merging directly)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from planner_world import T0, make_policy, make_pr, make_run

from tide.model import Blocker, MergeMethod
from tide.planner import decide
from tide.policy import ContextPolicy
from tide.pool import Action, Halt, PoolState
from tide.staging import Outcome
from tide.strategies.steps import heads_to_compare

BASE = "b" * 40
OLD_BASE = "a" * 40
NOW = T0 + timedelta(minutes=30)


def pool(prs, runs=(), policy=None, **kw) -> PoolState:
    return PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha=BASE,
        policy=policy or make_policy(),
        now=NOW,
        eligible=tuple(prs),
        runs=tuple(runs),
        **kw,
    )


def ready_to_merge() -> PoolState:
    """A passed run on the current base, and an old run whose branch is obsolete."""
    a, b = make_pr(1), make_pr(2)
    return pool(
        [a, b],
        [make_run([a, b], BASE, Outcome.SUCCESS), make_run([a], OLD_BASE, Outcome.SUCCESS)],
    )


def test_the_pool_merges_when_nothing_holds_it():
    d = decide(ready_to_merge())
    assert d.action == Action.MERGE_BATCH and d.obsolete and not d.error


def test_a_pool_that_could_not_be_read_waits_with_the_error_before_anything_else():
    why = "cannot reach repository org/repo: 502"
    d = decide(replace(ready_to_merge(), unreadable=why, standby="instance b"))
    assert (d.action, d.reason, d.error) == (Action.WAIT, why, why)
    assert not (d.prs or d.triggers or d.culprits or d.obsolete)


def test_another_instance_acting_here_is_waited_for_next():
    state = replace(ready_to_merge(), standby="instance b holds tide/main-1", blocker_error="x")
    d = decide(state)
    assert (d.action, d.reason) == (Action.WAIT, "instance b holds tide/main-1")
    assert not (d.prs or d.triggers or d.culprits or d.obsolete or d.error)


def test_unread_blocker_issues_never_merge_and_hold_the_whole_pool():
    freeze = Blocker("org", "repo", 5, "freeze")
    state = replace(
        ready_to_merge(), blocker_error="could not read blocker issues: 502", blockers=(freeze,)
    )
    d = decide(state)
    assert d.action == Action.WAIT
    assert d.reason == d.error == "could not read blocker issues: 502"
    assert not (d.prs or d.triggers or d.culprits or d.obsolete)


def test_a_partial_search_deletes_no_staging_branch_but_still_merges():
    """A PR the search missed may be in an old run: its branch stays until the PR is seen."""
    d = decide(replace(ready_to_merge(), search_complete=False))
    assert d.action == Action.MERGE_BATCH
    assert d.obsolete == ()


def test_a_partial_search_still_starts_runs():
    a = make_pr(1)
    d = decide(pool([a], [make_run([a], OLD_BASE, Outcome.SUCCESS)], search_complete=False))
    assert d.action == Action.TRIGGER and d.obsolete == ()


def test_a_stopping_daemon_neither_merges_nor_starts_runs():
    d = decide(replace(ready_to_merge(), stopping=True))
    assert (d.action, d.reason) == (Action.WAIT, "shutting down: no new actions")
    assert not (d.prs or d.triggers or d.culprits or d.obsolete)
    d = decide(pool([make_pr(1)], stopping=True))
    assert d.action == Action.WAIT and not d.triggers


def test_a_stopping_daemon_still_waits_as_planned():
    """A wait is no new action: its housekeeping (culprits, old branches) still happens."""
    a = make_pr(1)
    running = make_run([a], BASE, Outcome.PENDING)
    old = make_run([a], OLD_BASE, Outcome.SUCCESS)
    d = decide(pool([a], [running, old], stopping=True))
    assert d.action == Action.WAIT and "waiting for staging run" in d.reason
    assert d.obsolete == (old.run,)


def test_a_halted_pool_neither_merges_nor_triggers_until_the_halt_ends():
    halt = Halt(NOW + timedelta(minutes=10), "#1: allow this robot to push to the branch")
    d = decide(replace(ready_to_merge(), halt=halt))
    assert d.action == Action.WAIT
    assert d.reason == f"stopped until 09:40 UTC or a config change: {halt.error}"
    assert d.error == halt.error
    assert not (d.prs or d.triggers or d.obsolete)
    d = decide(pool([make_pr(1)], halt=halt))
    assert d.action == Action.WAIT and d.error == halt.error and not d.triggers
    ended = replace(halt, until=NOW)
    assert decide(replace(ready_to_merge(), halt=ended)).action == Action.MERGE_BATCH


def test_a_halted_pool_still_waits_and_stays_blocked_as_planned():
    halt = Halt(NOW + timedelta(minutes=10), "needs an admin")
    a = make_pr(1)
    running = make_run([a], BASE, Outcome.PENDING)
    d = decide(pool([a], [running], halt=halt))
    assert d.action == Action.WAIT and not d.error
    freeze = Blocker("org", "repo", 5, "freeze")
    d = decide(pool([a], blockers=(freeze,), halt=halt))
    assert d.action == Action.BLOCKED and not d.error


def test_shutting_down_is_said_before_a_halt():
    halt = Halt(NOW + timedelta(minutes=10), "needs an admin")
    d = decide(replace(ready_to_merge(), halt=halt, stopping=True))
    assert (d.reason, d.error) == ("shutting down: no new actions", "")


# -- merging a head that already holds the base ------------------------------------------


def test_an_unknown_head_ahead_in_the_queue_is_not_merged_around():
    """The first PR's containment could not be read (limit, error): the second, though it
    contains the base, waits for it rather than jumping the queue on doubt."""
    a, b = make_pr(1), make_pr(2)
    d = decide(pool([a, b], contains_base={b.head_sha: True}))
    assert d.action == Action.TRIGGER_BATCH and d.merge_run is None
    d = decide(pool([a, b], contains_base={a.head_sha: False, b.head_sha: True}))
    assert d.action == Action.MERGE and d.numbers == (2,) and d.merge_run is None


def test_a_rebased_head_is_never_merged_directly():
    """A rebase rewrites the head: its own checks did not test what lands."""
    a, b = make_pr(1), make_pr(2)
    state = pool(
        [a, b],
        contains_base={a.head_sha: True, b.head_sha: True},
        merge_methods={1: MergeMethod.REBASE, 2: MergeMethod.MERGE},
    )
    d = decide(state)
    assert d.action == Action.MERGE and d.numbers == (2,)
    assert [pr.number for pr in heads_to_compare(state)] == [2]


def test_no_ci_merges_a_pr_with_nothing_to_test_without_a_compare():
    policy = make_policy()
    policy = replace(
        policy,
        context_policy=ContextPolicy(from_branch_protection=True),
        queue=replace(policy.queue, no_ci=True),
    )
    a = make_pr(1)
    silent = replace(a, head_contexts=())
    d = decide(pool([silent], policy=policy))
    assert d.action == Action.MERGE and d.numbers == (1,)
    assert heads_to_compare(pool([silent], policy=policy)) == ()
    # Branch protection requires a context: then there is something to test.
    protected = pool([silent], policy=policy, protection=("ci/test",))
    assert decide(protected).action == Action.TRIGGER
    assert [pr.number for pr in heads_to_compare(protected)] == [1]


def test_heads_are_compared_only_when_no_run_passed_or_runs():
    a, b = make_pr(1), make_pr(2)
    running = make_run([a], BASE, Outcome.PENDING)
    assert heads_to_compare(pool([a, b], [running])) == ()
    assert [pr.number for pr in heads_to_compare(pool([b, a]))] == [1, 2]
