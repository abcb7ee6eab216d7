"""Values that GraphQL resolvers hand around: small views over world objects, and
GitHub's cursor pagination for connections."""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from tide.sim.world.budget import Window
from tide.sim.world.entities import (
    CheckRunRecord,
    Protection,
    SimComment,
    SimIssue,
    SimLabel,
    SimMilestone,
    SimPR,
    SimRepo,
    SimUser,
    StatusRecord,
)
from tide.sim.world.git import Commit
from tide.sim.world.world import World

Resolver = Callable[..., Any]


class GitHubError(GraphQLError):
    """A GraphQL error carrying GitHub's `type` (NOT_FOUND, INVALID_CURSOR_ARGUMENTS, ...)."""

    def __init__(self, message: str, error_type: str) -> None:
        super().__init__(message, extensions={"type": error_type})


@dataclass
class Context:
    """Per-request state every resolver can reach through `info.context`."""

    world: World
    login: str
    window: Window
    cost: int
    nodes: int


@dataclass(frozen=True, slots=True)
class CommitView:
    repo: SimRepo
    commit: Commit
    graphql_type = "Commit"


@dataclass(frozen=True, slots=True)
class RefView:
    repo: SimRepo
    name: str  # the branch name
    prefix: str = "refs/heads/"
    graphql_type = "Ref"


@dataclass(frozen=True, slots=True)
class StatusView:
    repo: SimRepo
    sha: str
    graphql_type = "Status"


@dataclass(frozen=True, slots=True)
class RollupView:
    repo: SimRepo
    sha: str
    graphql_type = "StatusCheckRollup"


@dataclass(frozen=True, slots=True)
class ContextView:
    """A status context or check run, with the repository it belongs to."""

    repo: SimRepo
    record: StatusRecord | CheckRunRecord

    @property
    def graphql_type(self) -> str:
        return "CheckRun" if isinstance(self.record, CheckRunRecord) else "StatusContext"


@dataclass(frozen=True, slots=True)
class CommentView:
    item: SimIssue
    comment: SimComment
    graphql_type = "IssueComment"


@dataclass(frozen=True, slots=True)
class PRCommitView:
    pr: SimPR
    commit: Commit
    graphql_type = "PullRequestCommit"


@dataclass(frozen=True, slots=True)
class LabelView:
    repo: SimRepo
    label: SimLabel
    graphql_type = "Label"


@dataclass(frozen=True, slots=True)
class MilestoneView:
    repo: SimRepo
    milestone: SimMilestone
    graphql_type = "Milestone"


@dataclass(frozen=True, slots=True)
class RuleView:
    repo: SimRepo
    rule: Protection
    graphql_type = "BranchProtectionRule"


def ctx(info: GraphQLResolveInfo) -> Context:
    return info.context


def world(info: GraphQLResolveInfo) -> World:
    return ctx(info).world


TYPE_NAMES: dict[type, str] = {SimPR: "PullRequest", SimIssue: "Issue", SimRepo: "Repository"}


def graphql_type_of(value: Any, *_: Any) -> str | None:
    """The concrete GraphQL type of a resolved value (for unions and interfaces)."""
    if isinstance(value, dict):
        return value.get("__typename")
    if isinstance(value, SimUser):
        return value.graphql_type
    name = TYPE_NAMES.get(type(value))
    return name or getattr(value, "graphql_type", None)


def encode_cursor(position: int) -> str:
    return base64.b64encode(f"cursor:{position}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.b64decode(cursor.encode(), validate=True).decode()
        kind, _, number = text.partition(":")
        if kind != "cursor":
            raise ValueError(kind)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise GitHubError(
            f'`"{cursor}"` does not appear to be a valid cursor.', "INVALID_CURSOR_ARGUMENTS"
        ) from None


def connection(
    items: Sequence[Any],
    args: dict[str, Any],
    *,
    total: int | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A GitHub connection over `items` honouring first/after/last/before (cursors 1-based)."""
    start, end = 0, len(items)
    if args.get("after") is not None:
        start = max(start, decode_cursor(args["after"]))
    if args.get("before") is not None:
        end = min(end, decode_cursor(args["before"]) - 1)
    end = max(start, end)
    first, last = args.get("first"), args.get("last")
    if first is not None:
        end = min(end, start + max(0, first))
    if last is not None:
        start = max(start, end - max(0, last))
    window = items[start:end]
    out = {
        "nodes": list(window),
        "edges": lambda: [
            {"node": node, "cursor": encode_cursor(start + i + 1)} for i, node in enumerate(window)
        ],
        "totalCount": len(items) if total is None else total,
        "pageInfo": {
            "hasNextPage": end < len(items),
            "hasPreviousPage": start > 0,
            "startCursor": encode_cursor(start + 1) if window else None,
            "endCursor": encode_cursor(end) if window else None,
        },
    }
    if extra:
        out.update(extra)
    return out
