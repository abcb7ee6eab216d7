"""Merging as GitHub does it: the pull-request merge API and the branch merge API, each
refusal carrying GitHub's status code and message."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from tide.sim.world.contexts import required_problem
from tide.sim.world.entities import Protection, Refusal, SimPR, SimRepo
from tide.sim.world.git import Commit, MergeConflict
from tide.sim.world.journal import Journal, MergeRecord
from tide.sim.world.mergeability import pr_commits
from tide.sim.world.refs import Pushes, check_push

METHODS = ("merge", "squash", "rebase")
NOT_ALLOWED = {
    "merge": "Merge commits are not allowed on this repository.",
    "squash": "Squash merges are not allowed on this repository.",
    "rebase": "Rebase merges are not allowed on this repository.",
}
NOT_MERGEABLE = "Pull Request is not mergeable"
HEAD_MODIFIED = "Head branch was modified. Review and try the merge again."
BASE_MODIFIED = "Base branch was modified. Review and try the merge again."
BEHIND = "Head branch is out of date. Update the branch and try the merge again."
REVIEWS_REQUIRED = "At least {n} approving review{s} required by reviewers with write access."


class Merging(Pushes, Protocol):
    """What a merge needs of the world: its time, the push of the result, and the journal."""

    journal: Journal

    def now(self) -> datetime: ...


def merge_pull(
    world: Merging,
    pr: SimPR,
    *,
    method: str,
    sha: str | None,
    title: str | None,
    message: str | None,
    actor: str,
) -> Commit:
    repo = pr.repo
    if method not in METHODS:
        raise Refusal(422, "Validation Failed", field="merge_method", code="invalid")
    if not pr.is_open:
        raise Refusal(405, NOT_MERGEABLE)
    if sha is not None and sha != pr.head_sha:
        raise Refusal(409, HEAD_MODIFIED)
    if pr.draft:
        raise Refusal(405, NOT_MERGEABLE)
    allowed = {"merge": repo.allow_merge, "squash": repo.allow_squash, "rebase": repo.allow_rebase}
    if not allowed[method]:
        raise Refusal(405, NOT_ALLOWED[method])
    git = repo.git
    base_sha = git.branches[pr.base_ref]
    if not git.merges_cleanly(base_sha, pr.head_sha):
        raise Refusal(405, NOT_MERGEABLE)
    rule = repo.protection(pr.base_ref)
    if rule is not None:
        problem = required_problem(repo, pr.head_sha, rule.contexts)
        if problem:
            raise Refusal(405, problem)
        if rule.strict and not git.is_ancestor(base_sha, pr.head_sha):
            raise Refusal(405, BEHIND)
        if reviews_missing(pr, rule):
            n = rule.required_approving_reviews
            raise Refusal(405, REVIEWS_REQUIRED.format(n=n, s=" is" if n == 1 else "s are"))
    commits = pr_commits(pr)
    now = world.now()
    if method == "merge":
        headline = title or f"Merge pull request #{pr.number} from {repo.owner}/{pr.head_ref}"
        body = pr.title if message is None else message
        result = git.make_commit(
            git.merge_result(base_sha, pr.head_sha),
            (base_sha, pr.head_sha),
            _join(headline, body),
            actor,
            now,
        )
    elif method == "squash":
        headline = title or f"{pr.title} (#{pr.number})"
        body = "\n\n".join(f"* {c.message}" for c in commits) if message is None else message
        tree = git.merge_result(base_sha, pr.head_sha)
        result = git.make_commit(tree, (base_sha,), _join(headline, body), actor, now)
    else:
        try:
            trees = git.replay_trees(commits, base_sha)
        except MergeConflict:
            raise Refusal(405, NOT_MERGEABLE) from None
        parent = base_sha
        for commit, tree in zip(commits, trees, strict=True):
            parent = git.make_commit(tree, (parent,), commit.message, commit.author, now).sha
        result = git.commits[parent]
    mark_merged(pr, now, base_before=base_sha, merge_sha=result.sha, actor=actor)
    world.move_branch(repo, pr.base_ref, result.sha, actor=actor)
    world.journal.merges.append(
        MergeRecord(
            at=now,
            repo=repo.full_name,
            number=pr.number,
            method=method,
            base=pr.base_ref,
            head_sha=pr.head_sha,
            base_sha_before=base_sha,
            sha=result.sha,
            actor=actor,
        )
    )
    return result


def reviews_missing(pr: SimPR, rule: Protection) -> bool:
    """The rule wants approving reviews and the PR's review decision is not APPROVED."""
    return rule.required_approving_reviews > 0 and pr.review_decision != "APPROVED"


def mark_merged(
    pr: SimPR, now: datetime, *, base_before: str | None, merge_sha: str, actor: str
) -> None:
    git = pr.repo.git
    if base_before is not None:
        pr.frozen_commits = tuple(c.sha for c in git.only_in(pr.head_sha, base_before))
    else:
        pr.frozen_commits = (pr.head_sha,)
    pr.repo.untrack(pr)
    pr.state = "MERGED"
    pr.merged_at = now
    pr.closed_at = now
    pr.merged_by = actor
    pr.merge_commit_sha = merge_sha
    pr.updated_at = now


def merge_branches(
    world: Merging,
    repo: SimRepo,
    *,
    base: str,
    head: str,
    message: str | None,
    actor: str,
) -> Commit | None:
    """`POST /merges`: a merge commit on `base` (None when `head` is already contained)."""
    git = repo.git
    base_sha = git.branches.get(base)
    if base_sha is None:
        raise Refusal(404, "Base does not exist")
    head_commit = git.resolve(head)
    if head_commit is None:
        raise Refusal(404, "Head does not exist")
    if git.is_ancestor(head_commit.sha, base_sha):
        return None
    try:
        tree = git.merge_result(base_sha, head_commit.sha)
    except MergeConflict:
        raise Refusal(409, "Merge conflict") from None
    text = message or f"Merge {head} into {base}"
    commit = git.make_commit(tree, (base_sha, head_commit.sha), text, actor, world.now())
    check_push(repo, base, base_sha, commit.sha)
    world.move_branch(repo, base, commit.sha, actor=actor)
    return commit


def _join(headline: str, body: str) -> str:
    return f"{headline}\n\n{body}" if body else headline
