"""The queue as our API and pages show it: every pool with its queue in order, built from
the last `SyncReport` (pure; the server, the dashboard and `tide status` share it)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from tide.history import History, Record
from tide.model import Blocker
from tide.report import PoolReport, SyncReport
from tide.views.queue import (
    NOTHING_DONE,
    Done,
    QueueEntry,
    RunView,
    queue_of,
    run_views,
    waiting_of,
)

HISTORY_PER_POOL = 10


@dataclass(frozen=True, slots=True)
class PoolView:
    """One pool: what the last sync decided, the queue in order, and who is left out."""

    key: str
    org: str
    repo: str
    branch: str
    base_sha: str
    action: str
    reason: str
    targets: tuple[int, ...]
    error: str
    blockers: tuple[Blocker, ...]
    queue: tuple[QueueEntry, ...]  # eligible PRs, in queue order
    waiting: tuple[QueueEntry, ...]  # found by the search, not eligible
    runs: tuple[RunView, ...]
    merged: tuple[int, ...]
    history: tuple[Record, ...]  # newest first

    @property
    def in_flight(self) -> tuple[RunView, ...]:
        return tuple(r for r in self.runs if r.current)


@dataclass(frozen=True, slots=True)
class SyncView:
    """The last sync as a whole."""

    started_at: datetime
    finished_at: datetime
    duration: float
    prs: int
    errors: tuple[str, ...]
    graphql_cost: int
    rate_remaining: int | None


@dataclass(frozen=True, slots=True)
class Overview:
    """Everything `/api/v1/pools`, the dashboard and `tide status` show."""

    now: datetime
    sync_period: float
    sync: SyncView | None
    config_problems: tuple[str, ...]
    pools: tuple[PoolView, ...]
    instance: str = ""
    # Repository (or "*" for all) -> why this instance stands by and writes nothing there.
    standby: dict[str, str] = field(default_factory=dict)


def done_of(pool: PoolReport) -> Done:
    execution = pool.execution
    if execution is None:
        return NOTHING_DONE
    return Done(
        merged=tuple(p.number for p in execution.merged),
        triggered=tuple(execution.triggered),
        dropped=tuple(execution.dropped),
    )


def pool_view(pool: PoolReport, now: datetime, history: Sequence[Record] = ()) -> PoolView:
    state, decision = pool.state, pool.decision
    done = done_of(pool)
    return PoolView(
        key=pool.key,
        org=state.org,
        repo=state.repo,
        branch=state.branch,
        base_sha=state.base_sha,
        action=decision.action.value,
        reason=decision.reason,
        targets=decision.numbers,
        error=pool.error,
        blockers=state.blockers,
        queue=queue_of(state, decision, done, now),
        waiting=waiting_of(pool.verdicts),
        runs=run_views(state, now, done),
        merged=done.merged,
        history=tuple(history[:HISTORY_PER_POOL]),
    )


def sync_view(report: SyncReport) -> SyncView:
    return SyncView(
        started_at=report.started_at,
        finished_at=report.finished_at,
        duration=report.duration,
        prs=len(report.prs),
        errors=report.errors,
        graphql_cost=report.graphql_cost,
        rate_remaining=report.rate_remaining,
    )


def overview(
    report: SyncReport | None,
    history: History,
    *,
    now: datetime,
    sync_period: float,
    config_problems: Sequence[str] = (),
    instance: str = "",
) -> Overview:
    pools = report.pools if report is not None else ()
    return Overview(
        now=now,
        sync_period=sync_period,
        sync=sync_view(report) if report is not None else None,
        config_problems=tuple(config_problems),
        pools=tuple(pool_view(p, now, history.records(p.key)) for p in pools),
        instance=instance,
        standby=dict(report.standby) if report is not None else {},
    )
