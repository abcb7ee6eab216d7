"""GitHub's JSON (GraphQL nodes and REST bodies) turned into `tide.model` values, with Tide's
rules for check runs, head commits and blocker titles. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from sys import intern

from tide.github.budget import parse_time
from tide.github.http import JSON
from tide.github.records import RepositoryState, StagingRef
from tide.model import Blocker, Comment, Context, Mergeable, PullRequest, RepoSettings, State

# Names that thousands of PRs repeat (org, repository, branch, labels, contexts, authors) are
# interned: one string each instead of one per PR, megabytes at 5,000 open PRs.

# Tide's check-run verdicts: these conclusions count as success, any other as failure.
PASSING_CONCLUSIONS = frozenset({"NEUTRAL", "SKIPPED", "SUCCESS"})
# Among same-named check runs the best one stands for the name.
_RANK = {State.SUCCESS: 4, State.PENDING: 3, State.ERROR: 2, State.FAILURE: 2, State.EXPECTED: 1}

BRANCH_TOKEN = re.compile(r"\bbranch:[^\w-]*([\w\-./]+)\b", re.IGNORECASE | re.ASCII)


def pull_request(node: JSON) -> PullRequest | None:
    """One `search` node of `search_pull_requests`; None for anything that is not a PR."""
    if not isinstance(node, dict) or node.get("__typename", "PullRequest") != "PullRequest":
        return None
    repository = node["repository"]
    author = node.get("author") or {}
    base = node.get("baseRef") or {}
    head_oid = node.get("headRefOid") or ""
    commits = ((node.get("commits") or {}).get("nodes")) or []
    milestone = node.get("milestone") or {}
    return PullRequest(
        org=intern(repository["owner"]["login"]),
        repo=intern(repository["name"]),
        number=int(node["number"]),
        title=node.get("title") or "",
        head_sha=head_oid,
        base_ref=intern(base.get("name") or ""),
        author=intern(author.get("login") or ""),
        body=node.get("body") or "",
        author_is_bot=author.get("__typename") == "Bot",
        base_ref_prefix=intern(base.get("prefix") or "refs/heads/"),
        head_ref=node.get("headRefName") or "",
        mergeable=_mergeable(node.get("mergeable")),
        merge_state_status=intern(node.get("mergeStateStatus") or "UNKNOWN"),
        is_draft=bool(node.get("isDraft")),
        review_decision=node.get("reviewDecision"),
        labels=frozenset(intern(label["name"]) for label in _nodes(node.get("labels"))),
        milestone=milestone.get("title"),
        updated_at=_time(node.get("updatedAt")),
        can_be_rebased=node.get("canBeRebased", True) is not False,
        head_contexts=head_contexts(commits, head_oid),
        comments=tuple(c for c in map(_comment, _nodes(node.get("comments"))) if c),
        url=node.get("url") or "",
    )


def head_contexts(commit_nodes: Iterable[JSON], head_oid: str) -> tuple[Context, ...] | None:
    """Contexts of the commit among `commits(last: 4)` whose oid is the head; None when the
    head is not among them (the caller may ask REST instead)."""
    for node in commit_nodes:
        commit = (node or {}).get("commit") or {}
        if head_oid and commit.get("oid") == head_oid:
            return commit_contexts(commit)
    return None


def commit_contexts(commit: JSON) -> tuple[Context, ...]:
    """Status contexts, then check runs (de-duplicated among themselves, not against statuses)."""
    statuses = [status_context(s) for s in ((commit.get("status") or {}).get("contexts") or [])]
    rollup = (commit.get("statusCheckRollup") or {}).get("contexts")
    runs = [
        check_run_context(
            node.get("name") or "",
            node.get("status") or "",
            node.get("conclusion"),
            target_url=node.get("detailsUrl") or "",
            started_at=node.get("startedAt"),
        )
        for node in _nodes(rollup)
        if node.get("__typename", "CheckRun") == "CheckRun"
    ]
    return (*statuses, *best_per_name(c for c in runs if c is not None))


def status_context(node: JSON) -> Context:
    """A commit status (GraphQL or REST); states upper-cased."""
    return Context(
        name=intern(node.get("context") or ""),
        state=_state(node.get("state")),
        description=intern(node.get("description") or ""),
        target_url=node.get("targetUrl") or node.get("target_url") or "",
        created_at=_time(node.get("createdAt") or node.get("created_at")),
        creator=intern(str((node.get("creator") or {}).get("login") or "")),
    )


def check_run_context(
    name: str,
    status: str,
    conclusion: str | None,
    *,
    target_url: str = "",
    started_at: str | None = None,
) -> Context | None:
    """Tide's reading of a check run: unnamed ones do not count; not completed is PENDING;
    NEUTRAL, SKIPPED and SUCCESS pass; every other conclusion (or none) fails."""
    if not name:
        return None
    if status.upper() != "COMPLETED":
        state = State.PENDING
    elif (conclusion or "").upper() in PASSING_CONCLUSIONS:
        state = State.SUCCESS
    else:
        state = State.FAILURE
    return Context(
        name=intern(name),
        state=state,
        target_url=target_url,
        is_check_run=True,
        created_at=_time(started_at),
    )


def best_per_name(contexts: Iterable[Context]) -> tuple[Context, ...]:
    """One context per name, the best by SUCCESS > PENDING > ERROR/FAILURE > EXPECTED,
    in the order the names first appeared."""
    best: dict[str, Context] = {}
    for context in contexts:
        current = best.get(context.name)
        if current is None or _RANK[context.state] > _RANK[current.state]:
            best[context.name] = context
    return tuple(best.values())


def rest_status_contexts(combined: JSON) -> tuple[Context, ...]:
    """`GET /commits/{ref}/status` → contexts (GitHub already keeps the latest per context)."""
    return tuple(status_context(s) for s in (combined or {}).get("statuses") or [])


def rest_check_run_contexts(runs: Iterable[JSON]) -> tuple[Context, ...]:
    """`GET /commits/{ref}/check-runs` items → contexts by the same rules as GraphQL's."""
    contexts = (
        check_run_context(
            run.get("name") or "",
            run.get("status") or "",
            run.get("conclusion"),
            target_url=run.get("details_url") or "",
            started_at=run.get("started_at"),
        )
        for run in runs
    )
    return best_per_name(c for c in contexts if c is not None)


