"""The sync's search, kept between syncs: which open PRs each query matches, so that a sync
asks GitHub's search only for what changed, then reads every matching PR in full.

Only *which* PRs match is remembered, never what they hold: every PR the sync judges (and so
may stage or merge) is read by id in the sync that acts on it, so CI results and mergeability,
which change without bumping a PR's `updatedAt`, are always fresh. Membership changes only
with an update GitHub's search sees (a label, a push, a review, a new or retargeted PR), so:

- a *sweep* (the first search, then every `SWEEP_EVERY`, and after any error) lists every
  match, as a plain search would;
- between sweeps, a search of the same query with `updated:` from `SEARCH_OVERLAP` before the newest
  update seen (search indexing lags) adds what newly matches; a member read in full with an
  `updatedAt` inside that window that the search did not return no longer matches; a member
  the full read does not find open (merged, closed) is gone. (One updated in the second the
  search ran may not have been in it yet: it stays until the next search.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tide.github.client import GitHub
from tide.github.pr_details import PullRequestRef
from tide.github.records import SearchResult
from tide.github.search_query import SEARCH_OVERLAP
from tide.model import PullRequest

SWEEP_EVERY = timedelta(minutes=30)


@dataclass
class _Matches:
    members: dict[str, PullRequestRef] = field(default_factory=dict)
    newest: datetime | None = None  # the newest `updatedAt` a search returned
    swept_at: datetime | None = None


@dataclass
class RememberedSearch:
    """Per search string (and the org whose client runs it): the PRs it matches."""

    _matches: dict[tuple[str, str], _Matches] = field(default_factory=dict)
    _used: set[tuple[str, str]] = field(default_factory=set)
    swept: int = 0  # sweeps run (for tests and the bench's breakdown)

    def start_sync(self) -> None:
        self._used = set()

    def finish_sync(self) -> None:
        """Forget the searches this full sync did not run (the config dropped them)."""
        self._matches = {k: v for k, v in self._matches.items() if k in self._used}

    def force_sweep(self) -> None:
        """After a config change (or a restart of the picture) every search lists all."""
        for matches in self._matches.values():
            matches.swept_at = None

    async def pull_requests(
        self, gh: GitHub, org: str, query: str, now: datetime
    ) -> SearchResult[PullRequest]:
        """Every open PR `query` matches, each read in full now."""
        key = (org, query)
        self._used.add(key)
        matches = self._matches.setdefault(key, _Matches())
        sweep = matches.swept_at is None or now - matches.swept_at >= SWEEP_EVERY
        end = now.astimezone(UTC).replace(microsecond=0)
        start = None if sweep or matches.newest is None else matches.newest - SEARCH_OVERLAP
        found = await gh.search.pull_request_refs(query, start=start, end=end)
        returned = {_key(ref): ref for ref in found.items}
        members = dict(returned) if sweep else {**matches.members, **returned}
        prs, error = await gh.search.details(list(members.values()))
        error = found.error or error
        if error is not None:
            # Partial: act on what was read (as a plain search's partial result), but list
            # every match again next time.
            self._matches[key] = _Matches()
            return SearchResult(tuple(prs), error, found.truncated)
        if sweep:
            self.swept += 1
            matches.swept_at = now
        kept: list[PullRequest] = []
        lo = start.replace(microsecond=0) if start is not None else None
        for pr in prs:
            updated = pr.updated_at
            left = (
                lo is not None
                and pr.key not in returned
                and updated is not None
                and lo <= updated < end
            )
            if not left:
                kept.append(pr)
        read = {pr.key for pr in kept}
        matches.members = {k: ref for k, ref in members.items() if k in read}
        # After a sweep that matched nothing, later searches start from its end.
        newest = max((r.updated_at for r in found.items if r.updated_at), default=None)
        if newest is None and sweep:
            newest = end
        if newest is not None and (matches.newest is None or newest > matches.newest):
            matches.newest = newest
        return SearchResult(tuple(kept), None, found.truncated)


def _key(ref: PullRequestRef) -> str:
    return f"{ref.org}/{ref.repo}#{ref.number}"
