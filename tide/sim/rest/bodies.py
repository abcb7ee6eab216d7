"""REST representations of the simulator's objects, shaped like GitHub's v3 JSON."""

from __future__ import annotations

from typing import Any

from tide.sim.world.contexts import combine, latest_statuses
from tide.sim.world.entities import (
    HOST,
    CheckRunRecord,
    Protection,
    SimComment,
    SimIssue,
    SimLabel,
    SimPR,
    SimRepo,
    SimUser,
    StatusRecord,
    iso,
    node_id,
)
from tide.sim.world.git import Commit, tree_sha
from tide.sim.world.mergeability import can_be_rebased
from tide.sim.world.world import World

Json = dict[str, Any]
API = "https://api.github.example"


def user_json(user: SimUser) -> Json:
    return {
        "login": user.login,
        "id": user.id,
        "node_id": user.node_id,
        "type": user.graphql_type,
        "site_admin": False,
        "url": f"{API}/users/{user.login}",
        "html_url": f"{HOST}/{user.login}",
    }


def repo_json(world: World, repo: SimRepo, login: str | None = None) -> Json:
    permission = repo.permissions.get(login or "", repo.default_permission)
    rank = ["READ", "TRIAGE", "WRITE", "MAINTAIN", "ADMIN"].index(permission)
    return {
        "id": repo.id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": user_json(world.user(repo.owner)),
        "private": False,
        "html_url": repo.url,
        "url": f"{API}/repos/{repo.full_name}",
        "archived": repo.archived,
        "disabled": False,
        "default_branch": repo.default_branch,
        "allow_merge_commit": repo.allow_merge,
        "allow_squash_merge": repo.allow_squash,
        "allow_rebase_merge": repo.allow_rebase,
        "created_at": iso(repo.created_at),
        "permissions": {
            "admin": rank >= 4,
            "maintain": rank >= 3,
            "push": rank >= 2,
            "triage": rank >= 1,
            "pull": True,
        },
    }


def label_json(repo: SimRepo, label: SimLabel) -> Json:
    return {
        "id": label.id,
        "node_id": node_id("LA", label.id),
        "url": f"{API}/repos/{repo.full_name}/labels/{label.name}",
        "name": label.name,
        "color": label.color,
        "default": False,
        "description": label.description or None,
    }


def labels_json(item: SimIssue) -> list[Json]:
    out = []
    for name in item.labels:
        label = item.repo.labels.get(name)
        if label is not None:
            out.append(label_json(item.repo, label))
    return out


def pull_json(world: World, pr: SimPR) -> Json:
    repo = pr.repo
    git = repo.git
    state = world.mergeable(pr)
    milestone = repo.milestones.get(pr.milestone) if pr.milestone else None
    base_sha = git.branches.get(pr.base_ref, "")
    return {
        "url": f"{API}/repos/{repo.full_name}/pulls/{pr.number}",
        "id": pr.id,
        "node_id": pr.node_id,
        "html_url": pr.url,
        "number": pr.number,
        "state": "open" if pr.is_open else "closed",
        "locked": False,
        "title": pr.title,
        "body": pr.body or None,
        "user": user_json(world.user(pr.author)),
        "labels": labels_json(pr),
        "milestone": {"title": milestone.title, "number": milestone.number} if milestone else None,
        "draft": pr.draft,
        "created_at": iso(pr.created_at),
        "updated_at": iso(pr.updated_at),
        "closed_at": iso(pr.closed_at),
        "merged_at": iso(pr.merged_at),
        "merge_commit_sha": pr.merge_commit_sha,
        "head": {
            "label": f"{repo.owner}:{pr.head_ref}",
            "ref": pr.head_ref,
            "sha": pr.head_sha,
            "repo": {"full_name": repo.full_name, "name": repo.name, "id": repo.id},
        },
        "base": {
            "label": f"{repo.owner}:{pr.base_ref}",
            "ref": pr.base_ref,
            "sha": base_sha,
            "repo": {"full_name": repo.full_name, "name": repo.name, "id": repo.id},
        },
        "merged": pr.state == "MERGED",
        "merged_by": user_json(world.user(pr.merged_by)) if pr.merged_by else None,
        "mergeable": None if state == "UNKNOWN" else state == "MERGEABLE",
        "rebaseable": can_be_rebased(pr) if state != "UNKNOWN" else None,
        "mergeable_state": world.merge_state_status(pr).lower(),
        "comments": len(pr.comments),
        "commits": len(world.pr_commits(pr)),
    }


