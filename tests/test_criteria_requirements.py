"""How far a PR is from a query: weights and texts of Prow's `TestRequirementDiff`.

The weight picks the closest query (0 = fulfilled); the text is what the `tide` status shows.
"""

from __future__ import annotations

import pytest
from builders import check_run, context, context_policy, pull_request, query

from tide.criteria import Code, requirement_diff, truncate_list
from tide.model import Context, PullRequest, State
from tide.policy import BlocksPolicy, ContextPolicy, Query

S, F, E, P = State.SUCCESS, State.FAILURE, State.ERROR, State.PENDING
BLOCKED_TEXT = "Blocked by GitHub (branch rulesets or protection)"
REVIEW_TEXT = "PullRequest is missing sufficient approving GitHub review(s)"


def diff(
    pr: PullRequest,
    q: Query,
    contexts: ContextPolicy | None = None,
    blocks: BlocksPolicy = BlocksPolicy.BLOCK,
) -> tuple[int, str]:
    d = requirement_diff(pr, q, contexts or context_policy(), blocks)
    return d.weight, d.text


@pytest.mark.parametrize(
    ("pr", "q", "weight", "text"),
    [
        pytest.param(
            pull_request(review_decision="CHANGES_REQUESTED", merge_state_status="BLOCKED"),
            query(),
            100,
            BLOCKED_TEXT,
            id="181-blocked-review-not-required",
        ),
        pytest.param(
            pull_request(review_decision="CHANGES_REQUESTED", merge_state_status="BLOCKED"),
            query(review_approved_required=True),
            150,
            REVIEW_TEXT,
            id="182-blocked-and-review-required",
        ),
        pytest.param(
            pull_request(merge_state_status="BLOCKED"), query(), 100, BLOCKED_TEXT, id="183"
        ),
        pytest.param(pull_request(merge_state_status="CLEAN"), query(), 0, "", id="184-clean"),
        pytest.param(
            pull_request(),
            query(review_approved_required=True),
            50,
            REVIEW_TEXT,
            id="185-review-required-none-given",
        ),
        pytest.param(
            pull_request(review_decision="APPROVED"),
            query(review_approved_required=True),
            0,
            "",
            id="186-review-approved",
        ),
        pytest.param(pull_request(), query(), 0, "", id="187-review-not-required"),
        pytest.param(
            pull_request(branch="release-1.0"),
            query(excluded_branches=["release-1.0", "release-2.0"]),
            2000,
            "Merging to branch release-1.0 is forbidden.",
            id="188-excluded-branch",
        ),
        pytest.param(
            pull_request(branch="main"),
            query(excluded_branches=["release-1.0", "release-2.0"]),
            0,
            "",
            id="188-other-branch",
        ),
        pytest.param(
            pull_request(branch="feature-branch"),
            query(included_branches=["main", "develop"]),
            2000,
            "Merging to branch feature-branch is forbidden.",
            id="189-not-included-branch",
        ),
        pytest.param(
            pull_request(branch="main"),
            query(included_branches=["main", "develop"]),
            0,
            "",
            id="189-included-branch",
        ),
        pytest.param(pull_request(author="alice"), query(author="alice"), 0, "", id="190-author"),
        pytest.param(
            pull_request(author="bob"),
            query(author="alice"),
            1000,
            "Must be by author alice.",
            id="190-wrong-author",
        ),
        pytest.param(pull_request(author="bob"), query(), 0, "", id="190-any-author"),
        pytest.param(
            pull_request(author="Alice"),
            query(author="@alice"),
            0,
            "",
            id="author-case-and-at-sign-ignored",
        ),
        pytest.param(
            pull_request(milestone="v1.0"), query(milestone="v1.0"), 0, "", id="191-milestone"
        ),
        pytest.param(
            pull_request(milestone="v1.1"),
            query(milestone="v1.0"),
            100,
            "Must be in milestone v1.0.",
            id="191-wrong-milestone",
        ),
        pytest.param(
            pull_request(),
            query(milestone="v1.0"),
            100,
            "Must be in milestone v1.0.",
            id="191-no-milestone",
        ),
        pytest.param(
            pull_request(milestone="v1.1"), query(), 0, "", id="191-milestone-not-required"
        ),
        pytest.param(
            pull_request(labels=["lgtm", "approved"]),
            query(labels=["lgtm", "approved"]),
            0,
            "",
            id="192-labels-present",
        ),
        pytest.param(
            pull_request(labels=["lgtm"]),
            query(labels=["lgtm", "approved"]),
            1,
            "Needs approved label.",
            id="192-one-label-missing",
        ),
        pytest.param(
            pull_request(),
            query(labels=["lgtm", "approved"]),
            2,
            "Needs approved, lgtm labels.",
            id="192-labels-missing-sorted",
        ),
        pytest.param(
            pull_request(labels=["do-not-merge"]),
            query(missing_labels=["do-not-merge"]),
            1,
            "Should not have do-not-merge label.",
            id="193-forbidden-label",
        ),
        pytest.param(
            pull_request(labels=["hold", "do-not-merge"]),
            query(missing_labels=["do-not-merge", "hold"]),
            2,
            "Should not have do-not-merge, hold labels.",
            id="193-forbidden-labels",
        ),
        pytest.param(
            pull_request(labels=["approved"]),
            query(labels=["lgtm,approved"]),
            0,
            "",
            id="194-alternative-present",
        ),
        pytest.param(
            pull_request(),
            query(labels=["lgtm,approved"]),
            1,
            "Needs lgtm or approved label.",
            id="194-alternative-missing",
        ),
    ],
)
def test_requirement_diff_weight_and_text(
    pr: PullRequest, q: Query, weight: int, text: str
) -> None:
    assert diff(pr, q) == (weight, text)


