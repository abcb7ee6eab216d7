"""When the `tide` status is written, how long it may be, and where its link points.

Tide's `TestSetStatuses` and `TestTargetUrl` (Prow's `pkg/tide/status_test.go`).
Case 222 (a PR being merged is left alone) is the sync's bookkeeping, not a property of
the status value, so it is not ported here.
"""

from __future__ import annotations

import pytest
from builders import ALL_METHODS, PASSING_CI, branch_policy, context, pull_request, query

from tide.criteria import evaluate, status_context_of
from tide.model import Context, PullRequest, State
from tide.policy import BranchPolicy
from tide.status_text import expected_status, needs_write, target_url, truncate_description

ELIGIBLE = branch_policy()
NO_QUERIES = branch_policy(queries=())


def writes(pr: PullRequest, policy: BranchPolicy) -> bool:
    want = expected_status(evaluate(pr, policy, ALL_METHODS), policy)
    current = status_context_of(pr, policy.status_context)
    if current is None:
        return needs_write(None, None, want)
    return needs_write(current.state, current.description, want)


def tide_context(state: State, description: str) -> list[Context]:
    """tide's own status beside the PR's (passing) CI."""
    return [context("tide", state, description), PASSING_CI]


@pytest.mark.parametrize(
    ("current", "policy", "written"),
    [
        pytest.param(
            tide_context(State.SUCCESS, "In merge pool."), ELIGIBLE, False, id="218-in-pool-same"
        ),
        pytest.param([], ELIGIBLE, True, id="219-in-pool-no-context"),
        pytest.param(
            tide_context(State.SUCCESS, "Not mergeable."),
            ELIGIBLE,
            True,
            id="220-in-pool-wrong-description",
        ),
        pytest.param(
            tide_context(State.PENDING, "In merge pool."),
            ELIGIBLE,
            True,
            id="221-in-pool-wrong-state",
        ),
        pytest.param(
            tide_context(State.PENDING, "Not mergeable."),
            NO_QUERIES,
            False,
            id="223-not-in-pool-same",
        ),
        pytest.param(
            tide_context(State.PENDING, "In merge pool."),
            NO_QUERIES,
            True,
            id="224-not-in-pool-wrong-description",
        ),
        pytest.param([], NO_QUERIES, True, id="225-not-in-pool-no-context"),
    ],
)
def test_status_is_written_only_when_it_changes(
    current: list[Context], policy: BranchPolicy, written: bool
) -> None:
    assert writes(pull_request(contexts=current), policy) is written


def test_cut_description_already_shown_is_not_rewritten() -> None:
    author = "x" * 200
    policy = branch_policy(queries=[query(author=author)])
    shown = f"Not mergeable. Must be by author {author}"[:137] + "..."
    pr = pull_request(author="someone", contexts=tide_context(State.PENDING, shown))

    assert not writes(pr, policy)


@pytest.mark.parametrize(
    ("description", "shown"),
    [
        pytest.param("x" * 140, "x" * 140, id="140-kept"),
        pytest.param("x" * 141, "x" * 137 + "...", id="141-cut"),
        pytest.param("", "", id="empty"),
    ],
)
def test_description_is_cut_at_140_characters(description: str, shown: str) -> None:
    assert truncate_description(description) == shown


PR_STATUS = "pr.status.com"


@pytest.mark.parametrize(
    ("pr", "policy", "url"),
    [
        pytest.param(pull_request(), branch_policy(), "", id="227-no-config"),
        pytest.param(pull_request(), branch_policy(target_url="tide.com"), "tide.com", id="228"),
        pytest.param(
            pull_request(),
            branch_policy(target_url="tide.com", pr_status_base_url=PR_STATUS),
            "tide.com",
            id="229-target-url-wins",
        ),
        pytest.param(
            pull_request(author="author", head_ref="head"),
            branch_policy(pr_status_base_url=PR_STATUS),
            "pr.status.com?query=is%3Apr+repo%3Aorg%2Frepo+author%3Aauthor+head%3Ahead",
            id="230-pr-dashboard",
        ),
        # The org / org/repo keyed lookup is tide.config's; here the resolved URL is used.
        pytest.param(
            pull_request(org="testOrg", repo="testRepo", author="author", head_ref="head"),
            branch_policy(
                org="testOrg", repo="testRepo", pr_status_base_url="byrepo.pr.status.com"
            ),
            "byrepo.pr.status.com?query=is%3Apr+repo%3AtestOrg%2FtestRepo+author%3Aauthor+head%3Ahead",
            id="231-pr-dashboard-for-repo",
        ),
        pytest.param(
            pull_request(
                author="dependabot",
                author_is_bot=True,
                head_ref="dependabot/github_actions/actions/cache-4.0.0",
            ),
            branch_policy(pr_status_base_url=PR_STATUS),
            "pr.status.com?query=is%3Apr+repo%3Aorg%2Frepo+author%3Aapp%2Fdependabot"
            "+head%3Adependabot%2Fgithub_actions%2Factions%2Fcache-4.0.0",
            id="232-bot-author-gets-app-prefix",
        ),
        pytest.param(
            pull_request(author="app/dependabot", author_is_bot=True, head_ref="deps"),
            branch_policy(pr_status_base_url=PR_STATUS),
            "pr.status.com?query=is%3Apr+repo%3Aorg%2Frepo+author%3Aapp%2Fdependabot+head%3Adeps",
            id="232-no-double-app-prefix",
        ),
        pytest.param(
            pull_request(author="author", head_ref="head"),
            branch_policy(pr_status_base_url="https://prow.example.com/pr?lang=en&query=old"),
            "https://prow.example.com/pr?lang=en&query=is%3Apr+repo%3Aorg%2Frepo"
            "+author%3Aauthor+head%3Ahead",
            id="base-url-query-kept-and-query-replaced",
        ),
    ],
)
def test_target_url(pr: PullRequest, policy: BranchPolicy, url: str) -> None:
    assert target_url(pr, policy) == url
