"""Given one pool, what to do next: merge, trigger, wait or stay blocked (pure).

`decide` holds the whole precedence, in the order it reads (Prow's `syncSubpool`: blockers
first, then the action table):
1. the pool could not be read (`unreadable`): wait with the error; nothing is carried out;
2. another instance acts here (`standby`): wait, write nothing;
3. the blocker issues could not be read (`blocker_error`): wait, since a freeze may be
   missed; nothing is carried out;
4. a blocker issue applies: blocked;
5. the configured strategy picks the one action, within the CI capacity left
   (`run_room`) and the writes GitHub's secondary limits leave (`write_room`: a batch
   is cut to what fits; a merge is never held back);
6. a search that missed PRs (`search_complete`) deletes no staging branch: one of the
   hidden PRs may still need it;
7. a daemon shutting down (`stopping`) takes no new action (no merge, no run); a planned
   wait still does its housekeeping (culprits, old branches);
8. a pool halted by an error only an operator can fix (`halt`) neither merges nor
   triggers until the halt ends; nothing is carried out.

Rules every strategy keeps: a PR is merged only on a passed run of exactly the current
base plus exactly its tested heads, or when its own head already contains the base and
its checks pass; one action per pool per sync; a head GitHub refused to merge
(`PoolState.set_aside`) is neither merged nor tested again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from tide.model import StagedPR
from tide.pool import RECORDED, STAGING_WRITES, Action, Decision, PoolState, Trigger
from tide.strategies import strategy_for
from tide.strategies.steps import read_runs
from tide.write_pace import GITHUB_LIMITS


def decide(pool: PoolState) -> Decision:
    """The pool's one action this sync (see the module's docstring for the precedence)."""
    if pool.unreadable:
        return Decision(Action.WAIT, pool.unreadable, error=pool.unreadable)
    if pool.standby:
        return Decision(Action.WAIT, pool.standby)
    if pool.blocker_error:
        # Never merge on doubt: without the blocker list a frozen branch could move.
        return Decision(Action.WAIT, pool.blocker_error, error=pool.blocker_error)
    decision = _plan(pool)
    if not pool.search_complete:
        # A partial search hides PRs: keep their staging branches until they are seen again.
        decision = replace(decision, obsolete=())
    if pool.stopping and decision.action != Action.WAIT:
        return Decision(Action.WAIT, "shutting down: no new actions")
    halt = pool.halt
    if halt is not None and pool.now < halt.until and decision.action in RECORDED:
        # Only a person can fix what stopped this pool: do not hammer GitHub meanwhile.
        reason = f"stopped until {halt.until.strftime('%H:%M UTC')} or a config change: "
        return Decision(Action.WAIT, reason + halt.error, error=halt.error)
    return decision


def _plan(pool: PoolState) -> Decision:
    """Blockers, then the configured strategy within the CI capacity left."""
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
    room = pool.write_room
    if room is not None:
        # Cap the batch before the strategy picks it, so it picks what can be built now.
        cap = max(1, room - STAGING_WRITES)
        if pool.policy.max_batch_size is None or pool.policy.max_batch_size > cap:
            pool = replace(pool, policy=replace(pool.policy, batch_size_limit=cap))
    decision = within_room(strategy_for(pool.policy)(pool, book), pool.run_room)
    return within_writes(decision, room)


def within_writes(decision: Decision, room: int | None) -> Decision:
    """Keep the triggers whose builds fit in `room` writes, most urgent first; a pool whose
    every trigger is cut waits for GitHub's write budget. Merges are never cut."""
    if room is None:
        return decision
    kept = _leading(decision.triggers, room, lambda t: t.writes)
    if len(kept) == len(decision.triggers):
        return decision
    if not kept and decision.action in (Action.TRIGGER, Action.TRIGGER_BATCH):
        first = decision.triggers[0]
        numbers = ", ".join(f"#{pr.number}" for pr in first.prs)
        reason = (
            f"waiting for GitHub's write budget: testing {numbers} needs "
            f"{first.writes} writes and {room} are left under GitHub's limits "
            f"({GITHUB_LIMITS.per_minute} a minute, {GITHUB_LIMITS.per_hour} an hour)"
        )
        return Decision(Action.WAIT, reason, culprits=decision.culprits, obsolete=decision.obsolete)
    return _with_triggers(decision, kept)


def within_room(decision: Decision, room: int | None) -> Decision:
    """Keep the first triggers that start at most `room` runs (strategies list the most
    urgent first); a pool whose every trigger is cut waits for CI capacity instead."""
    if room is None or sum(t.runs for t in decision.triggers) <= room:
        return decision
    kept = _leading(decision.triggers, room, lambda t: t.runs)
    if not kept and decision.action in (Action.TRIGGER, Action.TRIGGER_BATCH):
        return Decision(
            Action.WAIT,
            "waiting for CI capacity: queue.max_concurrent_runs_total staging runs are in "
            "flight across pools",
            culprits=decision.culprits,
            obsolete=decision.obsolete,
        )
    return _with_triggers(decision, kept)


def _leading(
    triggers: tuple[Trigger, ...], room: int, cost: Callable[[Trigger], int]
) -> tuple[Trigger, ...]:
    """The longest run of leading triggers whose costs fit in `room`."""
    kept: list[Trigger] = []
    for trigger in triggers:
        if cost(trigger) > room:
            break
        room -= cost(trigger)
        kept.append(trigger)
    return tuple(kept)


def _with_triggers(decision: Decision, kept: tuple[Trigger, ...]) -> Decision:
    """`decision` with only the `kept` (non-empty for a trigger) of its triggers."""
    if decision.action not in (Action.TRIGGER, Action.TRIGGER_BATCH):
        return replace(decision, triggers=kept)
    prs = tuple(pr for t in kept for pr in t.prs)
    return replace(
        decision,
        action=Action.TRIGGER_BATCH if len(prs) > 1 else Action.TRIGGER,
        reason="; ".join(t.why for t in kept),
        prs=prs,
        triggers=kept,
    )