def commit_json(repo: SimRepo, commit: Commit) -> Json:
    url = f"{API}/repos/{repo.full_name}/commits/{commit.sha}"
    person = {
        "name": commit.author,
        "email": f"{commit.author}@users.noreply.example",
        "date": iso(commit.committed_at),
    }
    return {
        "sha": commit.sha,
        "node_id": node_id("C", repo.id, commit.sha),
        "url": url,
        "html_url": f"{repo.url}/commit/{commit.sha}",
        "commit": {
            "message": commit.message,
            "author": person,
            "committer": person,
            "tree": {"sha": tree_sha(commit.tree)},
        },
        "parents": [
            {"sha": p, "url": f"{API}/repos/{repo.full_name}/commits/{p}"} for p in commit.parents
        ],
    }


def status_json(world: World, repo: SimRepo, record: StatusRecord) -> Json:
    return {
        "url": f"{API}/repos/{repo.full_name}/statuses/{record.sha}",
        "id": record.id,
        "node_id": node_id("SC", record.id),
        "state": record.state,
        "description": record.description or None,
        "target_url": record.target_url or None,
        "context": record.context,
        "created_at": iso(record.created_at),
        "updated_at": iso(record.created_at),
        "creator": user_json(world.user(record.creator)),
    }


def combined_status_json(world: World, repo: SimRepo, sha: str) -> Json:
    statuses = latest_statuses(repo, sha)
    return {
        "state": combine([s.state for s in statuses]),
        "statuses": [status_json(world, repo, s) for s in statuses],
        "sha": sha,
        "total_count": len(statuses),
        "repository": {"id": repo.id, "full_name": repo.full_name},
        "commit_url": f"{API}/repos/{repo.full_name}/commits/{sha}",
        "url": f"{API}/repos/{repo.full_name}/commits/{sha}/status",
    }


def check_run_json(repo: SimRepo, run: CheckRunRecord) -> Json:
    return {
        "id": run.id,
        "node_id": node_id("CR", run.id),
        "head_sha": run.sha,
        "name": run.name,
        "status": run.status,
        "conclusion": run.conclusion,
        "details_url": run.details_url or None,
        "html_url": f"{repo.url}/runs/{run.id}",
        "url": f"{API}/repos/{repo.full_name}/check-runs/{run.id}",
        "started_at": iso(run.started_at),
        "completed_at": iso(run.completed_at),
        "app": {"slug": run.app, "name": run.app},
        "output": {"title": None, "summary": None},
    }


def ref_json(repo: SimRepo, branch: str, sha: str) -> Json:
    return {
        "ref": f"refs/heads/{branch}",
        "node_id": node_id("REF", repo.id, branch),
        "url": f"{API}/repos/{repo.full_name}/git/refs/heads/{branch}",
        "object": {
            "sha": sha,
            "type": "commit",
            "url": f"{API}/repos/{repo.full_name}/git/commits/{sha}",
        },
    }


def comment_json(world: World, item: SimIssue, comment: SimComment) -> Json:
    repo = item.repo
    return {
        "id": comment.id,
        "node_id": node_id("IC", comment.id),
        "url": f"{API}/repos/{repo.full_name}/issues/comments/{comment.id}",
        "html_url": f"{item.url}#issuecomment-{comment.id}",
        "issue_url": f"{API}/repos/{repo.full_name}/issues/{item.number}",
        "body": comment.body,
        "user": user_json(world.user(comment.author)),
        "created_at": iso(comment.created_at),
        "updated_at": iso(comment.created_at),
    }


def protection_json(repo: SimRepo, branch: str, rule: Protection) -> Json:
    url = f"{API}/repos/{repo.full_name}/branches/{branch}/protection"
    out: Json = {
        "url": url,
        "enforce_admins": {"url": f"{url}/enforce_admins", "enabled": False},
        "allow_force_pushes": {"enabled": rule.allow_force_push},
        "allow_deletions": {"enabled": rule.allow_deletion},
    }
    if rule.contexts or rule.strict:
        out["required_status_checks"] = {
            "url": f"{url}/required_status_checks",
            "strict": rule.strict,
            "contexts": list(rule.contexts),
            "checks": [{"context": c, "app_id": None} for c in rule.contexts],
        }
    if rule.required_approving_reviews:
        out["required_pull_request_reviews"] = {
            "url": f"{url}/required_pull_request_reviews",
            "dismiss_stale_reviews": False,
            "require_code_owner_reviews": False,
            "required_approving_review_count": rule.required_approving_reviews,
        }
    if not rule.allow_direct_push:
        out["restrictions"] = {"url": f"{url}/restrictions", "users": [], "teams": [], "apps": []}
    return out
