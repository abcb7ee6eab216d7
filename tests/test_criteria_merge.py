"""What stops GitHub itself from merging: method, repo settings, rebase, BLOCKED, drafts.

Prow's `TestMergeMethodCheckerAndPRMergeMethod`, `TestRebaseMergeMethodIsAllowed` and
`TestIsAllowedToMerge_ReviewDecision`. The `org`/`org/repo`
scoping of `merge_method` and `github_merge_blocks_policy` is resolved by `tide.config`
into one `BranchPolicy` value, so these cases start from the resolved value.
"""

from __future__ import annotations

import pytest
from builders import ALL_METHODS, branch_policy, pull_request, repo_settings

from tide.criteria import Code, evaluate, merge_blockers, merge_method
from tide.model import Mergeable, MergeMethod, PullRequest, RepoSettings
from tide.policy import BlocksPolicy, MergeLabels
from tide.status_text import expected_status

MERGE, SQUASH, REBASE = MergeMethod.MERGE, MergeMethod.SQUASH, MergeMethod.REBASE
LABELS = MergeLabels(squash="tide/squash", rebase="tide/rebase", merge="tide/merge")
GITHUB_BLOCKED = (
    "PR is blocked from merging by GitHub (check branch protection, required reviews, or rulesets)"
)


def reasons(pr: PullRequest, configured: MergeMethod, settings: RepoSettings) -> list[str]:
    policy = branch_policy(merge_method=configured, merge_labels=LABELS)
    return [r.text for r in merge_blockers(pr, policy, settings)]


@pytest.mark.parametrize(
    ("configured", "labels", "settings", "method", "why_not"),
    [
        pytest.param(MERGE, [], repo_settings(MERGE), MERGE, [], id="126-default-merge"),
        pytest.param(
            MERGE, ["unrelated"], repo_settings(MERGE), MERGE, [], id="127-unrelated-label"
        ),
        pytest.param(
            MERGE, ["tide/squash"], repo_settings(SQUASH), SQUASH, [], id="128-label-overrides"
        ),
        pytest.param(
            SQUASH,
            ["unrelated"],
            repo_settings(*MergeMethod),
            SQUASH,
            [],
            id="129-configured-method",
        ),
        pytest.param(
            SQUASH,
            ["unrelated", "tide/rebase"],
            repo_settings(*MergeMethod),
            REBASE,
            [],
            id="130-label-overrides-configured",
        ),
        pytest.param(
            MERGE,
            ["tide/squash", "tide/rebase"],
            repo_settings(*MergeMethod),
            None,
            ["PR has conflicting merge method override labels"],
            id="131-two-method-labels",
        ),
        pytest.param(
            MERGE,
            ["tide/squash"],
            repo_settings(MERGE),
            SQUASH,
            ['Merge type "squash" disallowed by repo settings'],
            id="133-label-method-disallowed",
        ),
        pytest.param(
            REBASE,
            ["unrelated"],
            repo_settings(MERGE),
            REBASE,
            ['Merge type "rebase" disallowed by repo settings'],
            id="134-configured-method-disallowed",
        ),
        pytest.param(
            MERGE,
            ["unrelated"],
            repo_settings(SQUASH),
            MERGE,
            ['Merge type "merge" disallowed by repo settings'],
            id="135-default-method-disallowed",
        ),
    ],
)
def test_merge_method_and_repo_settings(
    configured: MergeMethod,
    labels: list[str],
    settings: RepoSettings,
    method: MergeMethod | None,
    why_not: list[str],
) -> None:
    pr = pull_request(labels=labels)
    policy = branch_policy(merge_method=configured, merge_labels=LABELS)

    assert merge_method(pr, policy) == method
    assert reasons(pr, configured, settings) == why_not


