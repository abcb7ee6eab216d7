"""Tide's own JSON for `/` and `/history`, field for field, so Prow's Deck can read us (pure).

Our pools map onto Tide's buckets: SuccessPRs passed a staging run on the current base (or
already contain it with green checks), PendingPRs are in a pending run, MissingPRs are the
other eligible PRs, BatchPending the PRs of a pending run of more than one PR.
"""

from __future__ import annotations

from collections.abc import Iterable

from tide.model import Blocker, PullRequest
from tide.prow_record import JSON, github_pr, go_time
from tide.report import PoolReport, SyncReport
from tide.strategies.steps import read_runs
from tide.template import pull_request_fields


def prow_pr(pr: PullRequest) -> JSON:
    """Tide's `CodeReviewCommon`: the flat fields Deck reads, plus the GitHub struct."""
    return {
        **pull_request_fields(pr),
        "UpdatedAtTime": go_time(pr.updated_at),
        "GitHub": github_pr(pr),
        "Gerrit": None,
    }


def _prs(prs: Iterable[PullRequest]) -> list[JSON]:
    return [prow_pr(pr) for pr in sorted(prs, key=lambda p: p.number)]


def _blocker(blocker: Blocker) -> JSON:
    return {"Number": blocker.number, "Title": blocker.title, "URL": blocker.url}


Buckets = tuple[list[PullRequest], list[PullRequest], list[PullRequest], list[PullRequest]]


def buckets(pool: PoolReport) -> Buckets:
    """Tide's (SuccessPRs, PendingPRs, MissingPRs, BatchPending) of one pool."""
    state = pool.state
    book = read_runs(state)
    success = {p.number for r in book.passed for p in r.run.prs} | set(book.up_to_date)
    pending = set(book.busy) - success
    batch = {p.number for r in book.pending if len(r.run.prs) > 1 for p in r.run.prs}
    eligible = state.eligible
    return (
        [pr for pr in eligible if pr.number in success],
        [pr for pr in eligible if pr.number in pending],
        [pr for pr in eligible if pr.number not in success | pending],
        [pr for pr in eligible if pr.number in batch],
    )


def prow_pool(pool: PoolReport) -> JSON:
    state = pool.state
    success, pending, missing, batch = buckets(pool)
    return {
        "Org": state.org,
        "Repo": state.repo,
        "Branch": state.branch,
        "SuccessPRs": _prs(success),
        "PendingPRs": _prs(pending),
        "MissingPRs": _prs(missing),
        "BatchPending": _prs(batch),
        "Action": pool.decision.action.value,
        "Target": _prs(pool.decision.prs),
        "Blockers": [_blocker(b) for b in sorted(state.blockers, key=lambda b: b.number)],
        "Error": pool.error,
        "TenantIDs": [],
    }


def prow_pools(report: SyncReport | None) -> list[JSON]:
    """`GET /`: every pool, sorted by org, repo and branch, as Tide serves them."""
    if report is None:
        return []
    pools = sorted(report.pools, key=lambda p: (p.state.org, p.state.repo, p.state.branch))
    return [prow_pool(p) for p in pools]
