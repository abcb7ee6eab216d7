"""Plain-data builders for tests: pull requests, contexts, queries, policies and blockers.

The defaults describe an unremarkable open PR on org/repo@main that one empty query fulfils.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from tide.model import (
    Blocker,
    Comment,
    Context,
    Mergeable,
    MergeMethod,
    PullRequest,
    RepoSettings,
    State,
)
from tide.policy import (
    BlocksPolicy,
    BranchPolicy,
    ContextPolicy,
    MergeLabels,
    Query,
    QueueOptions,
)

ORG = "org"
REPO = "repo"
BRANCH = "main"
HEAD_SHA = "head"
EPOCH = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
# The CI every test PR has unless a test says otherwise: silence is never success.
PASSING_CI = Context("ci/test", State.SUCCESS)


def at(minutes: float) -> datetime:
    """A fixed instant, `minutes` after the tests' epoch (no wall clock involved)."""
    return EPOCH + timedelta(minutes=minutes)


def context(
    name: str,
    state: State = State.SUCCESS,
    description: str = "",
    *,
    created_at: datetime | None = None,
) -> Context:
    """A commit status context."""
    return Context(name, state, description, created_at=created_at)


def check_run(name: str, state: State = State.SUCCESS) -> Context:
    """A check run, already converted to a context state as the decoder does."""
    return Context(name, state, is_check_run=True)


def comment(
    body: str, created_at: datetime, author: str = "reviewer", association: str = "MEMBER"
) -> Comment:
    return Comment(author=author, body=body, created_at=created_at, association=association)


def pull_request(
    number: int = 1,
    *,
    labels: Iterable[str] = (),
    contexts: Iterable[Context] | None = (PASSING_CI,),
    org: str = ORG,
    repo: str = REPO,
    branch: str = BRANCH,
    head_sha: str = HEAD_SHA,
    head_ref: str = "feature",
    author: str = "batman",
    author_is_bot: bool = False,
    milestone: str | None = None,
    mergeable: Mergeable = Mergeable.MERGEABLE,
    merge_state_status: str = "CLEAN",
    is_draft: bool = False,
    review_decision: str | None = None,
    can_be_rebased: bool = True,
    comments: Iterable[Comment] = (),
) -> PullRequest:
    """An open PR; `contexts=None` means its head commit's contexts could not be read."""
    return PullRequest(
        org=org,
        repo=repo,
        number=number,
        title=f"PR {number}",
        head_sha=head_sha,
        base_ref=branch,
        author=author,
        author_is_bot=author_is_bot,
        head_ref=head_ref,
        mergeable=mergeable,
        merge_state_status=merge_state_status,
        is_draft=is_draft,
        review_decision=review_decision,
        labels=frozenset(labels),
        milestone=milestone,
        can_be_rebased=can_be_rebased,
        head_contexts=None if contexts is None else tuple(contexts),
        comments=tuple(comments),
    )


def query(
    *,
    labels: Iterable[str] = (),
    missing_labels: Iterable[str] = (),
    author: str = "",
    milestone: str = "",
    excluded_branches: Iterable[str] = (),
    included_branches: Iterable[str] = (),
    review_approved_required: bool = False,
    orgs: Iterable[str] = (ORG,),
    repos: Iterable[str] = (),
) -> Query:
    """A Tide query over the whole test org; a `labels` entry `a,b` means a or b."""
    return Query(
        orgs=tuple(orgs),
        repos=tuple(repos),
        labels=tuple(labels),
        missing_labels=tuple(missing_labels),
        author=author,
        milestone=milestone,
        excluded_branches=tuple(excluded_branches),
        included_branches=tuple(included_branches),
        review_approved_required=review_approved_required,
    )


def context_policy(
    *,
    required: Iterable[str] = (),
    required_if_present: Iterable[str] = (),
    optional: Iterable[str] = (),
    optional_regex: Iterable[str] = (),
    skip_unknown: bool = False,
    from_branch_protection: bool = False,
) -> ContextPolicy:
    return ContextPolicy(
        required=tuple(required),
        required_if_present=tuple(required_if_present),
        optional=tuple(optional),
        optional_regex=tuple(optional_regex),
        skip_unknown=skip_unknown,
        from_branch_protection=from_branch_protection,
    )


def branch_policy(
    *,
    queries: Iterable[Query] = (Query(orgs=(ORG,)),),
    org: str = ORG,
    repo: str = REPO,
    branch: str = BRANCH,
    contexts: ContextPolicy | None = None,
    merge_method: MergeMethod = MergeMethod.MERGE,
    merge_labels: MergeLabels | None = None,
    blocks_policy: BlocksPolicy = BlocksPolicy.PERMIT,
    priority: Iterable[Iterable[str]] = (),
    display_all_queries: bool = False,
    target_url: str = "",
    pr_status_base_url: str = "",
    retest_label: str = "tide/retest",
    retest_comment: str = "/tide retest",
) -> BranchPolicy:
    """The resolved criteria of one branch: by default one query that asks for nothing."""
    return BranchPolicy(
        org=org,
        repo=repo,
        branch=branch,
        queries=tuple(queries),
        context_policy=contexts or ContextPolicy(),
        merge_method=merge_method,
        merge_labels=merge_labels or MergeLabels(),
        blocks_policy=blocks_policy,
        priority=tuple(tuple(entry) for entry in priority),
        display_all_queries=display_all_queries,
        target_url=target_url,
        pr_status_base_url=pr_status_base_url,
        queue=QueueOptions(retest_label=retest_label, retest_comment=retest_comment),
    )


def repo_settings(*allowed: MergeMethod) -> RepoSettings:
    """GitHub's repository settings allowing exactly these merge methods."""
    return RepoSettings(
        allow_merge=MergeMethod.MERGE in allowed,
        allow_squash=MergeMethod.SQUASH in allowed,
        allow_rebase=MergeMethod.REBASE in allowed,
    )


ALL_METHODS = repo_settings(*MergeMethod)


def blocker(
    number: int,
    *,
    branches: Iterable[str] = (),
    org: str = ORG,
    repo: str = REPO,
    title: str = "",
) -> Blocker:
    """An open issue with the blocker label; no branches means it holds every branch."""
    return Blocker(
        org=org,
        repo=repo,
        number=number,
        title=title or f"Blocker {number}",
        branches=tuple(branches),
    )