def test_merge_conflict_keeps_method_but_blocks() -> None:  # 132
    pr = pull_request(labels=["unrelated"], mergeable=Mergeable.CONFLICTING)

    assert merge_method(pr, branch_policy(merge_labels=LABELS)) == MERGE
    assert reasons(pr, MERGE, repo_settings(MERGE)) == ["PR has a merge conflict."]


def test_unknown_mergeability_is_not_a_conflict() -> None:
    pr = pull_request(mergeable=Mergeable.UNKNOWN)

    assert evaluate(pr, branch_policy(), ALL_METHODS).eligible


def test_method_labels_are_ignored_when_not_configured() -> None:
    pr = pull_request(labels=["tide/squash", "tide/rebase"])

    assert merge_method(pr, branch_policy(merge_method=REBASE)) == REBASE


@pytest.mark.parametrize(
    ("can_be_rebased", "why_not"),
    [
        pytest.param(True, [], id="136-rebase-possible"),
        pytest.param(False, ["PR can't be rebased"], id="136-rebase-impossible"),
    ],
)
def test_rebase_needs_a_rebaseable_pr(can_be_rebased: bool, why_not: list[str]) -> None:
    pr = pull_request(can_be_rebased=can_be_rebased)

    assert reasons(pr, REBASE, repo_settings(REBASE)) == why_not


def test_cannot_rebase_does_not_matter_for_merge_commits() -> None:
    pr = pull_request(can_be_rebased=False)

    assert reasons(pr, MERGE, ALL_METHODS) == []


@pytest.mark.parametrize(
    ("merge_state", "blocks", "why_not"),
    [
        pytest.param("BLOCKED", BlocksPolicy.BLOCK, [GITHUB_BLOCKED], id="137-blocked-block"),
        pytest.param("BLOCKED", BlocksPolicy.PERMIT, [], id="138-blocked-permit"),
        pytest.param("BLOCKED", BlocksPolicy.IGNORE, [], id="139-blocked-ignore"),
        pytest.param("CLEAN", BlocksPolicy.BLOCK, [], id="143-clean-block"),
        pytest.param("BEHIND", BlocksPolicy.BLOCK, [], id="143-behind-block"),
    ],
)
def test_github_merge_blocks_policy(
    merge_state: str, blocks: BlocksPolicy, why_not: list[str]
) -> None:
    pr = pull_request(merge_state_status=merge_state)

    blocking = merge_blockers(pr, branch_policy(blocks_policy=blocks), ALL_METHODS)

    assert [r.text for r in blocking] == why_not


def test_github_merge_blocks_policy_defaults_to_permit() -> None:  # 140
    pr = pull_request(merge_state_status="BLOCKED")

    verdict = evaluate(pr, branch_policy(), ALL_METHODS)

    assert verdict.eligible


def test_blocked_by_github_under_block_policy_is_an_error_status() -> None:
    pr = pull_request(merge_state_status="BLOCKED")
    policy = branch_policy(blocks_policy=BlocksPolicy.BLOCK)

    verdict = evaluate(pr, policy, ALL_METHODS)

    assert not verdict.eligible
    assert expected_status(verdict, policy).state == "error"
    assert expected_status(verdict, policy).description == f"Not mergeable. {GITHUB_BLOCKED}"


def test_draft_is_not_eligible_and_says_so() -> None:
    pr = pull_request(is_draft=True)
    policy = branch_policy()

    verdict = evaluate(pr, policy, ALL_METHODS)

    assert not verdict.eligible
    assert [r.code for r in verdict.reasons] == [Code.DRAFT]
    status = expected_status(verdict, policy)
    assert (status.state, status.description) == ("pending", "Not mergeable. PR is a draft.")


def test_conflict_is_named_before_draft() -> None:
    pr = pull_request(is_draft=True, mergeable=Mergeable.CONFLICTING)
    policy = branch_policy()

    status = expected_status(evaluate(pr, policy, ALL_METHODS), policy)

    assert (status.state, status.description) == (
        "error",
        "Not mergeable. PR has a merge conflict.",
    )
