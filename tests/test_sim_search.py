"""GitHub's issue search as the simulator serves it: qualifiers, order, paging, the 1,000 cap."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conftest import SimHTTP

from tide.clock import VirtualClock
from tide.sim import World
from tide.sim.graphql.search import date_range, parse, tokenize

SEARCH = """
query Search($q: String!, $first: Int, $after: String) {
  search(type: ISSUE, query: $q, first: $first, after: $after) {
    issueCount
    pageInfo { hasNextPage endCursor }
    nodes {
      __typename
      ... on PullRequest { number repository { nameWithOwner } }
      ... on Issue { number repository { nameWithOwner } }
    }
  }
}
"""


def keys(reply_body: dict) -> list[str]:
    return [
        f"{n['repository']['nameWithOwner']}#{n['number']}"
        for n in reply_body["data"]["search"]["nodes"]
    ]


def build_world(world: World) -> None:
    """org/repo: PRs #1-#7 and issue #8 in distinct states; other/repo #1; org/old archived."""
    world.create_repo("org/repo")
    world.create_repo("other/repo")
    world.create_repo("org/old", archived=True)
    world.push_branch("org/repo", "release", files={"r.txt": "r"})
    world.open_pr("org/repo", files={"1": "1"}, labels=["lgtm"], author="carol")  # 1
    world.open_pr("org/repo", files={"2": "2"}, labels=["lgtm", "approved"], review="APPROVED")
    world.open_pr("org/repo", files={"3": "3"}, labels=["lgtm", "hold"], base="release")  # 3
    world.open_pr("org/repo", files={"4": "4"}, author="dependabot[bot]", milestone="v1")  # 4
    world.open_pr("org/repo", files={"5": "5"}, labels=["bug"], head_ref="fix/5")  # 5
    closed = world.open_pr("org/repo", files={"6": "6"}, labels=["lgtm"])
    world.close_pr(closed)
    merged = world.open_pr("org/repo", files={"7": "7"}, labels=["lgtm"])
    world.merge_pr(merged)
    world.open_issue("org/repo", "Blocker", labels=["blocker"])  # 8
    world.open_pr("other/repo", files={"1": "1"}, labels=["lgtm"])
    world.open_pr("org/old", files={"1": "1"}, labels=["lgtm"])


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("is:pr state:open repo:org/repo", {1, 2, 3, 4, 5}),
        ("is:issue state:open repo:org/repo", {8}),
        ("is:pr is:merged repo:org/repo", {7}),
        ("is:pr state:closed repo:org/repo", {6, 7}),
        ('is:pr state:open repo:"org/repo" author:"carol"', {1}),
        ("is:pr state:open repo:org/repo author:dependabot", {4}),
        ('is:pr state:open repo:org/repo -base:"release"', {1, 2, 4, 5}),
        ('is:pr state:open repo:org/repo base:"release"', {3}),
        ('is:pr state:open repo:org/repo head:"fix/5"', {5}),
        ('is:pr state:open repo:org/repo label:"lgtm"', {1, 2, 3}),
        ('is:pr state:open repo:org/repo label:"approved","bug"', {2, 5}),
        ('is:pr state:open repo:org/repo label:"lgtm" label:"approved"', {2}),
        ('is:pr state:open repo:org/repo label:lgtm -label:"hold"', {1, 2}),
        ('is:pr state:open repo:org/repo milestone:"v1"', {4}),
        ("is:pr state:open repo:org/repo review:approved", {2}),
    ],
)
async def test_search_qualifiers_filter_like_github(
    world: World, http: SimHTTP, query: str, expected: set[int]
) -> None:
    build_world(world)
    reply = await http.graphql(SEARCH, {"q": query, "first": 100})
    assert reply.status == 200
    assert {int(k.rsplit("#", 1)[1]) for k in keys(reply.body)} == expected


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ('org:"org"', {"org/repo#1", "org/old#1"}),
        ('org:"org" archived:false', {"org/repo#1"}),
        ('org:"org" -repo:"org/old"', {"org/repo#1"}),
        ('org:"org" repo:"other/repo" archived:false', {"org/repo#1", "other/repo#1"}),
        ('repo:"other/repo"', {"other/repo#1"}),
    ],
)
async def test_scope_qualifiers_combine_org_and_repo_as_alternatives(
    world: World, http: SimHTTP, scope: str, expected: set[str]
) -> None:
    build_world(world)
    query = f'is:pr state:open label:"lgtm" -label:"hold" -label:"approved" {scope}'
    reply = await http.graphql(SEARCH, {"q": query, "first": 100})
    assert set(keys(reply.body)) == expected


def test_updated_ranges_are_inclusive_and_open_ended_with_a_star() -> None:
    clock = VirtualClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    world = World(clock)
    world.create_repo("org/repo")
    for _ in range(4):  # updated at 09:00:00, :10, :20, :30
        world.open_pr("org/repo")
        clock.advance(10)

    def numbers(q: str) -> list[int]:
        items = world.repo("org/repo").pulls.values()
        return sorted(i.number for i in parse(f"is:pr {q}").run(items))

    assert numbers("updated:2026-01-05T09:00:10Z..2026-01-05T09:00:20Z") == [2, 3]
    assert numbers("updated:*..2026-01-05T09:00:10Z") == [1, 2]
    assert numbers("updated:2026-01-05T09:00:20Z..*") == [3, 4]
    assert numbers("updated:>2026-01-05T09:00:20Z") == [4]
    assert numbers("updated:2026-01-05") == [1, 2, 3, 4]
    assert numbers("updated:2007-01-01T00:00:00Z..2026-01-05T08:59:59Z") == []