@pytest.mark.parametrize(
    ("contexts", "weight", "text"),
    [
        pytest.param([context("ci/test"), context("ci/build")], 0, "", id="195-all-succeed"),
        pytest.param(
            [context("ci/test", F)], 1, "Job ci/test has not succeeded.", id="195-one-failure"
        ),
        pytest.param(
            [context("ci/test", F), context("ci/build", E)],
            2,
            "Jobs ci/build, ci/test have not succeeded.",
            id="195-failure-and-error-sorted",
        ),
        pytest.param(
            [context("ci/test", P)], 1, "Job ci/test has not succeeded.", id="195-pending"
        ),
        pytest.param([check_run("test-job")], 0, "", id="196-check-run-success"),
        pytest.param(
            [check_run("test-job", F)],
            1,
            "Job test-job has not succeeded.",
            id="196-check-run-failure",
        ),
        pytest.param(
            [context("ci/test", F), check_run("ci/test", F)],
            2,
            "Job ci/test has not succeeded.",
            id="210-same-name-twice-counts-twice-named-once",
        ),
    ],
)
def test_unsuccessful_contexts_weigh_one_each(
    contexts: list[Context], weight: int, text: str
) -> None:
    assert diff(pull_request(contexts=contexts), query()) == (weight, text)


@pytest.mark.parametrize(
    ("contexts", "required", "weight", "text"),
    [
        pytest.param(
            [context("ci/test")],
            ["ci/required-check"],
            2,
            "Job ci/required-check has not succeeded.",
            id="207-missing-required-weighs-two",
        ),
        pytest.param(
            [],
            ["ci/required-1", "ci/required-2"],
            4,
            "Jobs ci/required-1, ci/required-2 have not succeeded.",
            id="208-two-missing-required",
        ),
        pytest.param(
            [context("ci/required-check")], ["ci/required-check"], 0, "", id="209-required-passes"
        ),
        pytest.param(
            [context("ci/required-check", F)],
            ["ci/required-check"],
            1,
            "Job ci/required-check has not succeeded.",
            id="209-required-fails",
        ),
        pytest.param(
            [context("ci/test", F)],
            ["ci/required-check"],
            3,
            "Jobs ci/required-check, ci/test have not succeeded.",
            id="211-failure-plus-missing-required",
        ),
        pytest.param(
            [context("ci/test", F), context("ci/lint", E)],
            ["ci/required-1", "ci/required-2"],
            6,
            "Jobs ci/lint, ci/required-1, ci/required-2, ci/test have not succeeded.",
            id="212-failures-plus-two-missing",
        ),
        pytest.param(
            [check_run("ci/required-check")],
            ["ci/required-check"],
            0,
            "",
            id="213-check-run-satisfies-required",
        ),
        pytest.param(
            [check_run("ci/other-check")],
            ["ci/required-check"],
            2,
            "Job ci/required-check has not succeeded.",
            id="213-other-check-run-does-not",
        ),
        pytest.param(
            [context("ci/test", F)],
            ["ci/test"],
            1,
            "Job ci/test has not succeeded.",
            id="214-present-required-failure-counts-once",
        ),
        pytest.param(
            [
                context("ci/build", F),
                context("ci/test"),
                check_run("ci/build", F),
                check_run("ci/lint", F),
            ],
            ["ci/required", "ci/build"],
            5,
            "Jobs ci/build, ci/lint, ci/required have not succeeded.",
            id="215-contexts-check-runs-and-required",
        ),
    ],
)
def test_missing_required_context_counts_twice(
    contexts: list[Context], required: list[str], weight: int, text: str
) -> None:
    pr = pull_request(contexts=contexts)

    assert diff(pr, query(), context_policy(required=required)) == (weight, text)


