"""GraphQL resolvers for git data: repositories, refs, commits, statuses, check runs and
branch protection rules."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from tide.sim.graphql.views import (
    CommitView,
    ContextView,
    LabelView,
    MilestoneView,
    RefView,
    Resolver,
    RollupView,
    RuleView,
    StatusView,
    connection,
    ctx,
    world,
)
from tide.sim.world.contexts import (
    check_run_state,
    combine_graphql,
    latest_check_runs,
    latest_statuses,
)
from tide.sim.world.entities import HOST, CheckRunRecord, SimPR, SimRepo, StatusRecord, iso, node_id
from tide.sim.world.git import tree_sha


def ref_view(repo: SimRepo, qualified: str) -> RefView | None:
    name = qualified.removeprefix("refs/heads/") if qualified.startswith("refs/") else qualified
    if qualified.startswith("refs/") and not qualified.startswith("refs/heads/"):
        return None
    return RefView(repo, name) if name in repo.git.branches else None


def _refs(repo: SimRepo, _: GraphQLResolveInfo, *, refPrefix: str, **args: Any) -> Any:
    if not refPrefix.startswith("refs/heads/"):
        return connection([], args)
    wanted = refPrefix.removeprefix("refs/heads/")
    names = sorted(b for b in repo.git.branches if b.startswith(wanted))
    if args.get("query"):
        names = [n for n in names if args["query"] in n]
    if args.get("direction") == "DESC":
        names.reverse()
    prefix = refPrefix if refPrefix.endswith("/") else refPrefix.rsplit("/", 1)[0] + "/"
    views = [RefView(repo, name, prefix=prefix) for name in names]
    return connection(views, args)


def _object(
    repo: SimRepo, _: GraphQLResolveInfo, *, oid: str | None = None, expression: str | None = None
) -> Any:
    commit = repo.git.resolve(oid or expression or "")
    return CommitView(repo, commit) if commit else None


def _pulls(repo: SimRepo, args: dict[str, Any], **match: Any) -> list[SimPR]:
    states = args.get("states")
    labels = {name.lower() for name in args.get("labels") or ()}
    out = []
    for pr in sorted(repo.pulls.values(), key=lambda p: p.number):
        if states and pr.state not in states:
            continue
        if labels and not labels & {name.lower() for name in pr.labels}:
            continue
        if args.get("baseRefName") and pr.base_ref != args["baseRefName"]:
            continue
        if args.get("headRefName") and pr.head_ref != args["headRefName"]:
            continue
        if any(getattr(pr, k) != v for k, v in match.items()):
            continue
        out.append(pr)
    return out


def _permission(repo: SimRepo, info: GraphQLResolveInfo) -> str:
    return repo.permissions.get(ctx(info).login, repo.default_permission)


REPOSITORY: dict[str, Resolver] = {
    "id": lambda r, _: r.node_id,
    "databaseId": lambda r, _: r.id,
    "name": lambda r, _: r.name,
    "nameWithOwner": lambda r, _: r.full_name,
    "owner": lambda r, info: world(info).user(r.owner),
    "url": lambda r, _: r.url,
    "isArchived": lambda r, _: r.archived,
    "isPrivate": lambda r, _: False,
    "isFork": lambda r, _: False,
    "createdAt": lambda r, _: iso(r.created_at),
    "defaultBranchRef": lambda r, _: ref_view(r, r.default_branch),
    "mergeCommitAllowed": lambda r, _: r.allow_merge,
    "squashMergeAllowed": lambda r, _: r.allow_squash,
    "rebaseMergeAllowed": lambda r, _: r.allow_rebase,
    "viewerPermission": _permission,
    "ref": lambda r, _, qualifiedName: ref_view(r, qualifiedName),
    "refs": _refs,
    "object": _object,
    "pullRequest": lambda r, _, number: r.pulls.get(number),
    "issue": lambda r, _, number: r.issues.get(number),
    "issueOrPullRequest": lambda r, _, number: r.item(number),
    "pullRequests": lambda r, _, **args: connection(_pulls(r, args), args),
    "issues": lambda r, _, **args: connection(
        [
            i
            for i in sorted(r.issues.values(), key=lambda i: i.number)
            if not args.get("states") or i.state in args["states"]
        ],
        args,
    ),
    "branchProtectionRules": lambda r, _, **args: connection(
        [RuleView(r, rule) for rule in r.protections], args
    ),
    "labels": lambda r, _, **args: connection(
        [
            LabelView(r, label)
            for label in r.labels.values()
            if not args.get("query") or args["query"].lower() in label.name.lower()
        ],
        args,
    ),
    "label": lambda r, _, name: next(
        (LabelView(r, la) for la in r.labels.values() if la.name.lower() == name.lower()), None
    ),
    "milestone": lambda r, _, number: next(
        (MilestoneView(r, m) for m in r.milestones.values() if m.number == number), None
    ),
}

REF: dict[str, Resolver] = {
    "id": lambda v, _: node_id("REF", v.repo.id, v.name),
    "name": lambda v, _: (
        v.name[len(v.prefix) - len("refs/heads/") :] if v.prefix != "refs/heads/" else v.name
    ),
    "prefix": lambda v, _: v.prefix,
    "target": lambda v, _: CommitView(v.repo, v.repo.git.commits[v.repo.git.branches[v.name]]),
    "repository": lambda v, _: v.repo,
    "associatedPullRequests": lambda v, _, **args: connection(
        _pulls(v.repo, args, head_ref=v.name), args
    ),
    "branchProtectionRule": lambda v, _: (
        RuleView(v.repo, rule) if (rule := v.repo.protection(v.name)) else None
    ),
}


def _actor(commit_view: CommitView) -> dict[str, Any]:
    c = commit_view.commit
    return {
        "name": c.author,
        "email": f"{c.author}@users.noreply.example",
        "date": iso(c.committed_at),
        "user": None,
        "avatarUrl": f"{HOST}/{c.author}.png",
    }


COMMIT: dict[str, Resolver] = {
    "id": lambda v, _: node_id("C", v.repo.id, v.commit.sha),
    "oid": lambda v, _: v.commit.sha,
    "abbreviatedOid": lambda v, _: v.commit.sha[:7],
    "message": lambda v, _: v.commit.message,
    "messageHeadline": lambda v, _: v.commit.headline,
    "messageBody": lambda v, _: v.commit.message.partition("\n")[2].lstrip("\n"),
    "committedDate": lambda v, _: iso(v.commit.committed_at),
    "authoredDate": lambda v, _: iso(v.commit.committed_at),
    "author": lambda v, _: _actor(v),
    "committer": lambda v, _: _actor(v),
    "url": lambda v, _: f"{v.repo.url}/commit/{v.commit.sha}",
    "commitUrl": lambda v, _: f"{v.repo.url}/commit/{v.commit.sha}",
    "repository": lambda v, _: v.repo,
    "tree": lambda v, _: {
        "oid": tree_sha(v.commit.tree),
        "abbreviatedOid": tree_sha(v.commit.tree)[:7],
    },
    "parents": lambda v, _, **args: connection(
        [CommitView(v.repo, v.repo.git.commits[p]) for p in v.commit.parents], args
    ),
    "status": lambda v, _: (
        StatusView(v.repo, v.commit.sha) if v.repo.statuses.get(v.commit.sha) else None
    ),
    "statusCheckRollup": lambda v, _: (
        RollupView(v.repo, v.commit.sha)
        if v.repo.statuses.get(v.commit.sha) or v.repo.check_runs.get(v.commit.sha)
        else None
    ),
    "associatedPullRequests": lambda v, _, **args: connection(
        _pulls(v.repo, args, head_sha=v.commit.sha), args
    ),
}


# -- statuses and checks ---------------------------------------------------------------------


def _contexts(repo: SimRepo, sha: str) -> list[ContextView]:
    runs = [ContextView(repo, r) for r in latest_check_runs(repo, sha)]
    return runs + [ContextView(repo, s) for s in latest_statuses(repo, sha)]


def _rollup_state(repo: SimRepo, sha: str) -> str:
    states = [check_run_state(r) for r in latest_check_runs(repo, sha)]
    states += [s.state for s in latest_statuses(repo, sha)]
    return combine_graphql(states)


def _context_connection(repo: SimRepo, sha: str, args: dict[str, Any]) -> Any:
    items = _contexts(repo, sha)
    runs = sum(1 for c in items if isinstance(c.record, CheckRunRecord))
    return connection(
        items, args, extra={"checkRunCount": runs, "statusContextCount": len(items) - runs}
    )


STATUS: dict[str, Resolver] = {
    "id": lambda v, _: node_id("S", v.repo.id, v.sha),
    "state": lambda v, _: combine_graphql([s.state for s in latest_statuses(v.repo, v.sha)]),
    "contexts": lambda v, _: [ContextView(v.repo, s) for s in latest_statuses(v.repo, v.sha)],
    "context": lambda v, _, name: next(
        (ContextView(v.repo, s) for s in latest_statuses(v.repo, v.sha) if s.context == name), None
    ),
    "commit": lambda v, _: CommitView(v.repo, v.repo.git.commits[v.sha]),
    "combinedContexts": lambda v, _, **args: _context_connection(v.repo, v.sha, args),
}

ROLLUP: dict[str, Resolver] = {
    "id": lambda v, _: node_id("SCR", v.repo.id, v.sha),
    "state": lambda v, _: _rollup_state(v.repo, v.sha),
    "contexts": lambda v, _, **args: _context_connection(v.repo, v.sha, args),
    "commit": lambda v, _: CommitView(v.repo, v.repo.git.commits[v.sha]),
}


def _is_required(v: ContextView, info: GraphQLResolveInfo, name: str, **args: Any) -> bool:
    number = args.get("pullRequestNumber")
    pr = v.repo.pulls.get(number) if number is not None else None
    rule = v.repo.protection(pr.base_ref) if pr else None
    return bool(rule and name in rule.contexts)


def _status(v: ContextView) -> StatusRecord:
    assert isinstance(v.record, StatusRecord)
    return v.record


def _run(v: ContextView) -> CheckRunRecord:
    assert isinstance(v.record, CheckRunRecord)
    return v.record


STATUS_CONTEXT: dict[str, Resolver] = {
    "id": lambda v, _: node_id("SC", _status(v).id),
    "context": lambda v, _: _status(v).context,
    "state": lambda v, _: _status(v).state.upper(),
    "description": lambda v, _: _status(v).description or None,
    "targetUrl": lambda v, _: _status(v).target_url or None,
    "createdAt": lambda v, _: iso(_status(v).created_at),
    "creator": lambda v, info: world(info).user(_status(v).creator),
    "avatarUrl": lambda v, _, **__: f"{HOST}/{_status(v).creator}.png",
    "commit": lambda v, _: CommitView(v.repo, v.repo.git.commits[_status(v).sha]),
    "isRequired": lambda v, info, **args: _is_required(v, info, _status(v).context, **args),
}

CHECK_RUN: dict[str, Resolver] = {
    "id": lambda v, _: node_id("CR", _run(v).id),
    "databaseId": lambda v, _: _run(v).id,
    "name": lambda v, _: _run(v).name,
    "status": lambda v, _: _run(v).status.upper(),
    "conclusion": lambda v, _: (_run(v).conclusion or "").upper() or None,
    "detailsUrl": lambda v, _: _run(v).details_url or None,
    "startedAt": lambda v, _: iso(_run(v).started_at),
    "completedAt": lambda v, _: iso(_run(v).completed_at),
    "url": lambda v, _: f"{v.repo.url}/runs/{_run(v).id}",
    "permalink": lambda v, _: f"{v.repo.url}/runs/{_run(v).id}",
    "resourcePath": lambda v, _: f"/{v.repo.full_name}/runs/{_run(v).id}",
    "title": lambda v, _: None,
    "summary": lambda v, _: None,
    "text": lambda v, _: None,
    "repository": lambda v, _: v.repo,
    "isRequired": lambda v, info, **args: _is_required(v, info, _run(v).name, **args),
}


RULE: dict[str, Resolver] = {
    "id": lambda v, _: node_id("BPR", v.rule.id),
    "databaseId": lambda v, _: v.rule.id,
    "pattern": lambda v, _: v.rule.pattern,
    "requiredStatusCheckContexts": lambda v, _: list(v.rule.contexts),
    "requiredStatusChecks": lambda v, _: [{"context": c, "app": None} for c in v.rule.contexts],
    "requiresStatusChecks": lambda v, _: bool(v.rule.contexts or v.rule.strict),
    "requiresStrictStatusChecks": lambda v, _: v.rule.strict,
    "restrictsPushes": lambda v, _: not v.rule.allow_direct_push,
    "allowsForcePushes": lambda v, _: v.rule.allow_force_push,
    "allowsDeletions": lambda v, _: v.rule.allow_deletion,
    "isAdminEnforced": lambda v, _: False,
    "requiresApprovingReviews": lambda v, _: False,
    "requiredApprovingReviewCount": lambda v, _: 0,
    "requiresCodeOwnerReviews": lambda v, _: False,
    "requiresCommitSignatures": lambda v, _: False,
    "requiresConversationResolution": lambda v, _: False,
    "requiresLinearHistory": lambda v, _: False,
    "dismissesStaleReviews": lambda v, _: False,
    "lockBranch": lambda v, _: False,
    "repository": lambda v, _: v.repo,
    "matchingRefs": lambda v, _, **args: connection(
        [RefView(v.repo, b) for b in sorted(v.repo.git.branches) if v.repo.protection(b) is v.rule],
        args,
    ),
}
