"""Tide's search strings, token for token (Prow's `TestOrgQueries`, `TestQuery`)."""

from __future__ import annotations

from datetime import UTC, datetime

from tide.github.search_query import (
    blocker_org_queries,
    blocker_query,
    open_prs_queries,
    open_prs_query,
    org_exceptions_and_repos,
    query_string,
    updated_window,
)
from tide.policy import Query
from tide.scoped_search import per_org

BATMAN = Query(
    orgs=("org",),
    repos=("k/k", "k/t-i"),
    excluded_repos=("org/repo",),
    labels=("lgtm", "approved", "this,or,that"),
    missing_labels=("foo",),
    author="batman",
    milestone="milestone",
    review_approved_required=True,
)


def tokens(text: str) -> list[str]:
    return sorted(text.split(" "))


def test_tide_query_contains_every_token_once():
    tokens = query_string(BATMAN).split(" ")

    expected = {
        "is:pr",
        "state:open",
        "archived:false",
        'label:"lgtm"',
        'label:"approved"',
        'label:"this","or","that"',
        '-label:"foo"',
        'author:"batman"',
        'milestone:"milestone"',
        "review:approved",
        'org:"org"',
        'repo:"k/k"',
        'repo:"k/t-i"',
        '-repo:"org/repo"',
    }
    assert set(tokens) == expected
    assert len(tokens) == len(expected)


def test_tide_query_orders_criteria_then_org_groups_sorted_by_org():
    query = Query(
        orgs=("zeta",),
        repos=("alpha/one", "zeta-x/two"),
        excluded_repos=("zeta/skip",),
        labels=("lgtm",),
        missing_labels=("hold",),
        author="a",
        excluded_branches=("dev", "old"),
        milestone="m",
        review_approved_required=True,
    )

    assert query_string(query) == (
        'is:pr state:open archived:false author:"a" -base:"dev" -base:"old" '
        'label:"lgtm" -label:"hold" milestone:"m" review:approved '
        'repo:"alpha/one" org:"zeta" -repo:"zeta/skip" repo:"zeta-x/two"'
    )


def test_included_branches_come_after_excluded_and_before_labels():
    query = Query(repos=("o/r",), included_branches=("main", "release"), labels=("lgtm",))

    assert query_string(query) == (
        'is:pr state:open archived:false base:"main" base:"release" label:"lgtm" repo:"o/r"'
    )


def test_repos_not_shaped_org_slash_repo_are_ignored():
    query = Query(repos=("o/r", "nonsense", "a/b/c"))

    assert query_string(query) == 'is:pr state:open archived:false repo:"o/r"'


def test_org_queries_give_one_search_per_org():
    queries = {org: query_string(scoped) for org, scoped in per_org(BATMAN)}

    assert set(queries) == {"org", "k"}
    assert 'org:"org"' in queries["org"] and '-repo:"org/repo"' in queries["org"]
    assert 'repo:"k/k"' in queries["k"] and 'repo:"k/t-i"' in queries["k"]
    assert "repo:" not in queries["org"].replace('-repo:"org/repo"', "")
    for text in queries.values():
        assert text.startswith("is:pr state:open archived:false author:")


def test_open_prs_queries_per_org_for_the_status_controller():
    queries = open_prs_queries(
        {"org": {"org/repo1", "org/repo2"}, "kuber": set()}, ["k8s/k8s", "k8s/t-i"]
    )

    assert {org: tokens(q) for org, q in queries.items()} == {
        "org": tokens(
            'is:pr state:open sort:updated-asc archived:false org:"org" '
            '-repo:"org/repo1" -repo:"org/repo2"'
        ),
        "kuber": tokens('archived:false is:pr org:"kuber" sort:updated-asc state:open'),
        "k8s": tokens(
            'archived:false is:pr repo:"k8s/k8s" repo:"k8s/t-i" sort:updated-asc state:open'
        ),
    }
    assert queries["org"] == (
        'is:pr state:open sort:updated-asc archived:false org:"org" '
        '-repo:"org/repo1" -repo:"org/repo2"'
    )


def test_open_prs_query_without_app_auth_is_one_search_over_every_org():
    text = open_prs_query({"org": {"org/repo1"}, "kuber": set()}, ["k8s/k8s"])

    assert text == (
        "is:pr state:open sort:updated-asc archived:false "
        'repo:"k8s/k8s" org:"kuber" org:"org" -repo:"org/repo1"'
    )


def test_org_exceptions_and_repos_intersects_exclusions_of_every_query_of_an_org():
    queries = [
        Query(orgs=("k8s",), excluded_repos=("k8s/k8s",)),
        Query(orgs=("kuber",), repos=("foo/bar", "baz/bar"), excluded_repos=("kuber/netes",)),
        Query(orgs=("k8s",), excluded_repos=("k8s/k8s", "k8s/t-i")),
        Query(orgs=("org", "org2"), excluded_repos=("org2/repo", "org2/repo2", "org2/repo3")),
        Query(orgs=("foo",), repos=("org2/repo3",)),
    ]

    orgs, repos = org_exceptions_and_repos(queries)

    assert orgs == {
        "foo": frozenset(),
        "k8s": frozenset({"k8s/k8s"}),
        "kuber": frozenset({"kuber/netes"}),
        "org": frozenset(),
        "org2": frozenset({"org2/repo", "org2/repo2"}),
    }
    assert repos == {"foo/bar", "baz/bar", "org2/repo3"}


def test_blocker_query_is_the_label_plus_the_scope_sorted_without_repeats():
    text = blocker_query("blocker", {"k8s": set(), "kuber": set()}, ["k8s/t-i", "k8s/k8s"])

    assert set(text.split(" ")) == {
        "is:issue",
        "state:open",
        'label:"blocker"',
        'org:"k8s"',
        'org:"kuber"',
        'repo:"k8s/t-i"',
        'repo:"k8s/k8s"',
    }
    assert text.split(" ") == sorted(text.split(" "))


def test_blocker_org_queries_split_the_scope_per_org():
    queries = blocker_org_queries("blocker", {"k8s": {"k8s/old"}}, ["other/repo"])

    assert queries == {
        "k8s": '-repo:"k8s/old" is:issue label:"blocker" org:"k8s" state:open',
        "other": 'is:issue label:"blocker" repo:"other/repo" state:open',
    }


def test_updated_window_floors_the_start_at_githubs_founding():
    end = datetime(2026, 1, 5, 9, 30, 15, 999, tzinfo=UTC)

    assert updated_window(None, end) == "updated:2007-01-01T00:00:00Z..2026-01-05T09:30:15Z"
    assert updated_window(datetime(1999, 1, 1, tzinfo=UTC), end).startswith(
        "updated:2007-01-01T00:00:00Z.."
    )
    assert updated_window(datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC), end) == (
        "updated:2025-03-04T05:06:07Z..2026-01-05T09:30:15Z"
    )
