"""What a sync keeps of each pool's turn: the `pool` log line (a wait said once per
reason, every action in full) and the history's records of actions, culprits, refusals
and failed staging runs (`tide.history`, `tide.happenings`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import structlog

from tide import happenings
from tide.clock import Clock
from tide.culprit import broken_status
from tide.execution import Execution
from tide.history import History, Record, targets
from tide.model import PullRequest
from tide.pool import RECORDED, Action, Decision, PoolState
from tide.staging import RunResult

log = structlog.get_logger()


class PoolRecorder:
    """Writes the log and the history; remembers only each pool's last wait reason."""

    def __init__(self, history: History, clock: Clock, *, dry_run: bool = False) -> None:
        self.history = history
        self.clock = clock
        self.dry_run = dry_run
        self._last_wait: dict[str, str] = {}

    def failed_runs(
        self, state: PoolState, failed: Iterable[RunResult], prs: Sequence[PullRequest]
    ) -> None:
        """Staging runs newly seen failed (before the pool acts)."""
        by_number = {pr.number: pr for pr in prs}
        for result in failed:
            record = happenings.failed_run(result, by_number, state.now)
            self.history.record(state.key, record)

    def record(self, state: PoolState, decision: Decision, execution: Execution) -> None:
        """After the pool acted: the `pool` line, and what the history keeps of it."""
        fields = {
            "pool": state.key,
            "action": decision.action.value,
            "prs": [pr.key for pr in decision.prs],
            "base": state.base_sha,
            "reason": decision.reason,
        }
        if decision.action == Action.WAIT:
            if self._last_wait.get(state.key) != decision.reason:
                log.info("pool", **fields)
            self._last_wait[state.key] = decision.reason
        else:
            self._last_wait.pop(state.key, None)
            log.info(
                "pool",
                **fields,
                merged=[p.key for p in execution.merged],
                dropped=[str(d) for d in execution.dropped],
                err=execution.err,
            )
        if execution.operator_error:
            log.error("operator_action_needed", pool=state.key, error=execution.operator_error)
        now = self.clock.now()
        for found in decision.culprits:
            status = broken_status(state, found)
            self.history.record(state.key, happenings.culprit(found, state.base_sha, status, now))
        for pr, why in execution.refused:
            self.history.record(state.key, happenings.set_aside(pr, why, state.base_sha, now))
        if decision.action not in RECORDED:
            return
        reason = decision.reason if not self.dry_run else f"dry-run: {decision.reason}"
        if execution.refused:
            reason += "; set aside " + "; ".join(
                f"#{pr.number}: GitHub refused the merge: {why}" for pr, why in execution.refused
            )
        if execution.dropped:
            reason += "; left out " + "; ".join(str(d) for d in execution.dropped)
        self.history.record(
            state.key,
            Record(
                time=self.clock.now(),
                action=decision.action.value,
                base_sha=state.base_sha,
                target=targets(decision.prs),
                err=execution.err,
                reason=reason,
                failed=tuple(execution.failed),
            ),
        )
