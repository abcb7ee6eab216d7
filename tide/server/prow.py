"""Tide's own JSON for `/` and `/history`, field for field, so Prow's Deck can read us (pure).

Our pools map onto Tide's buckets: SuccessPRs passed a staging run on the current base (or
already contain it with green checks), PendingPRs are in a pending run, MissingPRs are the
other eligible PRs, BatchPending the PRs of a pending run of more than one PR.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from tide.model import Blocker, Context, PullRequest
from tide.report import PoolReport, SyncReport
from tide.runbook import read_runs
from tide.template import pull_request_fields

JSON = dict[str, object]
GO_ZERO_TIME = "0001-01-01T00:00:00Z"


def go_time(at: datetime | None) -> str:
    return at.isoformat().replace("+00:00", "Z") if at is not None else GO_ZERO_TIME


def _status_context(ctx: Context) -> JSON:
    return {"Context": ctx.name, "Description": ctx.description, "State": ctx.state.value}


def _check_run(ctx: Context) -> JSON:
    conclusion = "" if ctx.state.value == "PENDING" else ctx.state.value
    status = "IN_PROGRESS" if ctx.state.value == "PENDING" else "COMPLETED"
    return {"CheckRun": {"Name": ctx.name, "Conclusion": conclusion, "Status": status}}


def github_pr(pr: PullRequest) -> JSON:
    """Tide's GraphQL `PullRequest` struct, with Go's field names."""
    contexts = pr.head_contexts or ()
    return {
        "Number": pr.number,
        "Author": {"Login": pr.author},
        "BaseRef": {"Name": pr.base_ref, "Prefix": pr.base_ref_prefix},
        "HeadRefName": pr.head_ref,
        "HeadRefOID": pr.head_sha,
        "Mergeable": pr.mergeable.value,
        "MergeStateStatus": pr.merge_state_status,
        "CanBeRebased": pr.can_be_rebased,
        "IsDraft": pr.is_draft,
        "Repository": {
            "Name": pr.repo,
            "NameWithOwner": pr.repo_key,
            "Owner": {"Login": pr.org},
        },
        "ReviewDecision": pr.review_decision or "",
        "Commits": {
            "Nodes": [
                {
                    "Commit": {
                        "OID": pr.head_sha,
                        "Status": {
                            "Contexts": [_status_context(c) for c in contexts if not c.is_check_run]
                        },
                        "StatusCheckRollup": {
                            "Contexts": {
                                "Nodes": [_check_run(c) for c in contexts if c.is_check_run]
                            }
                        },
                    }
                }
            ]
        },
        "Labels": {"Nodes": [{"Name": name} for name in sorted(pr.labels)]},
        "Milestone": {"Title": pr.milestone} if pr.milestone else None,
        "Body": pr.body,
        "Title": pr.title,
        "UpdatedAt": go_time(pr.updated_at),
    }


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
    success = {p.number for r in book.passed for p in r.run.prs} | set(state.up_to_date)
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
