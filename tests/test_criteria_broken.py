"""A head that broke the build stays out until a new head or a retest request (our extension).

The record is the PR's own `tide` status on its head commit; a retest label, or a retest
comment newer than that status, lets the PR back into the pool.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from builders import ALL_METHODS, PASSING_CI, at, branch_policy, comment, context, pull_request

from tide.criteria import BROKEN_PREFIX, Code, broken_reason, evaluate, retest_requested
from tide.model import Comment, Mergeable, PullRequest, State
from tide.status_text import expected_status, needs_write

BROKE = f"{BROKEN_PREFIX}main when staged with #7 (ci/test failed)."
POLICY = branch_policy()


def broken_pr(
    *,
    labels: Iterable[str] = (),
    comments: Iterable[Comment] = (),
    mergeable: Mergeable = Mergeable.MERGEABLE,
) -> PullRequest:
    """A PR whose `tide` status, written at minute 10, records that its head broke the build."""
    record = context("tide", State.ERROR, BROKE, created_at=at(10))
    return pull_request(
        labels=labels, comments=comments, mergeable=mergeable, contexts=[record, context("ci")]
    )


def test_broken_head_stays_out_with_its_record_as_status() -> None:
    pr = broken_pr()

    verdict = evaluate(pr, POLICY, ALL_METHODS)
    status = expected_status(verdict, POLICY)

    assert not verdict.eligible
    assert [r.code for r in verdict.reasons] == [Code.BROKEN]
    assert (status.state, status.description) == ("error", BROKE)


def test_broken_record_is_not_rewritten() -> None:
    pr = broken_pr()

    status = expected_status(evaluate(pr, POLICY, ALL_METHODS), POLICY)

    assert not needs_write("ERROR", BROKE, status)


@pytest.mark.parametrize(
    ("labels", "comments", "back_in_pool"),
    [
        pytest.param(["tide/retest"], [], True, id="retest-label"),
        pytest.param([], [comment("/tide retest", at(11))], True, id="newer-retest-comment"),
        pytest.param(
            [], [comment("Flaky, sorry.\n/tide retest\n", at(11))], True, id="command-on-a-line"
        ),
        pytest.param([], [comment("/tide retest", at(9))], False, id="older-retest-comment"),
        pytest.param([], [comment("/tide retest", at(10))], False, id="same-instant-comment"),
        pytest.param([], [comment("please /tide retest", at(11))], False, id="not-a-command"),
        pytest.param([], [comment("LGTM", at(11))], False, id="unrelated-comment"),
        pytest.param(["lgtm"], [], False, id="unrelated-label"),
        pytest.param(
            [],
            [comment("/tide retest", at(11), author="passer-by", association="NONE")],
            False,
            id="drive-by-commenter",
        ),
        pytest.param(
            [],
            [comment("/tide retest", at(11), author="batman", association="NONE")],
            True,
            id="the-prs-author",
        ),
    ],
)
def test_retest_request_lets_a_broken_head_back(
    labels: list[str], comments: list[Comment], back_in_pool: bool
) -> None:
    pr = broken_pr(labels=labels, comments=comments)

    verdict = evaluate(pr, POLICY, ALL_METHODS)
    status = expected_status(verdict, POLICY)

    assert verdict.eligible is back_in_pool
    assert status.description == ("In merge pool." if back_in_pool else BROKE)


def test_new_head_has_no_broken_record() -> None:
    # A push gives a new head commit, which carries none of the old head's statuses.
    pr = pull_request(head_sha="new-head", contexts=[context("ci")])

    assert broken_reason(pr, POLICY) is None
    assert evaluate(pr, POLICY, ALL_METHODS).eligible


def test_ordinary_not_mergeable_status_is_not_a_broken_record() -> None:
    pending = context("tide", State.PENDING, "Not mergeable. Needs lgtm label.")
    pr = pull_request(contexts=[pending, PASSING_CI])

    assert broken_reason(pr, POLICY) is None
    assert evaluate(pr, POLICY, ALL_METHODS).eligible


def test_retest_words_are_configurable() -> None:
    policy = branch_policy(retest_label="ok-to-retry", retest_comment="/retry")
    pr = broken_pr(labels=["tide/retest"], comments=[comment("/retry", at(11))])

    assert retest_requested(pr, policy, since=at(10))
    assert not retest_requested(broken_pr(labels=["tide/retest"]), policy, since=at(10))


def test_broken_record_is_named_before_a_merge_conflict() -> None:
    pr = broken_pr(mergeable=Mergeable.CONFLICTING)

    status = expected_status(evaluate(pr, POLICY, ALL_METHODS), POLICY)

    assert (status.state, status.description) == ("error", BROKE)
