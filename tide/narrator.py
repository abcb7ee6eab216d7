"""What the sync tells an operator in its log, beyond each action: a staging run that
finished (`staging_finished`), how each pool stands (`pool_summary`, on change and every
few minutes while it holds work), and one `sync` line (at debug when nothing happened).

Every PR is named `org/repo#123`, in `pr` and in lists alike.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from tide.execution import Execution
from tide.pool import Action, Decision, PoolState
from tide.report import SyncReport
from tide.staging import Outcome, RunResult

log = structlog.get_logger()

SUMMARY_EVERY = timedelta(minutes=5)  # an unchanged pool with work is summarized this often


@dataclass(frozen=True, slots=True)
class _Summary:
    queued: int
    in_flight: int
    runs: int
    action: str
    last_merge: str


class Narrator:
    """Remembers just enough to say each thing once."""

    def __init__(self) -> None:
        self._finished: dict[tuple[str, str], Outcome] = {}  # (pool, ref) -> outcome said
        self._summaries: dict[str, tuple[_Summary, datetime]] = {}
        self._eligible_since: dict[str, dict[str, datetime]] = {}  # pool -> PR -> since
        self._last_merge: dict[str, datetime] = {}

    def pool(
        self, state: PoolState, decision: Decision, execution: Execution | None, now: datetime
    ) -> None:
        """After one pool's turn in a sync."""
        log.debug(
            "pool_decision",
            pool=state.key,
            action=decision.action.value,
            reason=decision.reason,
            eligible=[pr.key for pr in state.eligible],
            runs=[f"{r.run.ref}: {r.outcome.value}" for r in state.runs],
            set_aside=sorted(f"{state.org}/{state.repo}#{p.number}" for p in state.set_aside),
        )
        if execution is not None and execution.merged:
            self._last_merge[state.key] = now
        self._summary(state, decision, now)

    def runs_finished(self, state: PoolState) -> list[RunResult]:
        """Before the pool acts: each staging run that reached a verdict, said once; the
        failed ones newly seen (for the history)."""
        failed: list[RunResult] = []
        current = {(state.key, r.run.ref) for r in state.runs}
        for key in [k for k in self._finished if k[0] == state.key and k not in current]:
            del self._finished[key]
        for result in state.runs:
            key = (state.key, result.run.ref)
            if result.outcome == Outcome.PENDING or self._finished.get(key) == result.outcome:
                continue
            self._finished[key] = result.outcome
            _say_finished(state, result)
            if result.outcome == Outcome.FAILURE:
                failed.append(result)
        return failed

    def _summary(self, state: PoolState, decision: Decision, now: datetime) -> None:
        eligible = {pr.key for pr in state.eligible}
        before = self._eligible_since.get(state.key, {})
        since = self._eligible_since[state.key] = {k: before.get(k, now) for k in eligible}
        pending = [r for r in state.runs if r.outcome == Outcome.PENDING]
        last_merge = self._last_merge.get(state.key)
        summary = _Summary(
            queued=len(eligible),
            in_flight=len({p.number for r in pending for p in r.run.prs}),
            runs=len(pending),
            action=decision.action.value,
            last_merge=last_merge.isoformat() if last_merge else "",
        )
        said = self._summaries.get(state.key)
        busy = summary.queued or summary.in_flight
        if said is not None and said[0] == summary:
            if not busy or now - said[1] < SUMMARY_EVERY:
                return
        elif said is None and not busy and decision.action == Action.WAIT:
            self._summaries[state.key] = (summary, now)
            return
        self._summaries[state.key] = (summary, now)
        oldest = min(since.values(), default=None)
        log.info(
            "pool_summary",
            pool=state.key,
            queued=summary.queued,
            in_flight=summary.in_flight,
            runs=summary.runs,
            oldest_waiting=round((now - oldest).total_seconds()) if oldest else None,
            last_merge=summary.last_merge or None,
            action=summary.action,
        )

    def sync(self, report: SyncReport) -> None:
        """The sync's own line: info when it did something, debug when idle."""
        actions = Counter(p.decision.action.value for p in report.pools)
        merged = sum(len(p.execution.merged) for p in report.pools if p.execution)
        busy = merged or report.errors or any(a != Action.WAIT.value for a in actions)
        (log.info if busy else log.debug)(
            "sync",
            pools=len(report.pools),
            open_prs=len(report.prs),
            eligible=sum(len(p.state.eligible) for p in report.pools),
            actions=dict(sorted(actions.items())),
            merges=merged,
            duration=round(report.duration, 3),
            graphql_cost=report.graphql_cost,
            rate_remaining=report.rate_remaining,
            errors=len(report.errors),
        )


def _say_finished(state: PoolState, result: RunResult) -> None:
    run = result.run
    failed = [
        {"context": c.name, "state": c.state.value.lower(), "url": c.target_url or None}
        for c in result.failed
    ]
    (log.info if result.outcome == Outcome.SUCCESS else log.warning)(
        "staging_finished",
        pool=state.key,
        run=run.ref,
        prs=[f"{run.org}/{run.repo}#{p.number}" for p in run.prs],
        outcome=result.outcome.value.lower(),
        reason=result.reason,
        failed=failed,
        commit=run.commit_sha,
        base=run.base_sha,
        attempt=run.attempt,
    )