def test_tide_status_context_never_counts() -> None:
    pr = pull_request(contexts=[context("tide", E), context("ci")])

    assert diff(pr, query()) == (0, "")


def test_contexts_of_unknown_head_are_not_weighed() -> None:
    pr = pull_request(contexts=None)

    assert diff(pr, query(), context_policy(required=["ci"])) == (0, "")


@pytest.mark.parametrize(
    ("pr", "q", "weight", "text"),
    [
        pytest.param(
            pull_request(branch="dev", author="bob", contexts=[context("ci/test", F)]),
            query(excluded_branches=["dev"], author="alice", labels=["lgtm"]),
            3002,
            "Merging to branch dev is forbidden.",
            id="197-branch-first",
        ),
        pytest.param(
            pull_request(author="bob", contexts=[context("ci/test", F)]),
            query(author="alice", labels=["lgtm"]),
            1002,
            "Must be by author alice.",
            id="198-author-next",
        ),
        pytest.param(
            pull_request(milestone="v2", contexts=[context("ci/test", F)]),
            query(milestone="v1", labels=["lgtm"]),
            102,
            "Must be in milestone v1.",
            id="199-milestone-next",
        ),
        pytest.param(
            pull_request(contexts=[context("ci/test", F)]),
            query(labels=["lgtm"]),
            2,
            "Needs lgtm label.",
            id="200-labels-before-contexts",
        ),
        pytest.param(
            pull_request(labels=["do-not-merge"], contexts=[context("ci/test", F)]),
            query(missing_labels=["do-not-merge"]),
            2,
            "Should not have do-not-merge label.",
            id="201-forbidden-before-contexts",
        ),
        pytest.param(
            pull_request(
                branch="main",
                author="alice",
                milestone="v1",
                labels=["lgtm", "approved"],
                review_decision="APPROVED",
                contexts=[context("ci/test"), check_run("e2e")],
            ),
            query(
                included_branches=["main"],
                author="alice",
                milestone="v1",
                labels=["lgtm", "approved"],
                missing_labels=["hold"],
                review_approved_required=True,
            ),
            0,
            "",
            id="202-everything-satisfied",
        ),
        pytest.param(
            pull_request(
                branch="release",
                author="bob",
                milestone="v2",
                labels=["do-not-merge"],
                review_decision="CHANGES_REQUESTED",
                merge_state_status="BLOCKED",
                contexts=[
                    context("ci/test", F),
                    context("ci/lint", E),
                    check_run("security-scan", F),
                ],
            ),
            query(
                excluded_branches=["release"],
                author="alice",
                milestone="v1",
                labels=["lgtm", "approved"],
                missing_labels=["do-not-merge"],
                review_approved_required=True,
            ),
            2000 + 1000 + 100 + 2 + 1 + 3 + 50 + 100,
            "Merging to branch release is forbidden.",
            id="203-everything-wrong",
        ),
        pytest.param(
            pull_request(
                branch="main",
                author="bob",
                labels=["help-wanted", "needs-rebase", "wip"],
                review_decision="APPROVED",
                contexts=[context("ci/build", P), check_run("e2e-tests", F)],
            ),
            query(
                included_branches=["main"],
                author="alice",
                milestone="v1.5",
                labels=["lgtm", "approved", "size/small"],
                missing_labels=["wip", "needs-rebase"],
            ),
            1107,
            "Must be by author alice.",
            id="204-mixed",
        ),
        pytest.param(
            pull_request(
                milestone="backlog",
                labels=["lgtm", "hold"],
                review_decision="CHANGES_REQUESTED",
                merge_state_status="BLOCKED",
                contexts=[check_run("code-coverage", F)],
            ),
            query(
                milestone="sprint-23",
                labels=["lgtm", "approved"],
                missing_labels=["hold", "blocked"],
            ),
            203,
            "Must be in milestone sprint-23.",
            id="205-mixed-blocked",
        ),
        pytest.param(
            pull_request(review_decision="CHANGES_REQUESTED", merge_state_status="BLOCKED"),
            query(),
            100,
            BLOCKED_TEXT,
            id="206-only-blocked",
        ),
    ],
)
def test_most_severe_requirement_names_the_diff(
    pr: PullRequest, q: Query, weight: int, text: str
) -> None:
    assert diff(pr, q) == (weight, text)


