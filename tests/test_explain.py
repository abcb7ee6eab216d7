"""'Why isn't it merging?' built from what a sync decided: every criterion with its state,
the place in the queue, the batch, what the PR waits for, and its history (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from builders import ALL_METHODS, at, blocker, branch_policy, context, pull_request, query
from planner_world import T0, make_policy, make_pr, make_run

from tide.criteria import evaluate
from tide.execution import Dropped
from tide.history import Record, Target
from tide.model import StagedPR, StagingRun, State
from tide.pool import Action, Decision, PoolState
from tide.staging import Outcome
from tide.views.explain import Presence, explain, not_open, parse_pr_ref
from tide.views.queue import Done, Place, format_duration, queue_of

READY = query(labels=["lgtm", "approved"], missing_labels=["do-not-merge/hold"])
POLICY = branch_policy(queries=[READY])


def unmet(explanation) -> dict[str, str]:
    return {c.name: c.detail for c in explanation.criteria if not c.met}


def test_every_unmet_criterion_is_named_with_the_status_wording():
    pr = pull_request(
        4,
        labels=["lgtm", "do-not-merge/hold"],
        contexts=[context("ci/test", State.FAILURE), context("ci/lint")],
        is_draft=True,
    )
    verdict = evaluate(pr, POLICY, ALL_METHODS, blockers=[blocker(9, title="freeze")])

    answer = explain(verdict, POLICY, now=at(5))

    assert unmet(answer) == {
        "labels": "Needs approved label.",
        "forbidden labels": "Should not have do-not-merge/hold label.",
        "checks": "Job ci/test has not succeeded.",
        "draft": "PR is a draft.",
        "blocker issues": "Merging is blocked by issue 9.",
    }
    assert answer.headline.startswith("Not eligible: PR is a draft. (and 4 more reasons)")
    assert answer.place == Place.NOT_ELIGIBLE
    met = {c.name for c in answer.criteria if c.met}
    assert {"query", "mergeable", "merge method", "build"} <= met


def test_met_criteria_say_what_was_checked():
    pr = pull_request(
        1, labels=["lgtm", "approved"], contexts=[context("ci/test"), context("tide")]
    )
    verdict = evaluate(pr, POLICY, ALL_METHODS)

    answer = explain(verdict, POLICY, now=at(0))

    details = {c.name: c.detail for c in answer.criteria}
    assert all(c.met for c in answer.criteria)
    assert details["labels"] == "has lgtm, approved"
    assert details["checks"] == "passed: ci/test"  # tide's own status is no check


def test_a_pr_nothing_has_reported_on_names_the_no_ci_option():
    pr = pull_request(1, labels=["lgtm", "approved"], contexts=[context("tide")])
    verdict = evaluate(pr, POLICY, ALL_METHODS)

    answer = explain(verdict, POLICY, now=at(0))

    assert not verdict.eligible
    assert "queue.no_ci" in unmet(answer)["checks"]


def test_a_pending_context_is_awaited_with_how_long_it_has_run():
    started = at(0)
    pr = pull_request(
        1,
        labels=["lgtm", "approved"],
        contexts=[context("ci/test", State.PENDING, created_at=started)],
    )
    policy = branch_policy(queries=[READY])
    verdict = evaluate(pr, policy, ALL_METHODS)

    answer = explain(verdict, policy, now=at(12))

    assert [(c.name, c.state) for c in answer.awaited] == [("ci/test", "PENDING")]
    assert answer.awaited[0].since == started
    assert format_duration((answer.checked_at - answer.awaited[0].since).total_seconds()) == "12m"


def pool_with_runs(prs, runs, **kw) -> PoolState:
    return PoolState(
        org="org",
        repo="repo",
        branch="main",
        base_sha="b" * 40,
        policy=kw.pop("policy", make_policy()),
        now=kw.pop("now", T0 + timedelta(minutes=7)),
        eligible=tuple(prs),
        runs=tuple(runs),
        **kw,
    )


def test_queue_order_follows_priority_labels_then_number():
    prs = [make_pr(1), make_pr(2, labels=frozenset({"lgtm", "urgent"})), make_pr(3)]
    state = pool_with_runs(prs, [], policy=make_policy(priority=(("urgent",),)))

    queue = queue_of(state, Decision(Action.WAIT, "idle"))

    assert [(e.position, e.number) for e in queue] == [(1, 2), (2, 1), (3, 3)]
    assert {e.place for e in queue} == {Place.QUEUED}


def test_a_pr_in_a_pending_run_is_in_the_batch_being_tested():
    prs = [make_pr(1), make_pr(2), make_pr(3)]
    running = make_run(prs[:2], "b" * 40, Outcome.PENDING, created=T0)
    running = replace(running, reason="waiting for ci/test", waiting=("ci/test",))
    state = pool_with_runs(prs, [running])
    decision = Decision(Action.WAIT, "waiting for staging run")
    verdict = evaluate(prs[1], state.policy, ALL_METHODS)

    answer = explain(verdict, state.policy, now=state.now, state=state, decision=decision)

    assert answer.place == Place.TESTING
    assert (answer.position, answer.queue_length) == (2, 3)
    assert answer.batch is not None
    assert answer.batch.prs == (1, 2)
    assert answer.batch.waiting == ("ci/test",)
    assert answer.batch.elapsed == 7 * 60
    assert answer.headline == "In the batch being tested: waiting for ci/test (7m so far)"
    queue = {e.number: e.place for e in queue_of(state, decision)}
    assert queue == {1: Place.TESTING, 2: Place.TESTING, 3: Place.QUEUED}


def test_a_run_started_by_the_last_sync_counts_and_left_out_prs_say_why():
    prs = [make_pr(1), make_pr(2), make_pr(3)]
    state = pool_with_runs(prs, [])
    started = StagingRun(
        "org",
        "repo",
        "main",
        "tide/main-abc",
        "b" * 40,
        (StagedPR(1, prs[0].head_sha), StagedPR(2, prs[1].head_sha)),
        "c" * 40,
        state.now,
        verified=True,
    )
    done = Done(triggered=(started,), dropped=(Dropped(3, "conflicts with #1, #2"),))
    decision = Decision(Action.TRIGGER_BATCH, "testing #1, #2, #3", prs=tuple(prs))

    queue = {e.number: (e.place, e.why) for e in queue_of(state, decision, done)}

    assert queue[1] == (Place.TESTING, "staging run tide/main-abc just started")
    assert queue[3] == (Place.QUEUED, "left out of the new staging run: conflicts with #1, #2")


def test_a_passed_run_means_merging_next_and_a_failed_one_marks_suspects():
    prs = [make_pr(1), make_pr(2), make_pr(3)]
    passed = make_run(prs[:1], "b" * 40, Outcome.SUCCESS)
    failed = make_run(prs[1:], "a" * 40, Outcome.FAILURE)
    failed = replace(failed, reason="ci/test failed")
    state = pool_with_runs(prs, [passed, failed])

    queue = {e.number: e for e in queue_of(state, Decision(Action.MERGE, "merging #1"))}

    assert queue[1].place == Place.PASSED
    assert queue[2].place == Place.QUEUED
    assert "suspect" in queue[2].why and "ci/test failed" in queue[2].why


def test_history_of_a_pr_is_its_records_newest_first():
    records = [
        Record(at(3), "MERGE", "b", (Target(2, "a", "h", "t"),), reason="merging #2"),
        Record(at(2), "TRIGGER", "b", (Target(1, "a", "h", "t"),), reason="testing #1"),
        Record(at(1), "TRIGGER_BATCH", "b", (Target(1, "a", "h", "t"), Target(2, "a", "h", "t"))),
    ]
    pr = pull_request(1, labels=["lgtm", "approved"])

    answer = explain(evaluate(pr, POLICY, ALL_METHODS), POLICY, now=at(4), history=records)

    assert [r.action for r in answer.history] == ["TRIGGER", "TRIGGER_BATCH"]


def test_a_pr_merged_by_tide_is_found_in_history():
    records = [Record(at(3), "MERGE", "b", (Target(7, "a", "h", "t"),), reason="merging #7")]

    answer = not_open("org", "repo", 7, records, at(5), "merged")

    assert answer.presence == Presence.MERGED
    assert answer.headline == "Merged by tide at 2026-01-05T09:03:00Z"


def test_a_batch_merge_that_failed_for_one_pr_says_tide_merged_only_the_others():
    """Tide's record of a batch names every target; the one whose merge failed is named in
    `err` (`#8: PR was modified`), so tide does not claim it merged #8, as recorded or as
    read back from the file."""
    batch = Record(
        at(3),
        "MERGE_BATCH",
        "b",
        (Target(7, "a", "h", "t"), Target(8, "a", "h", "t")),
        err="#8: PR was modified: head moved",
        reason="merging #7 #8",
        failed=(8,),
    )
    read_back = Record.from_json(batch.to_json())
    assert read_back == batch

    for records in ([batch], [read_back]):
        landed = not_open("org", "repo", 7, records, at(5), "merged")
        failed = not_open("org", "repo", 8, records, at(5), "merged")
        unknown = not_open("org", "repo", 8, records, at(5))

        assert landed.headline == "Merged by tide at 2026-01-05T09:03:00Z"
        assert failed.headline == "Merged, but not by tide (or before its history began)"
        assert (unknown.presence, unknown.place) == (Presence.UNKNOWN, None)


def test_a_pr_nobody_knows_is_unknown_and_a_closed_one_says_so():
    assert not_open("org", "repo", 8, [], at(0)).presence == Presence.UNKNOWN
    closed = not_open("org", "repo", 8, [], at(0), "closed")
    assert (closed.presence, closed.headline) == (Presence.CLOSED, "Closed without merging")


def test_pull_request_references_in_every_usual_spelling():
    assert parse_pr_ref("acme/widgets#12") == ("acme", "widgets", 12)
    assert parse_pr_ref("acme/widgets/12") == ("acme", "widgets", 12)
    assert parse_pr_ref("https://github.com/acme/widgets/pull/12") == ("acme", "widgets", 12)
    assert parse_pr_ref("acme/widgets") is None
    assert parse_pr_ref("<script>/x#1") is None
