"""Tide's GitHub search strings, built from `tide.policy.Query` token for token (pure).

Org groups are emitted in sorted order (Prow leaves it to Go's map order), so a string is
stable from one sync to the next.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from tide.policy import Query

# GitHub was founded in 2007: no PR was updated before, and searches start there.
SEARCH_EPOCH = datetime(2007, 1, 1, tzinfo=UTC)
# GitHub's search index lags: an `updated:` search re-reads this much before the newest
# update seen (as Tide's status controller does), so a PR indexed late is not missed.
SEARCH_OVERLAP = timedelta(seconds=30)
OPEN_PRS = ("is:pr", "state:open", "archived:false")
STATUS_OPEN_PRS = ("is:pr", "state:open", "sort:updated-asc", "archived:false")


def query_string(query: Query) -> str:
    """Prow's `TideQuery.Query()`: the criteria, then every org's scope group."""
    groups = _scope_groups(query)
    return " ".join([*_criteria(query), *(t for org in sorted(groups) for t in groups[org])])


def org_exceptions_and_repos(
    queries: Sequence[Query],
) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Every org any query covers, with the repos excluded by *every* query covering it (less
    those some query names explicitly), and every explicitly named repo."""
    exceptions: dict[str, set[str]] = {}
    repos: set[str] = set()
    for query in queries:
        repos.update(query.repos)
        for org in query.orgs:
            excluded = {r for r in query.excluded_repos if r.split("/", 1)[0] == org}
            if org in exceptions:
                exceptions[org] &= excluded
            else:
                exceptions[org] = excluded
    return {org: frozenset(excl - repos) for org, excl in exceptions.items()}, frozenset(repos)


def scope_tokens(
    org_exceptions: Mapping[str, Iterable[str]], repos: Iterable[str]
) -> dict[str, list[str]]:
    """Per org: `org:"o"` and its sorted `-repo:` exceptions, then its sorted `repo:` tokens."""
    groups: dict[str, list[str]] = {}
    for org in sorted(org_exceptions):
        groups[org] = [f'org:"{org}"', *(f'-repo:"{r}"' for r in sorted(org_exceptions[org]))]
    for repo in sorted(repos):
        owner = _org_of(repo)
        if owner is not None:
            groups.setdefault(owner, []).append(f'repo:"{repo}"')
    return groups


def open_prs_queries(
    org_exceptions: Mapping[str, Iterable[str]], repos: Iterable[str]
) -> dict[str, str]:
    """The status controller's per-org search for every open PR, oldest update first."""
    prefix = " ".join(STATUS_OPEN_PRS)
    return {
        org: f"{prefix} {' '.join(group)}"
        for org, group in sorted(scope_tokens(org_exceptions, repos).items())
    }


def open_prs_query(org_exceptions: Mapping[str, Iterable[str]], repos: Iterable[str]) -> str:
    """The same, as one search across every org."""
    groups = scope_tokens(org_exceptions, repos)
    return " ".join([*STATUS_OPEN_PRS, *(t for org in sorted(groups) for t in groups[org])])


def blocker_query(
    label: str, org_exceptions: Mapping[str, Iterable[str]], repos: Iterable[str]
) -> str:
    """Open issues carrying the blocker label anywhere in scope: tokens sorted, no repeats."""
    tokens = {"is:issue", "state:open", f'label:"{label}"'}
    for group in scope_tokens(org_exceptions, repos).values():
        tokens.update(group)
    return " ".join(sorted(tokens))


def blocker_org_queries(
    label: str, org_exceptions: Mapping[str, Iterable[str]], repos: Iterable[str]
) -> dict[str, str]:
    """One blocker search per org (for per-installation App auth)."""
    head = ("is:issue", "state:open", f'label:"{label}"')
    return {
        org: " ".join(sorted({*head, *group}))
        for org, group in sorted(scope_tokens(org_exceptions, repos).items())
    }


def updated_window(start: datetime | None, end: datetime) -> str:
    """`updated:START..END`, inclusive, with the start floored at GitHub's founding."""
    floor = SEARCH_EPOCH if start is None or start < SEARCH_EPOCH else start
    return f"updated:{format_time(floor)}..{format_time(end)}"


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _criteria(query: Query) -> list[str]:
    tokens = list(OPEN_PRS)
    if query.author:
        tokens.append(f'author:"{query.author}"')
    tokens += [f'-base:"{b}"' for b in query.excluded_branches]
    tokens += [f'base:"{b}"' for b in query.included_branches]
    for entry in query.labels:
        tokens.append("label:" + ",".join(f'"{alt}"' for alt in entry.split(",")))
    tokens += [f'-label:"{label}"' for label in query.missing_labels]
    if query.milestone:
        tokens.append(f'milestone:"{query.milestone}"')
    if query.review_approved_required:
        tokens.append("review:approved")
    return tokens


def _scope_groups(query: Query) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {org: [f'org:"{org}"'] for org in query.orgs}
    for repo in query.repos:
        org = _org_of(repo)
        if org is not None:
            groups.setdefault(org, []).append(f'repo:"{repo}"')
    for repo in query.excluded_repos:
        org = _org_of(repo)
        if org is not None:
            groups.setdefault(org, []).append(f'-repo:"{repo}"')
    return groups


def _org_of(repo: str) -> str | None:
    """The org of an `org/repo` string; None for anything else (Prow ignores those)."""
    parts = repo.split("/")
    if len(parts) != 2 or not all(parts):
        return None
    return parts[0]