async def test_a_label_change_moves_updated_at_into_a_later_window(
    virtual_world: World, virtual_clock: VirtualClock
) -> None:
    virtual_world.create_repo("org/repo")
    pr = virtual_world.open_pr("org/repo")
    created = pr.updated_at
    virtual_clock.advance(60)
    virtual_world.add_label(pr, "lgtm")
    assert (pr.updated_at - created).total_seconds() == 60


async def test_best_match_order_is_stable_but_not_number_order(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    for _ in range(30):
        world.open_issue("org/repo", "issue")
    query = {"q": "is:issue repo:org/repo", "first": 100}

    first = keys((await http.graphql(SEARCH, query)).body)
    again = keys((await http.graphql(SEARCH, query)).body)

    numbers = [int(k.rsplit("#", 1)[1]) for k in first]
    assert first == again
    assert numbers != sorted(numbers) and numbers != sorted(numbers, reverse=True)


async def test_sort_qualifiers_order_by_time(
    virtual_world: World, virtual_clock: VirtualClock, virtual_http: SimHTTP
) -> None:
    virtual_world.create_repo("org/repo")
    for _ in range(5):
        virtual_world.open_issue("org/repo", "issue")
        virtual_clock.advance(1)
    virtual_world.comment(virtual_world.repo("org/repo").issues[2], "bump")

    async def order(sort: str) -> list[int]:
        reply = await virtual_http.graphql(SEARCH, {"q": f"is:issue {sort}", "first": 10})
        return [int(k.rsplit("#", 1)[1]) for k in keys(reply.body)]

    assert await order("sort:created-asc") == [1, 2, 3, 4, 5]
    assert await order("sort:updated-asc") == [1, 3, 4, 5, 2]
    assert await order("sort:updated-desc") == [2, 5, 4, 3, 1]


async def test_pages_follow_cursors_without_gaps_or_repeats(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    for _ in range(25):
        world.open_issue("org/repo", "issue")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        reply = await http.graphql(
            SEARCH, {"q": "is:issue repo:org/repo", "first": 10, "after": cursor}
        )
        search = reply.body["data"]["search"]
        seen += keys(reply.body)
        pages += 1
        assert search["issueCount"] == 25
        if not search["pageInfo"]["hasNextPage"]:
            break
        cursor = search["pageInfo"]["endCursor"]
    assert pages == 3
    assert sorted(seen) == sorted({f"org/repo#{n}" for n in range(1, 26)})


async def test_only_the_first_1000_results_are_reachable(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    for _ in range(1050):
        world.open_issue("org/repo", "issue")
    reached: set[str] = set()
    cursor = None
    for _ in range(12):
        reply = await http.graphql(
            SEARCH, {"q": "is:issue repo:org/repo", "first": 100, "after": cursor}
        )
        search = reply.body["data"]["search"]
        reached |= set(keys(reply.body))
        assert search["issueCount"] == 1050
        cursor = search["pageInfo"]["endCursor"]
        if not search["pageInfo"]["hasNextPage"]:
            break
    assert len(reached) == 1000
    beyond = await http.graphql(
        SEARCH, {"q": "is:issue repo:org/repo", "first": 100, "after": cursor}
    )
    assert beyond.body["data"]["search"]["nodes"] == []


async def test_search_without_first_is_refused_with_github_s_error(
    world: World, http: SimHTTP
) -> None:
    reply = await http.graphql(SEARCH, {"q": "is:pr"})
    assert reply.status == 200
    assert reply.body.get("data") is None
    [error] = reply.body["errors"]
    assert error["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert error["message"] == (
        "You must provide a `first` or `last` value to properly paginate the `search` connection."
    )


async def test_a_page_larger_than_100_is_refused(world: World, http: SimHTTP) -> None:
    reply = await http.graphql(SEARCH, {"q": "is:pr", "first": 101})
    [error] = reply.body["errors"]
    assert error["type"] == "EXCESSIVE_PAGINATION"
    assert error["message"] == (
        "Requesting 101 records on the `search` connection exceeds the `first` limit"
        " of 100 records."
    )


async def test_a_malformed_cursor_is_an_error(world: World, http: SimHTTP) -> None:
    reply = await http.graphql(SEARCH, {"q": "is:pr", "first": 10, "after": "not a cursor"})
    assert reply.body["errors"][0]["type"] == "INVALID_CURSOR_ARGUMENTS"


def test_tokenizer_reads_quoted_and_comma_separated_values() -> None:
    terms = tokenize('is:pr label:"a b","c" -label:x author:"bat man" free')
    assert [(t.key, t.values, t.negated) for t in terms] == [
        ("is", ("pr",), False),
        ("label", ("a b", "c"), False),
        ("label", ("x",), True),
        ("author", ("bat man",), False),
        (None, ("free",), False),
    ]


def test_date_ranges_accept_dates_timestamps_and_stars() -> None:
    low, high = date_range("2007-01-01T00:00:00Z..*")
    assert low == datetime(2007, 1, 1, tzinfo=UTC)
    assert high.year == 9999
    low, high = date_range("2026-01-05")
    assert (low.hour, high.hour, high.minute) == (0, 23, 59)
