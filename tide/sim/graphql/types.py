"""The GraphQL root (`Query`) and the dispatch of each field to its type's resolver table;
an unserved field is an explicit NOT_SIMULATED error, never a silent null."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLResolveInfo

from tide.sim.graphql import search as search_syntax
from tide.sim.graphql.items import (
    ACTOR,
    COMMENT,
    ISSUE,
    LABEL,
    MILESTONE,
    PR_COMMIT,
    PULL_REQUEST,
)
from tide.sim.graphql.repo import (
    CHECK_RUN,
    COMMIT,
    REF,
    REPOSITORY,
    ROLLUP,
    RULE,
    STATUS,
    STATUS_CONTEXT,
)
from tide.sim.graphql.views import GitHubError, Resolver, connection, ctx, world
from tide.sim.world.entities import iso, parse_node_id
from tide.sim.world.world import World

MAX_SEARCH_RESULTS = 1000


def resolve_field(source: Any, info: GraphQLResolveInfo, **args: Any) -> Any:
    table = RESOLVERS.get(info.parent_type.name)
    if table is not None and info.field_name in table:
        return table[info.field_name](source, info, **args)
    if isinstance(source, dict):
        value = source.get(info.field_name)
        # Connections compute their edges only when a query asks for them.
        return value() if callable(value) else value
    raise GitHubError(
        f"The simulator does not serve {info.parent_type.name}.{info.field_name}", "NOT_SIMULATED"
    )


# -- Query -------------------------------------------------------------------------------


def _search(_: Any, info: GraphQLResolveInfo, *, query: str, type: str, **args: Any) -> Any:
    if type != "ISSUE":
        return connection([], args, extra=_search_counts(0))
    try:
        parsed = search_syntax.parse(query)
    except search_syntax.SearchSyntaxError as err:
        raise GitHubError(str(err), "INVALID_SEARCH") from None
    w = world(info)
    _check_scope(w, parsed)
    items = (
        item
        for repo in w.repos.values()
        if parsed.may_match_repo(repo.owner, repo.full_name)
        for kind in (("pr", repo.pulls), ("issue", repo.issues))
        if not parsed.types or kind[0] in parsed.types
        for item in kind[1].values()
    )
    found = parsed.run(items, seed=w.seed)
    reachable = found[:MAX_SEARCH_RESULTS]
    return connection(reachable, args, extra=_search_counts(len(found)))


UNSEARCHABLE = (
    "The listed users and repositories cannot be searched either because the resources do "
    "not exist or you do not have permission to view them."
)
UNSEARCHABLE_USERS = (
    "The listed users cannot be searched either because the users do not exist or you do "
    "not have permission to view the users."
)


def _check_scope(w: World, parsed: search_syntax.Search) -> None:
    """GitHub refuses the whole search (type INVALID, no data) when one `repo:`, `org:` or
    `user:` it names does not exist or the token cannot see it; one such name hides every
    other repository of the query."""
    repos = w.repos
    names = {name.lower() for name in repos}
    owners = {repo.owner.lower() for repo in repos.values()}
    owners |= {login.lower() for login in w.users}
    if any(name not in names for name in parsed.scope_repos):
        raise GitHubError(UNSEARCHABLE, "INVALID")
    if any(owner not in owners for owner in parsed.scope_orgs):
        raise GitHubError(UNSEARCHABLE_USERS, "INVALID")


def _search_counts(issues: int) -> dict[str, int]:
    return {
        "issueCount": issues,
        "codeCount": 0,
        "discussionCount": 0,
        "repositoryCount": 0,
        "userCount": 0,
        "wikiCount": 0,
    }


def _repository(_: Any, info: GraphQLResolveInfo, *, owner: str, name: str, **__: Any) -> Any:
    for repo in world(info).repos.values():
        if repo.owner.lower() == owner.lower() and repo.name.lower() == name.lower():
            return repo
    raise GitHubError(
        f"Could not resolve to a Repository with the name '{owner}/{name}'.", "NOT_FOUND"
    )


def _node(info: GraphQLResolveInfo, value: str) -> Any:
    parsed = parse_node_id(value)
    w = world(info)
    if parsed is not None:
        kind, parts = parsed
        repos = {str(r.id): r for r in w.repos.values()}
        if kind == "R" and parts[0] in repos:
            return repos[parts[0]]
        if kind in ("PR", "I") and len(parts) == 2 and parts[0] in repos:
            item = repos[parts[0]].item(int(parts[1]))
            if item is not None and (kind == "PR") == item.is_pull:
                return item
    raise GitHubError(f"Could not resolve to a node with the global id of '{value}'", "NOT_FOUND")


def _user(info: GraphQLResolveInfo, login: str, *, org: bool | None = None) -> Any:
    user = world(info).users.get(login)
    if user is None or (org is not None and user.is_org != org):
        kind = "Organization" if org else "User"
        raise GitHubError(
            f"Could not resolve to a {kind} with the login of '{login}'.", "NOT_FOUND"
        )
    return user


QUERY: dict[str, Resolver] = {
    "search": _search,
    "repository": _repository,
    "viewer": lambda _, info: world(info).user(ctx(info).login),
    "rateLimit": lambda _, info, **__: {
        "cost": ctx(info).cost,
        "limit": ctx(info).window.limit,
        "remaining": ctx(info).window.remaining,
        "used": ctx(info).window.used,
        "resetAt": iso(ctx(info).window.reset_at),
        "nodeCount": ctx(info).nodes,
    },
    "node": lambda _, info, id: _node(info, id),
    "nodes": lambda _, info, ids: [_node(info, i) for i in ids],
    "user": lambda _, info, login: _user(info, login, org=False),
    "organization": lambda _, info, login: _user(info, login, org=True),
    "repositoryOwner": lambda _, info, login: world(info).users.get(login),
}


RESOLVERS: dict[str, dict[str, Resolver]] = {
    "Query": QUERY,
    "Repository": REPOSITORY,
    "Ref": REF,
    "Commit": COMMIT,
    "Status": STATUS,
    "StatusCheckRollup": ROLLUP,
    "StatusContext": STATUS_CONTEXT,
    "CheckRun": CHECK_RUN,
    "Issue": ISSUE,
    "PullRequest": PULL_REQUEST,
    "PullRequestCommit": PR_COMMIT,
    "IssueComment": COMMENT,
    "Label": LABEL,
    "Milestone": MILESTONE,
    "BranchProtectionRule": RULE,
    "User": ACTOR,
    "Bot": ACTOR,
    "Organization": ACTOR,
}