def test_every_unmet_requirement_is_kept_in_tide_order() -> None:
    pr = pull_request(
        branch="release",
        author="bob",
        labels=["do-not-merge"],
        merge_state_status="BLOCKED",
        contexts=[context("ci", F)],
    )
    q = query(
        excluded_branches=["release"],
        author="alice",
        milestone="v1",
        labels=["lgtm"],
        missing_labels=["do-not-merge"],
        review_approved_required=True,
    )

    reasons = requirement_diff(pr, q, context_policy(), BlocksPolicy.BLOCK).reasons

    assert [r.code for r in reasons] == [
        Code.BRANCH_FORBIDDEN,
        Code.AUTHOR,
        Code.MILESTONE,
        Code.LABELS_MISSING,
        Code.LABELS_FORBIDDEN,
        Code.CONTEXTS,
        Code.REVIEW,
        Code.GITHUB_BLOCKED,
    ]


@pytest.mark.parametrize(
    ("blocks", "merge_state", "weight"),
    [
        pytest.param(BlocksPolicy.BLOCK, "BLOCKED", 100, id="216-block"),
        pytest.param(BlocksPolicy.PERMIT, "BLOCKED", 0, id="216-permit"),
        pytest.param(BlocksPolicy.IGNORE, "BLOCKED", 0, id="216-ignore"),
        pytest.param(BlocksPolicy.BLOCK, "CLEAN", 0, id="216-clean-with-block"),
    ],
)
def test_github_blocked_weighs_only_under_block_policy(
    blocks: BlocksPolicy, merge_state: str, weight: int
) -> None:
    pr = pull_request(merge_state_status=merge_state)

    got, text = diff(pr, query(), blocks=blocks)

    assert got == weight
    assert ("Blocked by GitHub" in text) == bool(weight)


@pytest.mark.parametrize(
    ("items", "kept"),
    [
        pytest.param(["a" * 60, "b"], ["a" * 60], id="first-item-always-kept"),
        pytest.param(["a" * 20, "b" * 30], ["a" * 20, "b" * 30], id="exactly-fifty-fits"),
        pytest.param(["a" * 20, "b" * 31], ["a" * 20], id="fifty-one-does-not"),
        # separators count after an item is added: 20 + (20 + 2) + 9 = 51 > 50 by Tide's count
        pytest.param(["a" * 20, "b" * 20, "c" * 8], ["a" * 20, "b" * 20, "c" * 8], id="sep"),
        pytest.param(["a" * 20, "b" * 20, "c" * 9], ["a" * 20, "b" * 20], id="sep-overflow"),
    ],
)
def test_lists_are_cut_at_fifty_characters(items: list[str], kept: list[str]) -> None:
    assert truncate_list(items) == kept


def test_long_label_list_is_cut_but_every_label_weighs() -> None:
    labels = ["approved-by-" + "x" * 20, "lgtm-by-" + "y" * 10, "size/small"]

    weight, text = diff(pull_request(), query(labels=labels))

    assert weight == 3
    assert text == f"Needs {labels[0]}, {labels[1]} labels."


def test_label_list_cut_to_one_reads_singular_like_tide() -> None:
    labels = ["approved-by-" + "x" * 40, "lgtm"]

    weight, text = diff(pull_request(), query(labels=labels))

    assert weight == 2
    assert text == f"Needs {labels[0]} label."
