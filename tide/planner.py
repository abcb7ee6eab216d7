"""Given one pool, what to do next: merge, trigger, wait or stay blocked (pure).

Rules every strategy keeps: a PR is merged only on a passed run of exactly the current
base plus exactly its tested heads, or when its own head already contains the base and
its checks pass; one action per pool per sync; blocker issues stop everything; a head
GitHub refused to merge (`PoolState.set_aside`) is neither merged nor tested again; no
pool starts more staging runs than the CI capacity left to it (`PoolState.run_room`).
"""

from __future__ import annotations

from dataclasses import replace

from tide.model import StagedPR
from tide.pool import Action, Decision, PoolState
from tide.strategies import strategy_for
from tide.strategies.steps import read_runs


def decide(pool: PoolState) -> Decision:
    """The pool's one action this sync, by the configured strategy."""
    if pool.set_aside:
        aside = pool.set_aside
        pool = replace(
            pool,
            eligible=tuple(p for p in pool.eligible if StagedPR(p.number, p.head_sha) not in aside),
        )
    book = read_runs(pool)
    if pool.blockers:
        numbers = ", ".join(f"#{b.number}" for b in sorted(pool.blockers, key=lambda b: b.number))
        # A freeze touches nothing: its PRs are not eligible meanwhile, but their runs and
        # the evidence of failed ones are still good once it lifts.
        return Decision(Action.BLOCKED, f"merging is blocked by issue {numbers}")
    return within_room(strategy_for(pool.policy)(pool, book), pool.run_room)


def within_room(decision: Decision, room: int | None) -> Decision:
    """Keep the first `room` triggers (strategies list the most urgent first); a pool
    whose every trigger is cut waits for CI capacity instead."""
    if room is None or len(decision.triggers) <= room:
        return decision
    kept = decision.triggers[:room]
    if decision.action not in (Action.TRIGGER, Action.TRIGGER_BATCH):
        return replace(decision, triggers=kept)
    if not kept:
        return Decision(
            Action.WAIT,
            "waiting for CI capacity: queue.max_concurrent_runs_total staging runs are in "
            "flight across pools",
            culprits=decision.culprits,
            obsolete=decision.obsolete,
        )
    prs = tuple(pr for t in kept for pr in t.prs)
    return replace(
        decision,
        action=Action.TRIGGER_BATCH if len(prs) > 1 else Action.TRIGGER,
        reason="; ".join(t.why for t in kept),
        prs=prs,
        triggers=kept,
    )
