"""The `lanes` strategy as a pure function: stacking, landing on the exact tree, restacking
after a failure or a push, screening when failures are common, capacity, and (hypothesis)
only tested trees land and nothing is stuck forever."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lanes_world import lanes_policy, lanes_world
from planner_world import T0, draw_queue_faults, make_pr

from tide.model import Layer, StagedPR, StagingRun
from tide.planner import decide
from tide.pool import STAGING_WRITES, Action
from tide.staging import Outcome, RunResult
from tide.strategies.lanes_book import offset_on


def test_new_prs_are_stacked_on_the_run_below_and_each_layer_is_one_run():
    world = lanes_world(0, policy=lanes_policy(landing_interval=0.0))
    for n in (1, 2, 3):
        world.prs[n] = make_pr(n)
        world.step()
    stacked = [t for d in world.decisions for t in d.triggers]
    assert [[p.number for p in t.prs] for t in stacked] == [[1], [2], [3]]
    assert stacked[0].stack is None and stacked[1].stack is not None
    assert [p.number for p in stacked[2].stack.prior] == [1, 2]
    assert [la.size for la in stacked[2].stack.layers] == [1, 2]
    world.run_until_idle()
    assert world.merged == [1, 2, 3] and world.ci_runs == 3


def test_calm_queue_paces_layers_by_the_landing_interval():
    world = lanes_world(0, policy=lanes_policy(landing_interval=600.0), ci_minutes=20)
    for n in range(1, 7):
        world.prs[n] = make_pr(n)
        world.step()
    layers = [[p.number for p in t.prs] for d in world.decisions for t in d.triggers]
    assert layers == [[1]]  # the others wait for the interval (or an empty lane)
    world.run_until_idle()
    assert sorted(world.merged) == [1, 2, 3, 4, 5, 6] and world.ci_runs == 2


def test_a_run_lands_only_on_the_exact_tree_it_was_stacked_on():
    a, b = StagedPR(1, "a" * 40), StagedPR(2, "b" * 40)
    run = StagingRun(
        "org", "repo", "main", "tide/main-x", "base0", (a, b), "c2", T0,
        layers=(Layer(1, "c1", "tree1"),), base_tree="tree0",
    )  # fmt: skip
    world = lanes_world(0)
    world.prs[2] = make_pr(2, head="b" * 40)
    pool = world.pool()
    heads = {2: "b" * 40}
    on = lambda sha, tree: offset_on(run, replace_base(pool, sha, tree), heads)  # noqa: E731
    assert on("c1", "other") == 1  # fast-forwarded to the layer commit
    assert on("m9", "tree1") == 1  # merge calls made the same tree
    assert on("m9", "tree9") is None  # anything else: run it again
    assert offset_on(run, replace_base(pool, "base0", "tree0"), {1: "a" * 40, 2: "b" * 40}) == 0
    # #1 is still open: the base does not hold it, whatever the tree says.
    assert offset_on(run, replace_base(pool, "m9", "tree1"), {1: "a" * 40, 2: "b" * 40}) is None


def replace_base(pool, sha, tree):
    return replace(pool, base_sha=sha, base_tree=tree)


def test_a_failure_restacks_only_what_was_above_it_and_names_the_culprit():
    world = lanes_world(0, bad={2}, policy=lanes_policy(landing_interval=0.0))
    for n in (1, 2, 3, 4):
        world.prs[n] = make_pr(n)
        world.step()
    world.run_until_idle()
    assert sorted(world.merged) == [1, 3, 4]
    assert StagedPR(2, make_pr(2).head_sha) in world.broken
    assert all(tree in world.tested for tree in world.landed_trees)


def test_a_push_in_the_middle_of_the_stack_drops_the_runs_above_it():
    world = lanes_world(0, policy=lanes_policy(landing_interval=0.0))
    for n in (1, 2, 3):
        world.prs[n] = make_pr(n)
        world.step()
    world.push(2, "f" * 40)
    decision = world.step()
    assert [[p.number for p in t.prs] for t in decision.triggers] == [[2, 3]]
    assert [p.number for p in decision.triggers[0].stack.prior] == [1]
    # The runs above the push are not stacked on; their branches go once their CI ends
    # (CI runs them anyway, so they count against max_concurrent_runs until then).
    assert not decision.obsolete
    world.run_until_idle()
    gone = {tuple(r.numbers) for d in world.decisions for r in d.obsolete}
    assert {(1, 2), (1, 2, 3)} <= gone
    assert sorted(world.merged) == [1, 2, 3]
    assert all(tree in world.tested for tree in world.landed_trees)


def test_a_run_no_longer_needed_counts_against_capacity_until_its_ci_ends():
    """CI does not cancel a run whose branch tide deletes: the bench saw 25 runs in flight
    under a cap of 24 because dropped runs were forgotten at once."""
    world = lanes_world(0, policy=lanes_policy(landing_interval=0.0, max_concurrent_runs=2))
    for n in (1, 2):
        world.prs[n] = make_pr(n)
        world.step()
    world.push(2, "f" * 40)  # the run of 1 + 2 is no longer needed, but CI still runs it
    decision = world.step()
    assert decision.action == Action.WAIT and not decision.triggers
    assert "no longer needed" in decision.reason
    world.run_until_idle()
    assert sorted(world.merged) == [1, 2] and world.peak_in_flight == 2


def test_screening_starts_when_failures_are_common_and_respects_capacity():
    policy = lanes_policy(screen_failures_per_hour=1.0, max_concurrent_runs=3, screen_batch=2)
    world = lanes_world(8, policy=policy)
    old = T0 - timedelta(minutes=30)
    for n in (90, 91, 92):  # three PRs found broken in the last hour, with their failed runs
        pr = make_pr(n)
        staged = StagedPR(n, pr.head_sha)
        world.broken.add(staged)
        run = StagingRun(
            "org",
            "repo",
            "main",
            f"tide/main-f{n}",
            "base0",
            (staged,),
            f"c{n}",
            old,
            verified=True,
        )
        world.runs.append(RunResult(run, Outcome.FAILURE, "ci/test failed"))
    decision = decide(world.pool())
    assert decision.action == Action.TRIGGER_BATCH
    assert [t.lane for t in decision.triggers] == ["screen"] * 3
    assert [[p.number for p in t.prs] for t in decision.triggers] == [[1, 2], [3, 4], [5, 6]]
    world.run_until_idle()
    assert sorted(world.merged) == list(range(1, 9))


def failed_alone(world, n: int, minutes_ago: int) -> None:
    """A stacked run of PR `n` alone that failed, not (yet) enough to name it a culprit."""
    pr = make_pr(n)
    world.prs[n] = pr
    run = StagingRun(
        "org", "repo", "main", f"tide/main-f{n}", "base0", (StagedPR(n, pr.head_sha),),
        f"c{n}", T0 - timedelta(minutes=minutes_ago), lane="land", verified=True,
    )  # fmt: skip
    world.runs.append(RunResult(run, Outcome.FAILURE, "ci/test failed"))


def test_two_failures_unresolved_at_once_start_screening_before_any_culprit():
    """A busy queue's first hour: waiting for culprits to be confirmed let bad PRs doom
    the stack for an hour or two (the bench's busy p95)."""
    world = lanes_world(3, policy=lanes_policy(landing_interval=0.0, screen_batch=3))
    failed_alone(world, 90, 25)
    decision = decide(world.pool())
    lanes = [(t.lane, [p.number for p in t.prs]) for t in decision.triggers]
    assert lanes == [("land", [1, 2, 3]), ("screen", [90])]  # one failure: keep stacking
    failed_alone(world, 91, 22)
    decision = decide(world.pool())
    assert not decision.culprits
    screened = [[p.number for p in t.prs] for t in decision.triggers if t.lane == "screen"]
    assert screened == [[90], [91], [1, 2, 3]]
    assert not [t for t in decision.triggers if t.lane == "land"]


def with_recent_culprit(world, n: int = 90) -> None:
    """A PR found broken half an hour ago: the queue stacks each PR alone ("failing")."""
    pr = make_pr(n)
    staged = StagedPR(n, pr.head_sha)
    world.broken.add(staged)
    run = StagingRun(
        "org", "repo", "main", f"tide/main-f{n}", "base0", (staged,), f"c{n}",
        T0 - timedelta(minutes=30), lane="land", verified=True,
    )  # fmt: skip
    world.runs.append(RunResult(run, Outcome.FAILURE, "ci/test failed"))


def test_after_a_culprit_ready_prs_each_get_a_layer_all_in_one_sync():
    """One layer a sync made the last of seven restacked PRs start seven minutes late."""
    policy = lanes_policy(landing_interval=0.0, hedge_runs=0)
    world = lanes_world(0, bad={2}, policy=policy)
    with_recent_culprit(world)
    for n in (1, 2, 3, 4):
        world.prs[n] = make_pr(n)
    first = world.step()
    assert [(t.chain, [p.number for p in t.prs]) for t in first.triggers] == [(True, [1, 2, 3, 4])]
    assert first.triggers[0].runs == 4 and "each on the one before" in first.reason
    world.run_until_idle()
    assert sorted(world.merged) == [1, 3, 4]
    # #2's layer failed: #3 and #4 were restacked together, in the sync that saw it.
    chains = [[p.number for p in t.prs] for d in world.decisions for t in d.triggers if t.chain]
    assert [3, 4] in chains
    assert world.ci_runs == 4 + 2 + 1  # the chain, the restack, #2 alone
    assert all(tree in world.tested for tree in world.landed_trees)


def test_hedges_let_the_prs_above_a_failed_layer_land_without_another_run():
    """With a recent culprit, the PRs above each running layer are also stacked without it:
    #2 fails, and #3 and #4 land when that CI run ends, not one CI run later."""
    world = lanes_world(0, bad={2}, policy=lanes_policy(landing_interval=0.0), ci_minutes=20)
    with_recent_culprit(world)
    for n in (1, 2, 3, 4):
        world.prs[n] = make_pr(n)
    first, second = world.step(), world.step()
    assert [[p.number for p in t.prs] for t in first.triggers] == [[1, 2, 3, 4]]
    started = [(t.chain, [p.number for p in t.prs]) for t in second.triggers]
    # A sync later, once the stack exists, newest layer first: without #3 (on #2's run),
    # without #2 (on #1's), without #1 (on the base).
    assert started == [(True, [4]), (True, [3, 4]), (True, [2, 3, 4])]
    assert "hedging #3, #4 on" in second.reason
    world.run_until_idle()
    assert sorted(world.merged) == [1, 3, 4]
    landed = [d for d in world.decisions if d.action in (Action.MERGE, Action.MERGE_BATCH)]
    # #1 at its run's end; #3 and #4 a minute later, when their hedge (started a sync
    # after the stack) ends.
    assert [[p.number for p in d.prs] for d in landed] == [[1], [3, 4]]
    later = [t for d in world.decisions[2:] for t in d.triggers if t.lane == "land"]
    assert not later  # nothing restacked: the hedge that skipped #2 landed
    assert all(tree in world.tested for tree in world.landed_trees)


def test_hedges_stay_within_hedge_runs_and_only_while_culprits_are_recent():
    capped = lanes_policy(landing_interval=0.0, hedge_runs=6)
    world = lanes_world(0, policy=capped)
    with_recent_culprit(world)
    for n in (1, 2, 3, 4):
        world.prs[n] = make_pr(n)
    world.step()  # 4 runs stacked
    hedged = world.step().triggers
    assert hedged and 4 + sum(t.runs for t in hedged) <= 6  # hedged, up to 6 in flight
    calm = lanes_world(0, policy=lanes_policy(landing_interval=0.0))
    for n in (1, 2, 3, 4):
        calm.prs[n] = make_pr(n)
    assert [t.runs for t in decide(calm.pool()).triggers] == [1]  # one layer, no hedge


def test_a_push_in_the_middle_of_a_hedged_stack_drops_every_run_of_the_old_head():
    world = lanes_world(0, policy=lanes_policy(landing_interval=0.0), ci_minutes=20)
    with_recent_culprit(world)
    for n in (1, 2, 3, 4):
        world.prs[n] = make_pr(n)
    world.step()
    world.step()  # the hedges
    old = StagedPR(2, make_pr(2).head_sha)
    world.push(2, "f" * 40)
    decision = world.step()
    stacked = [t for t in decision.triggers if t.lane == "land"]
    assert stacked and all(p.head_sha != old.head_sha for t in stacked for p in t.prs)
    # Nothing stacks on a run that holds the old head: the hedge that skipped #2 is the
    # stack now ((1, 3, 4) there), and #2's new head goes on top of it.
    assert all(old not in t.stack.prior for t in stacked if t.stack)
    assert [p.number for p in stacked[0].prs] == [2]
    assert [p.number for p in stacked[0].stack.prior] == [1, 3, 4]
    world.run_until_idle()
    assert sorted(world.merged) == [1, 2, 3, 4]
    assert all(tree in world.tested for tree in world.landed_trees)
    assert world.peak_in_flight <= world.policy.queue.max_concurrent_runs


def test_with_a_failure_seen_a_deep_backlog_of_unproven_prs_is_screened():
    """A busy queue's rate over a 3-hour window stays under 2 an hour for its first hours;
    stacking 16 unproven PRs one by one meanwhile let each bad one doom the rest."""

    def lanes_of(count: int, backlog: int = 16) -> set[str]:
        world = lanes_world(
            count, policy=lanes_policy(landing_interval=0.0, screen_backlog=backlog)
        )
        with_recent_culprit(world)
        return {t.lane for t in decide(world.pool()).triggers}

    assert lanes_of(15) == {"land"}  # one chain, each PR its own layer
    assert lanes_of(16) == {"screen"}
    assert lanes_of(40, backlog=0) == {"land"}  # 0: never on depth
    calm = lanes_world(20, policy=lanes_policy(landing_interval=0.0))
    assert {t.lane for t in decide(calm.pool()).triggers} == {"land"}  # no failure seen


def test_a_chain_is_cut_to_the_ci_capacity_and_the_write_budget():
    world = lanes_world(0, policy=lanes_policy(landing_interval=0.0, max_concurrent_runs=3))
    with_recent_culprit(world)
    for n in range(1, 7):
        world.prs[n] = make_pr(n)
    assert [len(t.prs) for t in decide(world.pool()).triggers] == [3]
    # The overall cap (max_concurrent_runs_total) cuts it too, rather than starving it.
    overall = decide(replace(world.pool(), run_room=2))
    assert [len(t.prs) for t in overall.triggers] == [2]
    two = replace(world.pool(), write_room=2 * (1 + STAGING_WRITES) + 3)
    decision = decide(two)
    assert [len(t.prs) for t in decision.triggers] == [2]
    assert sum(t.writes for t in decision.triggers) <= two.write_room


def test_a_pr_that_passed_after_failing_stacks_with_the_others():
    """Screening: #1's group failed, #1 then passed alone; it joins the one layer of the
    screened PRs instead of a layer of its own (one CI run, not three)."""
    policy = lanes_policy(screen_failures_per_hour=0.5, screen_window=3600.0 * 3)
    world = lanes_world(3, policy=policy)
    heads = {n: StagedPR(n, make_pr(n).head_sha) for n in (1, 2, 3, 90, 91)}

    def run(name, prs, minutes_ago, outcome):
        made = StagingRun(
            "org", "repo", "main", f"tide/main-{name}", "old-base", tuple(heads[n] for n in prs),
            f"c-{name}", T0 - timedelta(minutes=minutes_ago), lane="screen", verified=True,
        )  # fmt: skip
        world.runs.append(RunResult(made, outcome, outcome.value.lower()))

    world.broken |= {heads[90], heads[91]}  # two culprits within the hour: screening
    run("f90", [90], 50, Outcome.FAILURE)
    run("f91", [91], 50, Outcome.FAILURE)
    run("group", [1, 2, 3], 45, Outcome.FAILURE)
    run("one", [1], 20, Outcome.SUCCESS)
    run("two", [2], 20, Outcome.SUCCESS)
    run("three", [3], 20, Outcome.SUCCESS)
    decision = decide(world.pool())
    stacked = [[p.number for p in t.prs] for t in decision.triggers if t.lane == "land"]
    assert stacked == [[1, 2, 3]]


@st.composite
def worlds(draw: st.DrawFn):
    numbers, bad, pairs = draw_queue_faults(draw, 10)
    count = len(numbers)
    policy = lanes_policy(
        fast_forward=draw(st.booleans()),
        landing_interval=draw(st.sampled_from([0.0, 120.0, 900.0])),
        screen_failures_per_hour=draw(st.sampled_from([0.0, 0.5, 2.0])),
        screen_batch=draw(st.integers(1, 4)),
        max_concurrent_runs=draw(st.integers(1, 6)),
    )
    world = lanes_world(0, bad=set(bad), pairs=pairs, policy=policy)
    arrivals = draw(st.lists(st.integers(0, 6), min_size=count, max_size=count))
    flaky = draw(st.sets(st.sampled_from(numbers), max_size=2))
    world.flaky |= {(n,) for n in flaky}
    return world, sorted(zip(arrivals, numbers, strict=True))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(worlds())
def test_only_tested_trees_land_and_nothing_is_stuck_forever(case):
    world, arrivals = case
    for minute in range(7):
        for at, n in arrivals:
            if at == minute:
                world.prs[n] = make_pr(n)
        world.step()
    world.run_until_idle()
    # Every state the base reached after a landing is a tree that passed CI as a whole.
    assert all(tree in world.tested for tree in world.landed_trees)
    # CI capacity holds, counting runs tide gave up on until their CI ends.
    assert world.peak_in_flight <= world.policy.queue.max_concurrent_runs
    assert not set(world.merged) & world.bad
    for pair in world.pairs:
        assert not pair <= set(world.merged)
    # Nothing is stuck: every PR merged or was named a culprit; a clean PR always merged.
    everyone = {n for _, n in arrivals}
    named = {p.number for p in world.broken}
    assert everyone == set(world.merged) | named
    in_pairs = set().union(*world.pairs) if world.pairs else set()
    assert everyone - world.bad - in_pairs <= set(world.merged)


def test_the_lanes_knobs_load_from_config_and_bad_values_name_their_key():
    import pytest
    import yaml

    from tide.config import ConfigError, parse_config
    from tide.policy import FailureStrategy

    doc = {
        "tide": {"queries": [{"repos": ["org/repo"], "labels": ["lgtm"]}]},
        "queue": {
            "batch_failure_strategy": "lanes",
            "max_concurrent_runs": 8,
            "landing_interval": "5m",
            "screen_window": "1h",
            "screen_failures_per_hour": 3,
            "screen_batch": 4,
            "screen_interval": "2m",
        },
    }
    q = parse_config(yaml.safe_dump(doc)).branch_policy("org", "repo", "main").queue
    assert q.batch_failure_strategy == FailureStrategy.LANES
    assert (q.max_concurrent_runs, q.landing_interval, q.screen_window) == (8, 300.0, 3600.0)
    assert (q.screen_failures_per_hour, q.screen_batch, q.screen_interval) == (3.0, 4, 120.0)
    doc["queue"]["max_concurrent_runs"] = 0
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(doc))
    assert "max_concurrent_runs" in str(caught.value)


def test_a_passed_run_on_the_base_lands_and_names_none_of_its_prs_a_culprit():
    """#6 failed alone twice after #4 + #6 passed on this very base: the pass is what lands
    (found by the safety property: #6 was merged and named a culprit in one decision)."""

    from planner_world import make_policy, make_run

    from tide.policy import FailureStrategy
    from tide.pool import PoolState

    base = "a" * 40
    four, six = make_pr(4), make_pr(6)
    runs = (
        make_run([four, six], base, Outcome.SUCCESS, created=T0),
        make_run([six], base, Outcome.FAILURE, created=T0 + timedelta(minutes=1)),
        make_run([six], base, Outcome.FAILURE, created=T0 + timedelta(minutes=2)),
    )
    pool = PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha=base,
        policy=make_policy(strategy=FailureStrategy.LANES),
        now=T0 + timedelta(hours=1),
        eligible=(four, six),
        runs=runs,
    )
    d = decide(pool)
    assert d.action == Action.MERGE_BATCH
    assert d.numbers == (4, 6)
    assert not d.culprits
