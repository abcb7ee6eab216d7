"""`GitHub`: the one object the daemon holds to talk to GitHub (GraphQL, REST, search, budget).

async with GitHub(GitHubEndpoint(graphql_url, api_url), tokens, clock=clock) as gh:
    found = await gh.search.pull_requests(query_string(q))
    await gh.rest.merge_pull(org, repo, number, sha=sha, method="squash")
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType

from tide.clock import Clock, RealClock
from tide.github import decode
from tide.github.auth import TokenSource
from tide.github.budget import RateBudget
from tide.github.graphql import GraphQL
from tide.github.http import HttpTransport, RequestCounters
from tide.github.records import RepositoryState, StagingRef
from tide.github.rest import Rest
from tide.github.retry import RetryPolicy
from tide.github.search import Search
from tide.model import PullRequest
from tide.write_pace import WritePace

DEFAULT_GRAPHQL_URL = "https://api.github.com/graphql"
DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True, slots=True)
class GitHubEndpoint:
    """Where GitHub is: the config's `github.graphql_url` and `github.api_url`."""

    graphql_url: str = DEFAULT_GRAPHQL_URL
    api_url: str = DEFAULT_API_URL


class GitHub:
    """Bundles one HTTP session with the GraphQL client, REST calls, search and the budget."""

    def __init__(
        self,
        endpoint: GitHubEndpoint,
        tokens: TokenSource,
        *,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rng: random.Random | None = None,
        writes: WritePace | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.clock = clock or RealClock()
        self.http = HttpTransport(tokens, self.clock, policy=retry, rng=rng)
        self.budget = RateBudget()
        self.graphql = GraphQL(self.http, endpoint.graphql_url, self.budget, self.clock)
        # The instance's write budget: shared by every client of one daemon (`Clients`).
        self.writes = writes or WritePace()
        self.rest = Rest(self.http, endpoint.api_url, self.writes, self.clock)
        self.search = Search(self.graphql, self.clock)

    @property
    def counters(self) -> RequestCounters:
        return self.http.counters

    async def __aenter__(self) -> GitHub:
        await self.http.open()
        await self.graphql.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        await self.graphql.close()
        await self.http.close()

    # -- GraphQL reads ------------------------------------------------------------------------

    async def viewer(self) -> str:
        """The token's login, via GraphQL (also fills the budget): the start-up check."""
        data = await self.graphql.run("viewer")
        return str(data["viewer"]["login"])

    async def branch_commit(self, org: str, repo: str, branch: str) -> tuple[str, str] | None:
        """The SHA `branch` points to and its tree ("" when not said), or None when absent."""
        data = await self.graphql.run(
            "branch_head",
            {"owner": org, "name": repo, "qualifiedName": f"refs/heads/{branch}"},
        )
        ref = (data.get("repository") or {}).get("ref")
        if not ref:
            return None
        target = ref["target"]
        return str(target["oid"]), str((target.get("tree") or {}).get("oid") or "")

    async def repository_state(
        self, org: str, repo: str, staging_prefix: str = "tide/"
    ) -> RepositoryState:
        """Merge settings plus every staging branch under `staging_prefix`, all pages."""
        refs: list[StagingRef] = []
        cursor: str | None = None
        while True:
            data = await self.graphql.run(
                "repository_state",
                {
                    "owner": org,
                    "name": repo,
                    "stagingPrefix": f"refs/heads/{staging_prefix}",
                    "cursor": cursor,
                },
            )
            repository = data["repository"]
            refs += decode.staging_refs(staging_prefix, repository["refs"])
            info = repository["refs"]["pageInfo"]
            if not info["hasNextPage"]:
                viewer = str((data.get("viewer") or {}).get("login") or "")
                return decode.repository_state(org, repo, repository, refs, viewer)
            cursor = info["endCursor"]

    async def commit_ancestry(self, org: str, repo: str, sha: str) -> dict[str, tuple[str, ...]]:
        """The parents of `sha` and of its first parents, a few generations deep (one call):
        what `tide.evidence` needs to check a staging commit's graph."""
        data = await self.graphql.run("commit_ancestry", {"owner": org, "name": repo, "oid": sha})
        return decode.commit_ancestry((data.get("repository") or {}).get("object"))

    # -- helpers over both APIs ---------------------------------------------------------------

    async def complete_head_contexts(self, prs: Iterable[PullRequest]) -> list[PullRequest]:
        """PRs whose head commit was not among the commits GraphQL returned get their head
        contexts from REST (Tide's fallback); the others are returned unchanged."""
        out: list[PullRequest] = []
        for pr in prs:
            if pr.head_contexts is None:
                contexts = await self.rest.head_contexts(pr.org, pr.repo, pr.head_sha)
                pr = dataclasses.replace(pr, head_contexts=contexts)
            out.append(pr)
        return out