def blocker(node: JSON) -> Blocker | None:
    """One `search_issues` node: an issue carrying the blocker label."""
    if not isinstance(node, dict) or node.get("__typename", "Issue") != "Issue":
        return None
    branches, title = parse_branches(node.get("title") or "")
    repository = node["repository"]
    return Blocker(
        org=repository["owner"]["login"],
        repo=repository["name"],
        number=int(node["number"]),
        title=title,
        url=node.get("url") or "",
        branches=branches,
    )


def parse_branches(title: str) -> tuple[tuple[str, ...], str]:
    """The `branch:NAME` tokens of a blocker title, and the title without them."""
    branches = tuple(m.group(1) for m in BRANCH_TOKEN.finditer(title))
    stripped = " ".join(BRANCH_TOKEN.sub("", title).split())
    return branches, stripped


def repository_settings(repository: JSON) -> RepoSettings:
    return RepoSettings(
        allow_merge=repository.get("mergeCommitAllowed") is not False,
        allow_squash=repository.get("squashMergeAllowed") is not False,
        allow_rebase=repository.get("rebaseMergeAllowed") is not False,
    )


def staging_refs(branch_prefix: str, refs: JSON) -> list[StagingRef]:
    """The `refs(refPrefix:)` page of `repository_state`; GitHub names them relative to the
    prefix, so the branch name is the prefix (less `refs/heads/`) plus that name."""
    found: list[StagingRef] = []
    for node in _nodes(refs):
        target = node.get("target") or {}
        if target.get("__typename", "Commit") != "Commit" or not target.get("oid"):
            continue
        found.append(
            StagingRef(
                name=branch_prefix + node["name"],
                commit_sha=target["oid"],
                message=target.get("message") or "",
                committed_at=_time(target.get("committedDate")),
                contexts=commit_contexts(target),
                tree_sha=str((target.get("tree") or {}).get("oid") or ""),
            )
        )
    return found


def repository_state(
    org: str, repo: str, repository: JSON, refs: Iterable[StagingRef], viewer: str = ""
) -> RepositoryState:
    return RepositoryState(
        org=org,
        repo=repo,
        settings=repository_settings(repository),
        viewer_permission=repository.get("viewerPermission"),
        staging_refs=tuple(refs),
        viewer_login=viewer,
    )


def commit_ancestry(node: JSON | None) -> dict[str, tuple[str, ...]]:
    """`commit_ancestry`'s nested first-parent chain → each commit's parents, in order."""
    found: dict[str, tuple[str, ...]] = {}
    while node and node.get("oid"):
        parents = tuple(str(p["oid"]) for p in _nodes(node.get("parents")) if p.get("oid"))
        found[str(node["oid"])] = parents
        firsts = _nodes(node.get("firstParent"))
        node = firsts[0] if firsts else None
    return found


def rest_mergeable(value: object) -> Mergeable:
    """REST's `mergeable`: true, false, or null while GitHub has not computed it."""
    if value is True:
        return Mergeable.MERGEABLE
    if value is False:
        return Mergeable.CONFLICTING
    return Mergeable.UNKNOWN


def _mergeable(value: object) -> Mergeable:
    try:
        return Mergeable(str(value))
    except ValueError:
        return Mergeable.UNKNOWN


def _state(value: object) -> State:
    try:
        return State(str(value or "").upper())
    except ValueError:
        return State.ERROR


def _comment(node: JSON) -> Comment | None:
    created = _time(node.get("createdAt"))
    if created is None:
        return None
    return Comment(
        author=(node.get("author") or {}).get("login") or "",
        body=node.get("body") or "",
        created_at=created,
        association=str(node.get("authorAssociation") or ""),
    )


def _nodes(connection: JSON) -> list[JSON]:
    return [n for n in ((connection or {}).get("nodes") or []) if n]


def _time(value: object) -> datetime | None:
    return parse_time(value) if isinstance(value, str) and value else None
