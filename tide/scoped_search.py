"""The sync's PR search, kept partial when GitHub refuses a scope.

GitHub refuses a whole search when one `repo:`/`org:` it names does not exist or the token
cannot see it (a renamed repository, revoked access): one such name would hide every PR of
the query. So a refused query is re-run once per name it names; the names refused alone are
remembered (`Unsearchable`), left out of later searches, and tried alone again every
`RECHECK_EVERY`, the pace at which the sync re-reads unreachable repositories.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from tide.github.errors import GitHubError, Unsearchable
from tide.github.records import SearchResult
from tide.model import PullRequest
from tide.policy import Query

log = structlog.get_logger()

RECHECK_EVERY = timedelta(minutes=5)

Searcher = Callable[[str, Query], Awaitable[SearchResult[PullRequest]]]


def unsearchable_reason(name: str) -> str:
    kind = "repository" if "/" in name else "organization"
    return f"{kind} {name} cannot be searched: it does not exist or the token cannot see it"


def scope_names(query: Query) -> list[str]:
    """The orgs and repositories a query names (what GitHub may refuse one by one)."""
    return [*query.orgs, *query.repos]


def per_org(query: Query) -> list[tuple[str, Query]]:
    """Prow's `OrgQueries`: the query once per org it names, over that org's scope only, so
    each org's App installation searches its own."""
    names = scope_names(query)
    orgs = sorted({n.split("/", 1)[0] for n in names})
    return [(org, narrowed(query, [n for n in names if n.split("/", 1)[0] == org])) for org in orgs]


def narrowed(query: Query, names: Iterable[str]) -> Query:
    """The query over only `names` of its scope (its exclusions kept)."""
    keep = set(names)
    orgs = tuple(o for o in query.orgs if o in keep)
    return replace(
        query,
        orgs=orgs,
        repos=tuple(r for r in query.repos if r in keep),
        excluded_repos=tuple(r for r in query.excluded_repos if r.split("/", 1)[0] in orgs),
    )


@dataclass
class RefusedScopes:
    """Names GitHub's search refused, with when that was last seen."""

    checked: dict[str, datetime] = field(default_factory=dict)

    def due(self, now: datetime) -> list[str]:
        return sorted(n for n, at in self.checked.items() if now - at >= RECHECK_EVERY)

    def repos(self) -> dict[tuple[str, str], str]:
        """`(org, repo)` -> why, for the errored pools."""
        found: dict[tuple[str, str], str] = {}
        for name in self.checked:
            org, sep, repo = name.partition("/")
            if sep:
                found[(org, repo)] = unsearchable_reason(name)
        return found

    def orgs(self) -> list[str]:
        return sorted(n for n in self.checked if "/" not in n)

    def forget_unless(self, names: set[str]) -> None:
        """A name no query names any more is no longer a problem."""
        for name in [n for n in self.checked if n not in names]:
            del self.checked[name]


@dataclass
class Found:
    prs: dict[str, PullRequest] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


async def search_queries(
    queries: Sequence[tuple[str, Query]],
    search: Searcher,
    book: RefusedScopes,
    now: datetime,
    *,
    recheck: bool,
) -> Found:
    """Search each `(org, query)` less the names in `book`; a refused query is re-run per
    name; with `recheck`, names due for it are tried alone again."""
    found = Found()
    jobs: list[tuple[str, Query]] = []
    for org, query in queries:
        names = [n for n in scope_names(query) if n not in book.checked]
        if len(names) == len(scope_names(query)):
            jobs.append((org, query))
        elif names:
            jobs.append((org, narrowed(query, names)))
    if recheck:
        due = set(book.due(now))
        for org, query in queries:
            jobs += [(org, narrowed(query, [n])) for n in scope_names(query) if n in due]
    retry: list[tuple[str, Query]] = []
    for (org, query), result in zip(jobs, await _run(jobs, search), strict=True):
        names = scope_names(query)
        if isinstance(result, Unsearchable) and len(names) > 1:
            retry += [(org, narrowed(query, [n])) for n in names]
        else:
            _take(found, book, names, result, now)
    for (_, query), result in zip(retry, await _run(retry, search), strict=True):
        _take(found, book, scope_names(query), result, now)
    return found


async def _run(
    jobs: list[tuple[str, Query]], search: Searcher
) -> list[SearchResult[PullRequest] | GitHubError]:
    async def one(org: str, query: Query) -> SearchResult[PullRequest] | GitHubError:
        try:
            result = await search(org, query)
        except GitHubError as exc:
            return exc
        if isinstance(result.error, Unsearchable) and not result.items:
            return result.error
        return result

    return list(await asyncio.gather(*(one(org, q) for org, q in jobs)))


def _take(
    found: Found,
    book: RefusedScopes,
    names: list[str],
    result: SearchResult[PullRequest] | GitHubError,
    now: datetime,
) -> None:
    if isinstance(result, Unsearchable) and len(names) == 1:
        if names[0] not in book.checked and "/" not in names[0]:
            # (a repository's errored pool logs `repository_unreachable` itself)
            log.error("search_refused", scope=names[0], error=unsearchable_reason(names[0]))
        book.checked[names[0]] = now
        return
    if isinstance(result, GitHubError):
        found.errors.append(str(result))
        return
    if result.error is not None:
        found.errors.append(str(result.error))
    elif len(names) == 1 and book.checked.pop(names[0], None) is not None and "/" not in names[0]:
        log.info("search_accepted", scope=names[0])
    for pr in result.items:
        found.prs[pr.key] = pr
