"""Paged GitHub search for PRs and blocker issues: every page of 100, and `updated:` time windows
split recursively until each holds at most the 1,000 results one search can reach.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, Protocol, TypeVar

import structlog

from tide.clock import Clock
from tide.github import decode
from tide.github.budget import parse_time
from tide.github.errors import GitHubError
from tide.github.http import JSON
from tide.github.pr_details import PullRequestRef, pull_request_ref, read_details
from tide.github.records import SearchResult
from tide.github.search_query import SEARCH_EPOCH, format_time, updated_window
from tide.model import Blocker, PullRequest

log = structlog.get_logger()

T = TypeVar("T", PullRequest, Blocker, PullRequestRef)

# GitHub serves at most this many results of one search, whatever the issueCount says.
SEARCH_CAP = 1000
# Aim below the cap when splitting, so a piece that the sample misjudged still fits.
SPLIT_TARGET = 800
ONE_SECOND = timedelta(seconds=1)


@dataclass
class _Collected(Generic[T]):
    items: dict[str, T] = field(default_factory=dict)
    truncated: bool = False


class DocumentRunner(Protocol):
    """What search needs of `tide.github.graphql.GraphQL`: run a document by name."""

    async def run(
        self, name: str, variables: Mapping[str, object] | None = None
    ) -> dict[str, JSON]: ...


class Search:
    def __init__(self, graphql: DocumentRunner, clock: Clock) -> None:
        self._graphql = graphql
        self._clock = clock

    async def pull_requests(
        self,
        query: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        skip: Callable[[PullRequestRef], bool] | None = None,
    ) -> SearchResult[PullRequest]:
        """Every open PR matching a Tide search string, updated within [start, end]: which ones
        from a lean search, then their details by id (a quarter of the points of one search
        with every field; see `tide.github.pr_details`). Hits `skip` says the caller already
        read at this `updatedAt` get no detail read and are left out."""
        found = await self._search("search_pull_request_ids", pull_request_ref, query, start, end)
        wanted = [ref for ref in found.items if skip is None or not skip(ref)]
        prs, error = await read_details(self._graphql, wanted)
        if error is not None:
            log.warning("github.details_partial", query=query, read=len(prs), error=str(error))
        return SearchResult(tuple(prs), found.error or error, found.truncated)

    async def pull_request_refs(
        self, query: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> SearchResult[PullRequestRef]:
        """Which open PRs match, updated within [start, end]: the lean search alone (1 point a
        page), for a caller that keeps what it read and chooses what to read in detail."""
        return await self._search("search_pull_request_ids", pull_request_ref, query, start, end)

    async def details(
        self, refs: Sequence[PullRequestRef]
    ) -> tuple[list[PullRequest], GitHubError | None]:
        """Everything the criteria need of `refs`, read now (closed ones left out)."""
        return await read_details(self._graphql, refs)

    async def issues(
        self, query: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> SearchResult[Blocker]:
        """Every issue matching a search string (the blocker search), as blockers."""
        return await self._search("search_issues", decode.blocker, query, start, end)

    async def _search(
        self,
        name: str,
        decoder: Callable[[JSON], T | None],
        query: str,
        start: datetime | None,
        end: datetime | None,
    ) -> SearchResult[T]:
        lo = _whole_seconds(max(start or SEARCH_EPOCH, SEARCH_EPOCH))
        hi = _whole_seconds(end or self._clock.now())
        found: _Collected[T] = _Collected()
        try:
            try:
                await self._window(name, decoder, query, lo, hi, found)
            except (KeyError, TypeError, ValueError) as exc:
                raise GitHubError(
                    f"unexpected response shape ({type(exc).__name__}: {exc})",
                    endpoint=f"GraphQL {name}",
                ) from None
        except GitHubError as exc:
            log.warning(
                "github.search_partial",
                document=name,
                query=query,
                found=len(found.items),
                error=str(exc),
            )
            return SearchResult(tuple(found.items.values()), exc, found.truncated)
        return SearchResult(tuple(found.items.values()), None, found.truncated)

    async def _window(
        self,
        name: str,
        decoder: Callable[[JSON], T | None],
        query: str,
        lo: datetime,
        hi: datetime,
        found: _Collected[T],
    ) -> None:
        text = f"{query} {updated_window(lo, hi)}"
        search = (await self._graphql.run(name, {"query": text, "cursor": None}))["search"]
        sample = _take(search, decoder, found)
        count = search["issueCount"]
        if count > SEARCH_CAP:
            cuts: list[datetime] = split_points(lo, hi, sample, parts=-(-count // SPLIT_TARGET))
            if cuts:
                bounds = [lo, *cuts, hi + ONE_SECOND]
                for start, stop in itertools.pairwise(bounds):
                    await self._window(name, decoder, query, start, stop - ONE_SECOND, found)
                return
            found.truncated = True
            log.warning(
                "github.search_truncated",
                document=name,
                window=f"{format_time(lo)}..{format_time(hi)}",
                matches=count,
            )
        while search["pageInfo"]["hasNextPage"]:
            cursor = search["pageInfo"]["endCursor"]
            search = (await self._graphql.run(name, {"query": text, "cursor": cursor}))["search"]
            _take(search, decoder, found)


def split_points(
    lo: datetime, hi: datetime, sample: list[datetime], *, parts: int
) -> list[datetime]:
    """Where to cut [lo, hi] so each piece holds about 1/`parts` of the matches: at quantiles
    of the `updatedAt` times of the first page (GitHub's best-match order is not by time, so
    it is a fair sample), in equal spans of time when the page came sorted by time; at the
    midpoint when the sample cannot separate them. Each cut
    starts a new window; none when the window is a single second."""
    inside = sorted(t for t in sample if lo < t <= hi)
    cuts: list[datetime] = []
    if parts >= 2 and _in_time_order(sample):
        # A `sort:updated` query's first page is the oldest (or newest) hundred, not a fair
        # sample: cut the window into equal spans of time instead.
        step = (hi - lo) / parts
        cuts = sorted({_whole_seconds(lo + step * j) + ONE_SECOND for j in range(1, parts)})
        cuts = [c for c in cuts if lo < c <= hi]
    elif parts >= 2 and inside:
        cuts = sorted({inside[(j * len(inside)) // parts] for j in range(1, parts)})
    if not cuts and hi - lo >= ONE_SECOND:
        cuts = [_whole_seconds(lo + (hi - lo) / 2) + ONE_SECOND]
    return cuts


def _in_time_order(sample: list[datetime]) -> bool:
    """A page whose update times only rise (or only fall) came from a sorted search."""
    if len(sample) < 10:
        return False
    pairs = list(itertools.pairwise(sample))
    return all(a <= b for a, b in pairs) or all(a >= b for a, b in pairs)


def _take(
    search: JSON, decoder: Callable[[JSON], T | None], found: _Collected[T]
) -> list[datetime]:
    """Add a page's items to `found`; returns their update times (the sample for splitting)."""
    times: list[datetime] = []
    for node in search["nodes"] or []:
        item = decoder(node)
        if item is None:
            continue
        found.items[_key(item)] = item
        updated = node.get("updatedAt")
        if isinstance(updated, str):
            times.append(_whole_seconds(parse_time(updated)))
    return times


def _key(item: PullRequest | Blocker | PullRequestRef) -> str:
    return f"{item.org}/{item.repo}#{item.number}"


def _whole_seconds(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(microsecond=0)
