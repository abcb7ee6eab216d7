"""The two-step PR read: a lean search finds which PRs match (identity and `updatedAt`, 1 point
a page of 100), then `nodes(ids:)` reads everything the criteria need, 100 PRs a request.

GitHub's cost formula charges the connections inside a search page once per node (labels,
comments, commits and their check runs: 7 points a page), but those inside a `nodes` list once
per request (1 point), so the same facts cost about a quarter as much. Both steps run in the
same call, so what the caller gets is as fresh as one fat search would have been.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from sys import intern
from typing import Protocol

from tide.github import decode
from tide.github.budget import parse_time
from tide.github.errors import GitHubError
from tide.github.http import JSON
from tide.model import PullRequest

MAX_IDS = 100  # GitHub resolves at most 100 ids per `nodes` call


class DocumentRunner(Protocol):
    async def run(
        self, name: str, variables: Mapping[str, object] | None = None
    ) -> dict[str, JSON]: ...


@dataclass(frozen=True, slots=True)
class PullRequestRef:
    """A search hit of `search_pull_request_ids`: which PR, and when it last changed."""

    org: str
    repo: str
    number: int
    node_id: str
    updated_at: datetime | None


def pull_request_ref(node: JSON) -> PullRequestRef | None:
    if not isinstance(node, dict) or node.get("__typename", "PullRequest") != "PullRequest":
        return None
    repository = node["repository"]
    updated = node.get("updatedAt")
    return PullRequestRef(
        org=intern(repository["owner"]["login"]),
        repo=intern(repository["name"]),
        number=int(node["number"]),
        node_id=str(node["id"]),
        updated_at=parse_time(updated) if isinstance(updated, str) else None,
    )


async def read_details(
    graphql: DocumentRunner, refs: Sequence[PullRequestRef]
) -> tuple[list[PullRequest], GitHubError | None]:
    """Every PR of `refs` that is still open, fully read; on an error, what was read before it.

    A PR that closed or merged between the search and this read is left out, as the search
    would have left it out a moment later."""
    found: list[PullRequest] = []
    ids = [ref.node_id for ref in refs]
    for start in range(0, len(ids), MAX_IDS):
        chunk = ids[start : start + MAX_IDS]
        try:
            data = await graphql.run("pull_request_details", {"ids": chunk})
            nodes = data["nodes"]
            if not isinstance(nodes, list):
                raise TypeError("nodes is not a list")
            for node in nodes:
                if not isinstance(node, dict) or node.get("state", "OPEN") != "OPEN":
                    continue
                pr = decode.pull_request(node)
                if pr is not None:
                    found.append(pr)
        except GitHubError as exc:
            return found, exc
        except (KeyError, TypeError, ValueError) as exc:
            error = GitHubError(
                f"unexpected response shape ({type(exc).__name__}: {exc})",
                endpoint="GraphQL pull_request_details",
            )
            return found, error
    return found, None
