"""GraphQL resolvers for issues, pull requests and what hangs off them: comments, labels,
milestones, commits, authors."""

from __future__ import annotations

from typing import Any

from tide.sim.graphql.repo import COMMIT, ref_view
from tide.sim.graphql.views import (
    CommentView,
    CommitView,
    LabelView,
    MilestoneView,
    PRCommitView,
    RefView,
    Resolver,
    connection,
    ctx,
    world,
)
from tide.sim.world.entities import HOST, SimIssue, SimPR, iso, node_id
from tide.sim.world.mergeability import can_be_rebased, pr_commits


def _labels(item: SimIssue, args: dict[str, Any]) -> Any:
    views = [
        LabelView(item.repo, item.repo.labels[n]) for n in item.labels if n in item.repo.labels
    ]
    return connection(views, args)


def _milestone(item: SimIssue) -> MilestoneView | None:
    if item.milestone is None:
        return None
    return MilestoneView(item.repo, item.repo.milestones[item.milestone])


ISSUE: dict[str, Resolver] = {
    "id": lambda i, _: i.node_id,
    "databaseId": lambda i, _: i.id,
    "number": lambda i, _: i.number,
    "title": lambda i, _: i.title,
    "body": lambda i, _: i.body,
    "bodyText": lambda i, _: i.body,
    "url": lambda i, _: i.url,
    "resourcePath": lambda i, _: i.url.removeprefix(HOST),
    "state": lambda i, _: "CLOSED" if i.state == "CLOSED" else "OPEN",
    "closed": lambda i, _: i.state != "OPEN",
    "createdAt": lambda i, _: iso(i.created_at),
    "updatedAt": lambda i, _: iso(i.updated_at),
    "closedAt": lambda i, _: iso(i.closed_at),
    "author": lambda i, info: world(info).user(i.author),
    "repository": lambda i, _: i.repo,
    "labels": lambda i, _, **args: _labels(i, args),
    "milestone": lambda i, _: _milestone(i),
    "comments": lambda i, _, **args: connection([CommentView(i, c) for c in i.comments], args),
    "authorAssociation": lambda i, _: "MEMBER",
}


def _diff_size(pr: SimPR) -> int:
    git = pr.repo.git
    base = git.branches.get(pr.base_ref)
    if base is None:
        return 0
    merge_base = git.merge_base(base, pr.head_sha)
    old = git.commits[merge_base].tree if merge_base else {}
    new = git.commits[pr.head_sha].tree
    return sum(1 for path in set(old) | set(new) if old.get(path) != new.get(path))


def _head_view(pr: SimPR) -> CommitView:
    return CommitView(pr.repo, pr.repo.git.commits[pr.head_sha])


PULL_REQUEST: dict[str, Resolver] = {
    **ISSUE,
    "state": lambda p, _: p.state,
    "merged": lambda p, _: p.state == "MERGED",
    "mergedAt": lambda p, _: iso(p.merged_at),
    "mergedBy": lambda p, info: world(info).user(p.merged_by) if p.merged_by else None,
    "mergeCommit": lambda p, _: (
        CommitView(p.repo, p.repo.git.commits[p.merge_commit_sha]) if p.merge_commit_sha else None
    ),
    "isDraft": lambda p, _: p.draft,
    "permalink": lambda p, _: p.url,
    "baseRef": lambda p, _: ref_view(p.repo, p.base_ref),
    "baseRefName": lambda p, _: p.base_ref,
    "baseRefOid": lambda p, _: p.repo.git.branches.get(p.base_ref, ""),
    "baseRepository": lambda p, _: p.repo,
    "headRef": lambda p, _: (
        RefView(p.repo, p.head_ref) if p.repo.git.branches.get(p.head_ref) == p.head_sha else None
    ),
    "headRefName": lambda p, _: p.head_ref,
    "headRefOid": lambda p, _: p.head_sha,
    "headRepository": lambda p, _: p.repo,
    "headRepositoryOwner": lambda p, info: world(info).user(p.repo.owner),
    "isCrossRepository": lambda p, _: False,
    "mergeable": lambda p, info: world(info).mergeable(p),
    "mergeStateStatus": lambda p, info: world(info).merge_state_status(p),
    "canBeRebased": lambda p, _: can_be_rebased(p),
    "reviewDecision": lambda p, _: p.review_decision,
    "changedFiles": lambda p, _: _diff_size(p),
    "totalCommentsCount": lambda p, _: len(p.comments),
    "commits": lambda p, _, **args: connection([PRCommitView(p, c) for c in pr_commits(p)], args),
    "statusCheckRollup": lambda p, info: COMMIT["statusCheckRollup"](_head_view(p), info),
}

PR_COMMIT: dict[str, Resolver] = {
    "id": lambda v, _: node_id("PURC", v.pr.repo.id, v.pr.number, v.commit.sha),
    "commit": lambda v, _: CommitView(v.pr.repo, v.commit),
    "pullRequest": lambda v, _: v.pr,
    "url": lambda v, _: f"{v.pr.url}/commits/{v.commit.sha}",
    "resourcePath": lambda v, _: f"{v.pr.url.removeprefix(HOST)}/commits/{v.commit.sha}",
}

COMMENT: dict[str, Resolver] = {
    "id": lambda v, _: node_id("IC", v.comment.id),
    "databaseId": lambda v, _: v.comment.id,
    "body": lambda v, _: v.comment.body,
    "bodyText": lambda v, _: v.comment.body,
    "createdAt": lambda v, _: iso(v.comment.created_at),
    "updatedAt": lambda v, _: iso(v.comment.created_at),
    "publishedAt": lambda v, _: iso(v.comment.created_at),
    "author": lambda v, info: world(info).user(v.comment.author),
    "url": lambda v, _: f"{v.item.url}#issuecomment-{v.comment.id}",
    "issue": lambda v, _: v.item,
    "pullRequest": lambda v, _: v.item if isinstance(v.item, SimPR) else None,
    "isMinimized": lambda v, _: False,
    "viewerDidAuthor": lambda v, info: v.comment.author == ctx(info).login,
    "authorAssociation": lambda v, _: v.comment.association,
}

LABEL: dict[str, Resolver] = {
    "id": lambda v, _: node_id("LA", v.label.id),
    "name": lambda v, _: v.label.name,
    "color": lambda v, _: v.label.color,
    "description": lambda v, _: v.label.description or None,
    "isDefault": lambda v, _: False,
    "url": lambda v, _: f"{v.repo.url}/labels/{v.label.name}",
    "repository": lambda v, _: v.repo,
}

MILESTONE: dict[str, Resolver] = {
    "id": lambda v, _: node_id("MI", v.milestone.id),
    "title": lambda v, _: v.milestone.title,
    "number": lambda v, _: v.milestone.number,
    "state": lambda v, _: v.milestone.state,
    "closed": lambda v, _: v.milestone.state != "OPEN",
    "description": lambda v, _: None,
    "dueOn": lambda v, _: None,
    "url": lambda v, _: f"{v.repo.url}/milestone/{v.milestone.number}",
    "repository": lambda v, _: v.repo,
}

ACTOR: dict[str, Resolver] = {
    "login": lambda u, _: u.graphql_login,
    "id": lambda u, _: u.node_id,
    "databaseId": lambda u, _: u.id,
    "name": lambda u, _: None,
    "url": lambda u, _: f"{HOST}/{u.login}",
    "resourcePath": lambda u, _: f"/{u.login}",
    "avatarUrl": lambda u, _, **__: f"{HOST}/{u.login}.png",
}
