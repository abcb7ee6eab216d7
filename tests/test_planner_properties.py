"""Safety of the planner over random queues (hypothesis): the base branch only ever
holds combinations that pass CI, nothing ineligible merges, and good PRs all land."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from planner_world import T0, draw_queue_faults, make_policy, make_pr, make_run, world_of

from tide.criteria import evaluate
from tide.model import Context, MergeMethod, PullRequest, RepoSettings, StagedPR, State
from tide.planner import decide
from tide.policy import ContextPolicy, FailureStrategy
from tide.pool import RECORDED, Action, Halt, PoolState
from tide.priority import in_priority_order
from tide.staging import Outcome, evaluate_run, expected_contexts


@st.composite
def queues(draw: st.DrawFn):
    numbers, bad, pairs = draw_queue_faults(draw, 12)
    count = len(numbers)
    strategy = draw(st.sampled_from([FailureStrategy.BISECT, FailureStrategy.TIDE]))
    parallel = strategy == FailureStrategy.BISECT and draw(st.booleans())
    limit = draw(st.sampled_from([-1, 0, 2, 5]))
    retries = draw(st.integers(0, 2))
    policy = make_policy(
        batch_size_limit=limit, strategy=strategy, parallel=parallel, single_retries=retries
    )
    world = world_of(count, bad=set(bad), pairs=pairs, policy=policy)
    if strategy == FailureStrategy.BISECT:
        flaky_sets = draw(st.sets(st.tuples(*[st.sampled_from(numbers)]), max_size=2))
        world.flaky |= {tuple(sorted(set(s))) for s in flaky_sets}
    return world


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queues())
def test_base_branch_only_ever_holds_combinations_that_pass(world):
    world.run_until_idle()
    assert all(world.passes(state) for state in world.base_history)
    assert not set(world.merged) & world.bad
    in_pairs = set().union(*world.pairs) if world.pairs else set()
    clean = set(range(1, len(world.merged) + len(world.prs) + 1)) - world.bad - in_pairs
    if (
        world.policy.queue.single_retries >= 1
        or world.policy.queue.batch_failure_strategy == FailureStrategy.TIDE
    ):
        # Every PR that breaks nothing lands (a single flake is retried away).
        assert clean <= set(world.merged)
    for pair in world.pairs:
        assert not pair <= set(world.merged)


@st.composite
def pools(draw: st.DrawFn, forged: st.SearchStrategy[bool] | None = None):
    """A pool with random runs; `forged` draws, per run, whether it is an unverified claim
    (a branch under the staging prefix that tide did not build)."""
    numbers = draw(st.lists(st.integers(1, 30), min_size=0, max_size=8, unique=True))
    prs = [make_pr(n) for n in numbers]
    eligible = [pr for pr in prs if draw(st.booleans())]
    base = draw(st.sampled_from(["a" * 40, "b" * 40]))
    runs = []
    for i in range(draw(st.integers(0, 4))):
        members = (
            draw(st.lists(st.sampled_from(prs), min_size=1, max_size=4, unique=True)) if prs else []
        )
        if not members:
            continue
        run_base = draw(st.sampled_from(["a" * 40, "b" * 40]))
        outcome = draw(st.sampled_from(list(Outcome)))
        verified = not draw(forged) if forged is not None else True
        created = T0 + timedelta(minutes=i)
        runs.append(make_run(members, run_base, outcome, created=created, verified=verified))
    # Each head's containment of the base: read and true, read and false, or unknown.
    contains_base = {
        pr.head_sha: known
        for pr in eligible
        if (known := draw(st.sampled_from([True, False, None]))) is not None
    }
    methods = {pr.number: draw(st.sampled_from(list(MergeMethod))) for pr in eligible}
    strategy = draw(st.sampled_from(list(FailureStrategy)))
    return PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha=base,
        policy=make_policy(strategy=strategy, batch_size_limit=draw(st.sampled_from([-1, 0, 3]))),
        now=T0 + timedelta(hours=1),
        eligible=tuple(eligible),
        contains_base=contains_base,
        merge_methods=methods,
        runs=tuple(runs),
    )


def direct_merge_was_tested(pool: PoolState, pr: PullRequest) -> bool:
    """A PR merged without a staging run: its head is known to contain the base, and the
    merge keeps that head (a rebase would not land what its checks tested)."""
    return (
        pool.contains_base.get(pr.head_sha) is True
        and pool.merge_methods.get(pr.number) != MergeMethod.REBASE
    )


@settings(max_examples=300, deadline=None)
@given(pools())
def test_a_merge_only_lands_exactly_what_was_tested(pool):
    d = decide(pool)
    eligible = {pr.number: pr for pr in pool.eligible}
    culprits = {c.pr.number for c in d.culprits}
    for pr in d.prs:
        assert eligible.get(pr.number) == pr
        assert pr.number not in culprits
    if d.action in (Action.MERGE, Action.MERGE_BATCH):
        if d.merge_run is None:
            assert d.action == Action.MERGE and len(d.prs) == 1
            assert direct_merge_was_tested(pool, d.prs[0])
        else:
            result = next(r for r in pool.runs if r.run == d.merge_run)
            assert result.outcome == Outcome.SUCCESS
            assert d.merge_run.base_sha == pool.base_sha
            assert tuple((p.number, p.head_sha) for p in d.prs) == tuple(
                (p.number, p.head_sha) for p in d.merge_run.prs
            )
    else:
        assert d.merge_run is None
    if d.merge_run is not None:
        assert d.merge_run not in d.obsolete
    tested = {pr.number for t in d.triggers for pr in t.prs}
    assert tested <= set(eligible) - culprits


@settings(max_examples=300, deadline=None)
@given(pools(), st.data())
def test_a_set_aside_head_is_never_merged_nor_tested(pool, data):
    """A head GitHub refused to merge stays out of every merge and every new staging run,
    even when it is eligible and a passed run holds it."""
    if not pool.eligible:
        return
    aside = data.draw(st.sets(st.sampled_from(pool.eligible), min_size=1))
    heads = frozenset(StagedPR(pr.number, pr.head_sha) for pr in aside)
    d = decide(replace(pool, set_aside=heads))
    landed = {StagedPR(pr.number, pr.head_sha) for pr in d.prs}
    tested = {StagedPR(pr.number, pr.head_sha) for t in d.triggers for pr in t.prs}
    assert not (landed | tested) & heads


@settings(max_examples=300, deadline=None)
@given(pools(forged=st.booleans()))
def test_an_unverified_run_never_leads_to_a_merge_a_culprit_or_a_deletion(pool):
    d = decide(pool)
    forged = {r.run for r in pool.runs if not r.run.verified}
    if d.action in (Action.MERGE, Action.MERGE_BATCH):
        assert d.merge_run is None or d.merge_run.verified
        if d.merge_run is None:
            assert direct_merge_was_tested(pool, d.prs[0])
    assert not {c.evidence.run for c in d.culprits} & forged
    assert not set(d.obsolete) & forged


@settings(max_examples=200, deadline=None)
@given(pools(forged=st.just(True)))
def test_a_pool_with_only_forged_runs_merges_nothing_it_did_not_test_itself(pool):
    d = decide(pool)
    if d.action in (Action.MERGE, Action.MERGE_BATCH):
        assert d.merge_run is None and direct_merge_was_tested(pool, d.prs[0])
    assert not d.culprits


SILENT_HEADS = st.sampled_from(
    [
        (),  # nothing at all yet
        (Context("tide", State.SUCCESS, "In merge pool."),),  # only tide's own status
        (Context("codecov", State.SUCCESS),),  # only an optional context
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_a_pool_whose_commits_are_silent_never_merges(data):
    """Heads and staging commits on which no context (but tide's own or optional ones) has
    reported never count as passed, whatever else is true, unless the config says no CI."""
    cp = ContextPolicy(optional=("codecov",))
    strategy = data.draw(st.sampled_from(list(FailureStrategy)))
    policy = replace(make_policy(strategy=strategy), context_policy=cp)
    numbers = data.draw(st.lists(st.integers(1, 20), min_size=1, max_size=6, unique=True))
    prs = [replace(make_pr(n), head_contexts=data.draw(SILENT_HEADS)) for n in numbers]
    now = T0 + timedelta(minutes=data.draw(st.integers(0, 20)))
    verdicts = [evaluate(pr, policy, RepoSettings()) for pr in prs]
    assert not any(v.eligible for v in verdicts)
    # Even were they eligible (a stale read), silent staging runs never pass.
    runs = []
    for i in range(data.draw(st.integers(0, 3))):
        members = data.draw(st.lists(st.sampled_from(prs), min_size=1, max_size=3, unique=True))
        run = make_run(members, "a" * 40, Outcome.PENDING, created=T0 + timedelta(minutes=i)).run
        run = replace(run, contexts=data.draw(SILENT_HEADS))
        expected = expected_contexts(members, cp, policy.status_context)
        runs.append(evaluate_run(run, expected, cp, policy.queue, now, policy.status_context))
    assert all(r.outcome != Outcome.SUCCESS for r in runs)
    pool = PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha="a" * 40,
        policy=policy,
        now=now,
        eligible=tuple(prs),
        runs=tuple(runs),
    )
    assert decide(pool).action not in (Action.MERGE, Action.MERGE_BATCH)


@settings(max_examples=200, deadline=None)
@given(pools(), st.text(min_size=1, max_size=20), st.sampled_from(["blocker_error", "unreadable"]))
def test_a_pool_whose_blocker_issues_or_itself_are_unread_does_nothing(pool, error, fact):
    """Never merge on doubt: a freeze the sync could not read may be in force, and a pool
    that could not be read has nothing to act on."""
    d = decide(replace(pool, **{fact: error}))
    assert (d.action, d.error) == (Action.WAIT, error)
    assert not (d.prs or d.triggers or d.culprits or d.obsolete)


@settings(max_examples=200, deadline=None)
@given(pools())
def test_a_partial_search_deletes_nothing_and_changes_nothing_else(pool):
    """PRs the search missed may be in any run: no branch is obsolete, the rest stands."""
    full = decide(pool)
    partial = decide(replace(pool, search_complete=False))
    assert partial.obsolete == ()
    assert replace(partial, obsolete=full.obsolete) == full


@settings(max_examples=200, deadline=None)
@given(pools())
def test_a_stopping_daemon_only_waits(pool):
    d = decide(replace(pool, stopping=True))
    assert d.action == Action.WAIT
    assert not (d.prs or d.triggers)


@settings(max_examples=200, deadline=None)
@given(pools(), st.integers(-30, 30))
def test_a_halted_pool_neither_merges_nor_triggers_before_the_halt_ends(pool, minutes):
    halt = Halt(pool.now + timedelta(minutes=minutes), "needs an admin")
    d = decide(replace(pool, halt=halt))
    if minutes > 0:
        assert d.action not in RECORDED
        assert not (d.prs or d.triggers)
    else:
        assert d == decide(pool)


@settings(max_examples=300, deadline=None)
@given(pools())
def test_a_direct_merge_never_jumps_a_more_urgent_head_on_doubt(pool):
    """Every PR ahead of one merged without a staging run was read not to contain the base
    (or merges by rebase): an unknown head ahead of it stops direct merges altogether."""
    d = decide(pool)
    if d.action != Action.MERGE or d.merge_run is not None:
        return
    ahead = in_priority_order(pool.eligible, pool.policy.priority)
    ahead = ahead[: [pr.number for pr in ahead].index(d.prs[0].number)]
    for pr in ahead:
        rebased = pool.merge_methods.get(pr.number) == MergeMethod.REBASE
        assert rebased or pool.contains_base.get(pr.head_sha) is False
