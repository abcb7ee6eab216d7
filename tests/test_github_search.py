"""Paged search: every page, windows split past the 1,000 cap, partial results on failure.

The first tests feed canned pages (Tide's TestSearch, case 243); the last ones search a
simulated GitHub of 2,500 PRs over 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from tide.clock import VirtualClock
from tide.github import GitHub, GitHubEndpoint, StaticToken
from tide.github.errors import GitHubError
from tide.github.http import JSON
from tide.github.search import Search, split_points
from tide.github.search_query import blocker_query, query_string
from tide.policy import Query
from tide.sim import SimServer, World

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def pr_node(number: int) -> dict:
    return {
        "__typename": "PullRequest",
        "id": f"PR_{number}",
        "number": number,
        "title": f"PR {number}",
        "headRefOid": f"{number:040x}",
        "baseRef": {"name": "main", "prefix": "refs/heads/"},
        "repository": {"name": "repo", "owner": {"login": "org"}},
        "commits": {"nodes": []},
    }


def page(numbers: list[int], cursor: str | None, count: int | None = None) -> dict[str, JSON]:
    return {
        "search": {
            "issueCount": len(numbers) if count is None else count,
            "pageInfo": {"hasNextPage": cursor is not None, "endCursor": cursor},
            "nodes": [pr_node(n) for n in numbers],
        }
    }


class CannedGraphQL:
    """Answers `run` with the pages given per cursor; records every search string sent."""

    def __init__(self, pages: Mapping[str | None, dict[str, JSON] | Exception]) -> None:
        self.pages = pages
        self.sent: list[tuple[str, str | None]] = []

    async def run(
        self, name: str, variables: Mapping[str, object] | None = None
    ) -> dict[str, JSON]:
        assert variables is not None
        if name == "pull_request_details":  # the second step: the found PRs by node id
            ids = variables["ids"]
            assert isinstance(ids, list)
            return {"nodes": [pr_node(int(i.removeprefix("PR_"))) for i in ids]}
        cursor = variables["cursor"]
        self.sent.append((str(variables["query"]), cursor))  # type: ignore[arg-type]
        answer = self.pages[cursor]  # type: ignore[index]
        if isinstance(answer, Exception):
            raise answer
        return answer


def numbers(result) -> list[int]:
    return sorted(pr.number for pr in result.items)


async def test_single_page_returns_its_prs():
    runner = CannedGraphQL({None: page([3, 1, 2], None)})

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert numbers(result) == [1, 2, 3]
    assert result.error is None


async def test_first_page_error_returns_the_error_and_no_prs():
    runner = CannedGraphQL({None: GitHubError("boom", endpoint="GraphQL search_pull_requests")})

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert result.items == ()
    assert isinstance(result.error, GitHubError)


async def test_no_start_time_searches_from_githubs_founding_until_now():
    runner = CannedGraphQL({None: page([], None)})

    await Search(runner, VirtualClock(NOW)).pull_requests('is:pr repo:"o/r"')

    assert runner.sent == [
        ('is:pr repo:"o/r" updated:2007-01-01T00:00:00Z..2026-01-05T09:00:00Z', None)
    ]


async def test_every_page_is_followed_by_its_cursor():
    runner = CannedGraphQL(
        {None: page([1], "first"), "first": page([2], "second"), "second": page([3], None)}
    )

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert numbers(result) == [1, 2, 3]
    assert [cursor for _, cursor in runner.sent] == [None, "first", "second"]


async def test_a_later_page_failing_keeps_what_was_found_and_reports_the_error():
    runner = CannedGraphQL(
        {None: page([1, 2], "first"), "first": GitHubError("502 again and again")}
    )

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert numbers(result) == [1, 2]
    assert result.error is not None and "502 again" in str(result.error)


async def test_the_same_pr_on_two_pages_is_found_once():
    runner = CannedGraphQL({None: page([1, 2], "first"), "first": page([2, 3], None)})

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert [pr.key for pr in sorted(result.items, key=lambda p: p.number)] == [
        "org/repo#1",
        "org/repo#2",
        "org/repo#3",
    ]


async def test_a_malformed_answer_is_a_github_error_not_a_crash():
    runner = CannedGraphQL({None: {"search": {"nodes": []}}})

    result = await Search(runner, VirtualClock(NOW)).pull_requests("is:pr")

    assert result.items == ()
    assert isinstance(result.error, GitHubError)
    assert "unexpected response shape" in str(result.error)


async def test_a_one_second_window_over_the_cap_is_read_as_far_as_github_allows():
    runner = CannedGraphQL({None: page([1], None, count=1500)})
    clock = VirtualClock(NOW)

    result = await Search(runner, clock).pull_requests("is:pr", start=NOW, end=NOW)

    assert numbers(result) == [1]
    assert result.truncated


class FakeIndex:
    """A search index of PRs by update time: honours `updated:A..B`, answers in a scrambled
    order, 100 per page, and (like GitHub) lets no query reach past its 1,000th result."""

    def __init__(self, updated: list[datetime], *, by_time: bool = False) -> None:
        self.updated = updated
        self.requests = 0
        self.by_time = by_time  # as with `sort:updated-asc`: oldest first

    async def run(
        self, name: str, variables: Mapping[str, object] | None = None
    ) -> dict[str, JSON]:
        assert variables is not None
        if name == "pull_request_details":
            ids = variables["ids"]
            assert isinstance(ids, list) and len(ids) <= 100
            return {"nodes": [pr_node(int(i.removeprefix("PR_"))) for i in ids]}
        self.requests += 1
        window = str(variables["query"]).rsplit("updated:", 1)[1]
        lo, hi = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in window.split(".."))
        matches = [n for n, t in enumerate(self.updated, 1) if lo <= t <= hi]
        matches.sort(key=lambda n: (n * 7919) % 10007)  # "best match": not by number or time
        if self.by_time:
            matches.sort(key=lambda n: self.updated[n - 1])
        offset = int(str(variables["cursor"] or 0))
        reachable = matches[:1000]
        chunk = reachable[offset : offset + 100]
        more = offset + 100 < len(reachable)
        return {
            "search": {
                "issueCount": len(matches),
                "pageInfo": {"hasNextPage": more, "endCursor": str(offset + 100) if more else None},
                "nodes": [
                    {**pr_node(n), "updatedAt": self.updated[n - 1].strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for n in chunk
                ],
            }
        }


async def test_5000_matches_are_all_found_by_splitting_the_time_window():
    # Bursty history: 3,000 PRs touched within ten minutes, 2,000 spread over a year.
    burst = [NOW - timedelta(seconds=i % 600) for i in range(3000)]
    spread = [NOW - timedelta(hours=4 * i) for i in range(2000)]
    index = FakeIndex(burst + spread)

    result = await Search(index, VirtualClock(NOW)).pull_requests("is:pr")

    assert result.error is None and not result.truncated
    assert numbers(result) == list(range(1, 5001))
    assert index.requests < 80  # 50 pages of results, plus the probes that split windows


async def test_a_search_sorted_by_time_is_split_in_equal_spans_not_by_its_oldest_page():
    """The status pass's `sort:updated-asc` makes the first page the oldest hundred: cut at
    its quantiles, every window but the last would be tiny and the last re-split again and
    again (239 requests for 5,000 PRs in the scale benchmark)."""
    spread = [NOW - timedelta(minutes=5 * i) for i in range(5000)]
    index = FakeIndex(spread, by_time=True)

    result = await Search(index, VirtualClock(NOW)).pull_requests("is:pr sort:updated-asc")

    assert numbers(result) == list(range(1, 5001))
    assert index.requests < 80


async def test_more_than_1000_matches_in_one_second_are_read_as_far_as_possible():
    index = FakeIndex([NOW] * 1200)

    result = await Search(index, VirtualClock(NOW)).pull_requests("is:pr")

    assert len(result.items) == 1000
    assert result.truncated


def test_split_points_follow_the_sample_and_fall_back_to_the_midpoint():
    lo, hi = NOW - timedelta(hours=10), NOW
    sample = [NOW - timedelta(hours=h) for h in (1, 2, 3, 4)]

    assert split_points(lo, hi, sample, parts=2) == [NOW - timedelta(hours=2)]
    assert split_points(lo, hi, [], parts=4) == [NOW - timedelta(hours=5) + timedelta(seconds=1)]
    assert split_points(NOW, NOW, sample, parts=2) == []


# -- against the simulator ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def crowded() -> tuple[World, VirtualClock]:
    """2,500 open PRs with `lgtm`, updated ten seconds apart, plus a blocker issue."""
    clock = VirtualClock(NOW)
    world = World(clock, tokens={"sim-token": "tide-bot"})
    world.create_repo("org/repo")
    world.create_repo("org/other")
    for i in range(2500):
        world.open_pr("org/repo" if i % 5 else "org/other", labels=["lgtm"])
        clock.advance(10)
    world.open_pr("org/repo", labels=["hold"])
    world.open_issue("org/repo", "Freeze branch:release-1", labels=["tide/merge-blocker"])
    return world, clock


async def test_search_across_the_1000_cap_finds_all_2500_prs(crowded):
    world, clock = crowded
    query = query_string(Query(orgs=("org",), labels=("lgtm",)))

    async with (
        SimServer(world) as sim,
        GitHub(
            GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken("sim-token"), clock=clock
        ) as gh,
    ):
        result = await gh.search.pull_requests(query)

    assert result.error is None and not result.truncated
    assert len(result.items) == 2500
    assert len({pr.key for pr in result.items}) == 2500
    assert all("lgtm" in pr.labels for pr in result.items)
    assert {pr.repo for pr in result.items} == {"repo", "other"}


async def test_blocker_search_returns_blockers_with_their_branches(crowded):
    world, clock = crowded
    query = blocker_query("tide/merge-blocker", {"org": set()}, [])

    async with (
        SimServer(world) as sim,
        GitHub(
            GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken("sim-token"), clock=clock
        ) as gh,
    ):
        result = await gh.search.issues(query)

    assert result.error is None
    assert [(b.repo, b.title, b.branches) for b in result.items] == [
        ("repo", "Freeze", ("release-1",))
    ]


async def test_2500_prs_cost_a_point_a_page_to_find_and_a_point_per_100_to_read(crowded):
    """The lean search plus the read by id: what one search with every field cost 7 points a
    page for (over 175 points here) now costs about 2 points per 100 PRs."""
    world, clock = crowded
    query = query_string(Query(orgs=("org",), labels=("lgtm",)))
    before = world.budgets.graphql("sim-token", world.now()).used

    async with (
        SimServer(world) as sim,
        GitHub(
            GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken("sim-token"), clock=clock
        ) as gh,
    ):
        result = await gh.search.pull_requests(query)

    spent = world.budgets.graphql("sim-token", world.now()).used - before
    assert len(result.items) == 2500
    assert all(pr.head_contexts is not None for pr in result.items)
    assert spent <= 60


async def test_a_pr_closed_between_the_search_and_the_read_is_left_out():
    clock = VirtualClock(NOW)
    world = World(clock, tokens={"sim-token": "tide-bot"})
    world.create_repo("org/repo")
    kept = world.open_pr("org/repo", labels=["lgtm"])
    closed = world.open_pr("org/repo", labels=["lgtm"])

    class ClosingRunner:
        """Closes the second PR right after the lean search answered."""

        def __init__(self, inner) -> None:
            self.inner = inner

        async def run(self, name, variables=None):
            if name == "pull_request_details":
                world.close_pr(closed)
            return await self.inner.run(name, variables)

    async with (
        SimServer(world) as sim,
        GitHub(
            GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken("sim-token"), clock=clock
        ) as gh,
    ):
        result = await Search(ClosingRunner(gh.graphql), clock).pull_requests(
            'is:pr repo:"org/repo"'
        )

    assert [pr.number for pr in result.items] == [kept.number]
    assert result.error is None
