"""History records for what happened to a pool besides its own actions: a staging run
that failed, a PR found to break the build, a PR GitHub refused to merge. `/history` and
the dashboard's history show them beside Tide's MERGE and TRIGGER records (pure)."""

from __future__ import annotations

from datetime import datetime

from tide.history import Record, Target, targets
from tide.model import PullRequest
from tide.pool import Culprit
from tide.staging import RunResult

STAGING_FAILED = "STAGING_FAILED"
CULPRIT = "CULPRIT"
SET_ASIDE = "SET_ASIDE"


def failed_run(result: RunResult, prs: dict[int, PullRequest], now: datetime) -> Record:
    """A staging run that failed: its PRs, and each failed context with its link."""
    run = result.run
    failed = "; ".join(
        f"{c.name} {c.state.value.lower()}" + (f" ({c.target_url})" if c.target_url else "")
        for c in result.failed
    )
    return Record(
        time=now,
        action=STAGING_FAILED,
        base_sha=run.base_sha,
        target=tuple(
            Target.of(prs[p.number]) if p.number in prs else Target(p.number, "", p.head_sha, "")
            for p in run.prs
        ),
        err=failed or result.reason,
        reason=f"staging run {run.ref} failed: {result.reason}",
    )


def culprit(found: Culprit, base_sha: str, status: str, now: datetime) -> Record:
    return Record(
        time=now,
        action=CULPRIT,
        base_sha=base_sha,
        target=targets([found.pr]),
        reason=status,
    )


def set_aside(pr: PullRequest, why: str, base_sha: str, now: datetime) -> Record:
    return Record(
        time=now,
        action=SET_ASIDE,
        base_sha=base_sha,
        target=targets([pr]),
        err=f"GitHub refused the merge: {why}",
        reason="set aside until its head, labels or the branch protection change",
    )
