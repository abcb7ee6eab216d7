"""The `tide` status a PR should carry, in Tide's exact wording (Prow's `TestExpectedStatus`).

Tide's setup: query 1 needs labels need-1, need-2 and (long label or need-3), forbids
forbidden-1 and forbidden-2, wants an author and milestone v1.0; query 2 needs labels 1..7,
an author and milestone v1.0. A PR is "in the pool" here when it is eligible.

Cases 175-177 ("Retesting: ...") are ported as Prow's pool sees them: a PR whose only
unsuccessful contexts are pending presubmits of the job config (Prow-controlled jobs still
running) is "Retesting: ..."; any other pending context keeps "Job ... has not succeeded.".
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

import pytest
from builders import (
    ALL_METHODS,
    PASSING_CI,
    blocker,
    branch_policy,
    check_run,
    context,
    pull_request,
    query,
)

from tide.criteria import Code, evaluate
from tide.model import Blocker, Context, Mergeable, PullRequest, State
from tide.policy import BlocksPolicy, BranchPolicy, MergeLabels, Query
from tide.status_text import Status, expected_status

LONG = "need-a-very-super-duper-extra-not-short-at-all-label-name"
NEEDED = ("need-1", "need-2", LONG)
FORBIDDEN = ("forbidden-1", "forbidden-2")
METHOD_LABELS = MergeLabels(merge="tide/merge-method-merge", squash="tide/merge-method-squash")
S, F, E = State.SUCCESS, State.FAILURE, State.ERROR


def tide_policy(
    *,
    first_author: str = "batman",
    second_author: str = "batman",
    excluded: Sequence[str] = (),
    included: Sequence[str] = (),
    same_branch_reqs: bool = False,
    single_query: bool = False,
    extra: Iterable[Query] = (),
    display_all: bool = False,
) -> BranchPolicy:
    first = query(
        labels=["need-1", "need-2", f"{LONG},need-3"],
        missing_labels=FORBIDDEN,
        author=first_author,
        milestone="v1.0",
        excluded_branches=excluded,
        included_branches=included,
    )
    second = query(
        labels=[str(n) for n in range(1, 8)],
        author=second_author,
        milestone="v1.0",
        excluded_branches=excluded if same_branch_reqs else (),
        included_branches=included if same_branch_reqs else (),
    )
    queries = [first] if single_query else [first, second]
    return branch_policy(
        queries=[*queries, *extra],
        merge_labels=METHOD_LABELS,
        display_all_queries=display_all,
    )


def tide_pr(
    labels: Iterable[str] = NEEDED,
    *,
    author: str = "batman",
    milestone: str | None = "v1.0",
    contexts: Iterable[Context] = (PASSING_CI,),
    branch: str = "main",
    mergeable: Mergeable = Mergeable.MERGEABLE,
    review_decision: str | None = None,
) -> PullRequest:
    return pull_request(
        labels=labels,
        author=author,
        milestone=milestone,
        contexts=contexts,
        branch=branch,
        mergeable=mergeable,
        review_decision=review_decision,
    )


def status_of(
    pr: PullRequest, policy: BranchPolicy, blockers: Sequence[Blocker] = ()
) -> tuple[str, str]:
    status = expected_status(evaluate(pr, policy, ALL_METHODS, blockers=blockers), policy)
    return status.state, status.description


IN_POOL = ("success", "In merge pool.")


def pending(text: str) -> tuple[str, str]:
    return "pending", f"Not mergeable.{text}"


def error(text: str) -> tuple[str, str]:
    return "error", f"Not mergeable.{text}"


ONE_LESS = (*NEEDED[1:], FORBIDDEN[0])  # need-1 missing, forbidden-1 present

TIDE_CASES = [
    pytest.param(tide_pr(), tide_policy(), IN_POOL, id="144-in-pool"),
    pytest.param(
        tide_pr(labels=()), tide_policy(), pending(" Needs need-1, need-2 labels."), id="145"
    ),
    pytest.param(
        tide_pr(labels=NEEDED[:2]),
        tide_policy(),
        pending(f" Needs {LONG} or need-3 label."),
        id="146-long-alternative-kept-whole",
    ),
    pytest.param(
        tide_pr(labels=(*NEEDED, METHOD_LABELS.merge, METHOD_LABELS.squash)),
        tide_policy(),
        error(" PR has conflicting merge method override labels"),
        id="147-two-method-labels",
    ),
    pytest.param(
        tide_pr(labels=(*NEEDED, *FORBIDDEN)),
        tide_policy(),
        pending(" Should not have forbidden-1, forbidden-2 labels."),
        id="148-forbidden-labels",
    ),
    pytest.param(
        tide_pr(labels=(*NEEDED, FORBIDDEN[0])),
        tide_policy(),
        pending(" Should not have forbidden-1 label."),
        id="149-one-forbidden-label",
    ),
    pytest.param(
        tide_pr(labels=ONE_LESS),
        tide_policy(),
        pending(" Needs need-1 label."),
        id="150-only-first-requirement-class",
    ),
    pytest.param(
        tide_pr(labels=ONE_LESS),
        tide_policy(display_all=True),
        pending(" Needs need-1 label OR Needs 1, 2, 3, 4, 5, 6, 7 labels."),
        id="151-display-all-queries",
    ),
    pytest.param(
        tide_pr(labels=ONE_LESS),
        tide_policy(display_all=True, single_query=True),
        pending(" Needs need-1 label."),
        id="152-display-all-single-query",
    ),
    pytest.param(
        tide_pr(labels=ONE_LESS, branch="bad"),
        tide_policy(display_all=True, excluded=["bad"], same_branch_reqs=True),
        pending(" No Tide query for branch bad found."),
        id="153-display-all-no-query-for-branch",
    ),
    pytest.param(
        tide_pr(labels=ONE_LESS, branch="main"),
        tide_policy(
            display_all=True,
            excluded=["main"],
            same_branch_reqs=True,
            extra=[query(labels=["good-to-go"])],
        ),
        pending(" Needs good-to-go label."),
        id="154-display-all-skips-other-branches",
    ),
    pytest.param(
        tide_pr(branch="bad", author="", milestone=None),
        tide_policy(excluded=["bad"], same_branch_reqs=True, first_author="", second_author=""),
        pending(" Merging to branch bad is forbidden."),
        id="155-excluded-branch",
    ),
    pytest.param(
        tide_pr(branch="bad", author="", milestone=None),
        tide_policy(included=["good"], same_branch_reqs=True, first_author="", second_author=""),
        pending(" Merging to branch bad is forbidden."),
        id="156-not-included-branch",
    ),
    pytest.param(
        tide_pr(branch="bad"),
        tide_policy(included=["good"]),
        pending(" Needs 1, 2, 3, 4, 5, 6, 7 labels."),
        id="157-query-for-the-right-branch",
    ),
    pytest.param(
        tide_pr(contexts=[context("tide", E), PASSING_CI]),
        tide_policy(),
        IN_POOL,
        id="158-own-context-ignored",
    ),
    pytest.param(
        tide_pr(contexts=[context("job-name", E)]),
        tide_policy(),
        pending(" Job job-name has not succeeded."),
        id="159-bad-context",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name", F)]),
        tide_policy(),
        pending(" Job job-name has not succeeded."),
        id="160-bad-check-run",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name")]), tide_policy(), IN_POOL, id="161-good-check-run"
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name"), check_run("another-job")]),
        tide_policy(),
        IN_POOL,
        id="162-good-check-runs",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name"), check_run("another-job", F)]),
        tide_policy(),
        pending(" Job another-job has not succeeded."),
        id="163-good-and-bad-check-runs",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name"), context("other-job-name")]),
        tide_policy(),
        IN_POOL,
        id="164-good-check-run-and-context",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name", F), context("other-job-name", F)]),
        tide_policy(),
        pending(" Jobs job-name, other-job-name have not succeeded."),
        id="165-bad-check-run-and-context",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name", F), context("other-job-name")]),
        tide_policy(),
        pending(" Job job-name has not succeeded."),
        id="166-good-context-bad-check-run",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name"), context("other-job-name", F)]),
        tide_policy(),
        pending(" Job other-job-name has not succeeded."),
        id="167-bad-context-good-check-run",
    ),
    pytest.param(
        tide_pr(contexts=[context("job-name", E), context("other-job-name", E)]),
        tide_policy(),
        pending(" Jobs job-name, other-job-name have not succeeded."),
        id="168-bad-contexts",
    ),
    pytest.param(
        tide_pr(contexts=[check_run("job-name", F), check_run("other-job-name", F)]),
        tide_policy(),
        pending(" Jobs job-name, other-job-name have not succeeded."),
        id="168-bad-check-runs",
    ),
    pytest.param(
        tide_pr(author="robin", contexts=[context("job-name")]),
        tide_policy(),
        pending(" Must be by author batman."),
        id="169-wrong-author",
    ),
    pytest.param(
        tide_pr(author="robin", contexts=[context("job-name")]),
        tide_policy(first_author="penguin"),
        pending(" Must be by author penguin."),
        id="170-wrong-author-lowest-diff",
    ),
    pytest.param(
        tide_pr(milestone="v1.1", contexts=[context("job-name")]),
        tide_policy(),
        pending(" Must be in milestone v1.0."),
        id="171-wrong-milestone",
    ),
    pytest.param(
        tide_pr(contexts=[context("job-name")]),
        tide_policy(),
        IN_POOL,
        id="172-requirements-met-with-third-party-context",
    ),
    pytest.param(
        tide_pr(labels=["3", "4", "5", "6", "7"]),
        tide_policy(),
        pending(" Needs 1, 2 labels."),
        id="173-min-diff-query",
    ),
    pytest.param(
        tide_pr(mergeable=Mergeable.CONFLICTING),
        tide_policy(),
        error(" PR has a merge conflict."),
        id="178-merge-conflict",
    ),
    pytest.param(
        tide_pr(labels=(), author="", milestone=None),
        tide_policy(
            first_author="", second_author="", extra=[query(review_approved_required=True)]
        ),
        pending(" PullRequest is missing sufficient approving GitHub review(s)"),
        id="179-missing-approving-review",
    ),
    pytest.param(
        tide_pr(labels=(), author="", milestone=None, review_decision="APPROVED"),
        tide_policy(
            first_author="", second_author="", extra=[query(review_approved_required=True)]
        ),
        IN_POOL,
        id="180-approving-review-present",
    ),
]


@pytest.mark.parametrize(("pr", "policy", "expected"), TIDE_CASES)
def test_status_matches_tide(
    pr: PullRequest, policy: BranchPolicy, expected: tuple[str, str]
) -> None:
    assert status_of(pr, policy) == expected


def test_blockers_take_precedence_over_query_diff() -> None:  # 174
    pr = tide_pr(labels=["3", "4", "5", "6", "7"])

    got = status_of(pr, tide_policy(), blockers=[blocker(2), blocker(1)])

    assert got == error(" Merging is blocked by issues 1, 2.")


@pytest.mark.parametrize(
    ("blockers", "expected"),
    [
        pytest.param([blocker(5)], error(" Merging is blocked by issue 5."), id="repo-blocker"),
        pytest.param(
            [blocker(5, branches=["main"])],
            error(" Merging is blocked by issue 5."),
            id="blocker-for-this-branch",
        ),
        pytest.param([blocker(5, branches=["release-1.0"])], IN_POOL, id="blocker-other-branch"),
        pytest.param([blocker(5, repo="other")], IN_POOL, id="blocker-other-repo"),
        pytest.param(
            [blocker(9), blocker(7, branches=["main"]), blocker(8, branches=["dev"])],
            error(" Merging is blocked by issues 7, 9."),
            id="only-applicable-blockers-ascending",
        ),
    ],
)
def test_blocker_issues_hold_their_branch(
    blockers: list[Blocker], expected: tuple[str, str]
) -> None:
    pr = pull_request()
    policy = branch_policy()

    verdict = evaluate(pr, policy, ALL_METHODS, blockers=blockers)

    assert verdict.eligible == (expected == IN_POOL)
    assert status_of(pr, policy, blockers) == expected


def test_blocked_pr_names_the_blocker_reason_code() -> None:
    verdict = evaluate(pull_request(), branch_policy(), ALL_METHODS, blockers=[blocker(5)])

    assert [(r.code, r.items) for r in verdict.reasons] == [(Code.BLOCKER, ("5",))]


@pytest.mark.parametrize(
    ("merge_state", "blocks", "expected"),
    [
        pytest.param(
            "BLOCKED",
            BlocksPolicy.PERMIT,
            ("success", "In merge pool (despite BLOCKED)."),
            id="217-blocked-permit",
        ),
        pytest.param("BLOCKED", BlocksPolicy.IGNORE, IN_POOL, id="217-blocked-ignore"),
        pytest.param("CLEAN", BlocksPolicy.PERMIT, IN_POOL, id="217-clean-permit"),
        pytest.param("BEHIND", BlocksPolicy.PERMIT, IN_POOL, id="217-behind-permit"),
        # Tide's poolStatus shows "In merge pool." for BLOCKED+block, but such a PR never
        # reaches the pool (case 137): its status is the error that keeps it out.
        pytest.param(
            "BLOCKED",
            BlocksPolicy.BLOCK,
            error(
                " PR is blocked from merging by GitHub (check branch protection, required"
                " reviews, or rulesets)"
            ),
            id="217-blocked-block-stays-out",
        ),
    ],
)
def test_pool_status_under_github_merge_blocks_policy(
    merge_state: str, blocks: BlocksPolicy, expected: tuple[str, str]
) -> None:
    pr = pull_request(merge_state_status=merge_state)

    assert status_of(pr, branch_policy(blocks_policy=blocks)) == expected


def test_no_query_for_the_repo_says_only_not_mergeable() -> None:
    assert status_of(pull_request(), branch_policy(queries=())) == pending("")


def test_unknown_head_contexts_keep_the_pr_pending() -> None:
    got = status_of(pull_request(contexts=None), branch_policy())

    assert got == pending(" Head commit contexts could not be read.")


def test_draft_status_is_pending_not_error() -> None:
    assert status_of(pull_request(is_draft=True), branch_policy()) == pending(" PR is a draft.")


def test_long_description_is_cut_to_140_characters_with_ellipsis() -> None:
    author = "a-very-long-login-" * 8
    pr = pull_request(author="someone-else")

    state, description = status_of(pr, branch_policy(queries=[query(author=author)]))

    assert state == "pending"
    assert len(description) == 140
    assert description == f"Not mergeable. Must be by author {author}"[:137] + "..."


def test_status_carries_the_target_url() -> None:
    policy = branch_policy(target_url="https://tide.example.com")

    status = expected_status(evaluate(pull_request(), policy, ALL_METHODS), policy)

    assert status == Status("success", "In merge pool.", "https://tide.example.com")


def test_first_query_wins_a_tie() -> None:
    policy = branch_policy(queries=[query(labels=["lgtm"]), query(labels=["approved"])])

    assert status_of(pull_request(), policy) == pending(" Needs lgtm label.")


P = State.PENDING


@pytest.mark.parametrize(
    ("contexts", "presubmits", "expected"),
    [
        ([context("unit", P)], {"unit"}, pending(" Retesting: unit")),
        (
            [context("unit", P), context("e2e", P), context("lint")],
            {"unit", "e2e", "lint"},
            pending(" Retesting: e2e unit"),
        ),
        # Not a presubmit (e.g. a GitHub Action): Prow keeps it out of the pool.
        ([context("unit", P)], set(), pending(" Job unit has not succeeded.")),
        # A failed presubmit is not being retested.
        ([context("unit", P), context("e2e", F)], {"unit", "e2e"}, None),
        (
            [context(f"pull-kubernetes-e2e-job-number-{n}", P) for n in range(6)],
            {f"pull-kubernetes-e2e-job-number-{n}" for n in range(6)},
            pending(" Retesting 6 jobs."),
        ),
    ],
)
def test_pooled_prs_waiting_for_presubmits_say_retesting(
    contexts: list[Context], presubmits: set[str], expected: tuple[str, str] | None
) -> None:
    policy = replace(tide_policy(), presubmit_contexts=frozenset(presubmits))
    state, description = status_of(tide_pr(contexts=contexts), policy)
    if expected is None:
        assert "Retesting" not in description
    else:
        assert (state, description) == expected
