"""Many repositories' states in one request: merge settings, staging branches, and the
commit each default branch points to, read by node id 100 repositories at a time.

One `repository_state` request per repository costs a point each (50 points a sync for 50
repositories); inside `nodes(ids:)` GitHub's formula counts the staging refs connection
once per request, so 100 repositories cost 1 point. A repository's node id is read once and
kept; one with more than 100 staging branches, or one the batch could not resolve, is read
alone as before, so the answer is the same as reading each repository by itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from tide.github import decode
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.http import JSON
from tide.github.records import RepositoryRead, RepositoryUnreadable

MAX_IDS = 100

RepoKey = tuple[str, str]  # (org, repo)


@dataclass
class RepoReads:
    """One sync's reads: each repository's state (or why it could not be read), and the
    commit of each default branch that came with it, by (org, repo, branch)."""

    states: dict[RepoKey, RepositoryRead] = field(default_factory=dict)
    heads: dict[tuple[str, str, str], str] = field(default_factory=dict)


class RepositoryStates:
    """Reads repository states in batches; keeps only the repositories' node ids."""

    def __init__(self) -> None:
        self._ids: dict[RepoKey, str] = {}

    async def read(self, gh: GitHub, wanted: Mapping[RepoKey, str]) -> RepoReads:
        """The state of each repository of `wanted` (org, repo) -> staging prefix."""
        reads = RepoReads()
        alone: list[RepoKey] = []
        by_prefix: dict[str, list[RepoKey]] = defaultdict(list)
        for key, prefix in sorted(wanted.items()):
            node_id = await self._node_id(gh, key)
            if node_id is None:
                alone.append(key)
            else:
                by_prefix[prefix].append(key)
        for prefix, keys in by_prefix.items():
            for start in range(0, len(keys), MAX_IDS):
                chunk = keys[start : start + MAX_IDS]
                alone += await self._batch(gh, chunk, prefix, reads)
        for key in alone:
            reads.states[key] = await _one(gh, key, wanted[key])
        return reads

    async def _node_id(self, gh: GitHub, key: RepoKey) -> str | None:
        if key not in self._ids:
            try:
                data = await gh.graphql.run("repository_id", {"owner": key[0], "name": key[1]})
                repository = data.get("repository")
                if not isinstance(repository, dict) or not repository.get("id"):
                    return None
                self._ids[key] = str(repository["id"])
            except GitHubError:
                return None  # read alone, which reports the error in its own words
        return self._ids[key]

    async def _batch(
        self, gh: GitHub, keys: list[RepoKey], prefix: str, reads: RepoReads
    ) -> list[RepoKey]:
        """Read `keys` in one request into `reads`; returns those to read alone."""
        variables = {
            "ids": [self._ids[k] for k in keys],
            "stagingPrefix": f"refs/heads/{prefix}",
            "cursor": None,
        }
        try:
            data = await gh.graphql.run("repository_states", variables)
            nodes = data["nodes"]
            if not isinstance(nodes, list) or len(nodes) != len(keys):
                raise TypeError("nodes does not match the ids asked for")
        except (GitHubError, KeyError, TypeError):
            for key in keys:
                self._ids.pop(key, None)  # perhaps renamed or recreated: look it up again
            return keys
        alone: list[RepoKey] = []
        viewer = str((data.get("viewer") or {}).get("login") or "")
        for key, node in zip(keys, nodes, strict=True):
            if not _is(node, key):
                self._ids.pop(key, None)
                alone.append(key)
                continue
            refs = node["refs"]
            if refs["pageInfo"]["hasNextPage"]:
                alone.append(key)  # more than one page of staging branches: page them alone
                continue
            found = decode.staging_refs(prefix, refs)
            reads.states[key] = decode.repository_state(key[0], key[1], node, found, viewer)
            default = node.get("defaultBranchRef") or {}
            oid = (default.get("target") or {}).get("oid")
            if default.get("name") and oid:
                reads.heads[(key[0], key[1], str(default["name"]))] = str(oid)
        return alone


def _is(node: JSON, key: RepoKey) -> bool:
    """The node is the repository asked for (ids are kept across syncs; names may change)."""
    if not isinstance(node, dict) or node.get("__typename", "Repository") != "Repository":
        return False
    owner = (node.get("owner") or {}).get("login") or ""
    return bool(
        owner.lower() == key[0].lower() and str(node.get("name", "")).lower() == key[1].lower()
    )


async def _one(gh: GitHub, key: RepoKey, prefix: str) -> RepositoryRead:
    try:
        return await gh.repository_state(key[0], key[1], prefix)
    except GitHubError as exc:
        return RepositoryUnreadable(f"cannot reach repository {key[0]}/{key[1]}: {exc}")
