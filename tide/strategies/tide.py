"""A faithful Tide: one pending batch plus a serial retest beside it, no bisection.

Tide's `takeAction` table: MERGE_BATCH a passed batch; else MERGE a PR tested alone (or
already up to date) when no batch is pending; else TRIGGER_BATCH the lowest-numbered
eligible PRs when no batch is pending; else TRIGGER a serial retest of the
highest-priority PR when none is running; else WAIT. A failed batch is forgotten; a PR
whose serial test fails leaves the pool until its head changes or a retest is asked.
"""

from __future__ import annotations

from tide.model import PullRequest
from tide.pool import Action, Decision, PoolState, Trigger
from tide.priority import highest_priority
from tide.strategies.steps import (
    RunBook,
    attempt_for,
    describe,
    merge_passed,
    remaining,
    wait,
    waiting_reason,
)


def _batch(pool: PoolState, candidates: list[PullRequest]) -> list[PullRequest]:
    """Prow's pickBatch: the lowest numbers first (a batch of one is no batch)."""
    ordered = sorted(candidates, key=lambda pr: pr.number)
    return ordered[: pool.policy.max_batch_size]


def decide_tide(pool: PoolState, book: RunBook) -> Decision:
    batches = [r for r in book.passed if len(r.run.prs) > 1]
    if batches:
        return merge_passed(pool, book, batches[0])
    batch_pending = [r for r in book.pending if len(r.run.prs) > 1]
    serial_pending = [r for r in book.pending if len(r.run.prs) == 1]
    candidates = remaining(pool, book)
    by_number = {pr.number: pr for pr in candidates}
    serial_ok = {r.run.prs[0].number: r for r in book.passed if len(r.run.prs) == 1}
    successes = [pr for pr in candidates if pr.number in serial_ok or pr.number in book.up_to_date]
    if successes and not batch_pending:
        pick = highest_priority(successes, pool.policy.priority)
        assert pick is not None
        if pick.number in serial_ok:
            return merge_passed(pool, book, serial_ok[pick.number])
        return Decision(
            Action.MERGE,
            f"#{pick.number} already contains base {pool.base_sha[:7]} and its checks passed",
            prs=(pick,),
            culprits=book.culprits,
            obsolete=book.obsolete,
        )
    if len(candidates) > 1 and not batch_pending:
        batch = _batch(pool, candidates)
        if len(batch) > 1:
            return Decision(
                Action.TRIGGER_BATCH,
                f"testing batch {describe(batch)} on base {pool.base_sha[:7]}",
                prs=tuple(batch),
                triggers=(Trigger(tuple(batch), attempt_for(pool, batch), "new batch"),),
                culprits=book.culprits,
                obsolete=book.obsolete,
            )
    pending_serial = {r.run.prs[0].number for r in serial_pending}
    missing = [pr for pr in by_number.values() if pr.number not in pending_serial]
    if missing and not serial_pending and not successes:
        pick = highest_priority(missing, pool.policy.priority)
        assert pick is not None
        return Decision(
            Action.TRIGGER,
            f"serial retest of #{pick.number} on base {pool.base_sha[:7]}",
            prs=(pick,),
            triggers=(Trigger((pick,), attempt_for(pool, [pick]), "serial retest"),),
            culprits=book.culprits,
            obsolete=book.obsolete,
        )
    if book.pending:
        return wait(book, waiting_reason(book))
    return wait(book, "no eligible PRs" if not pool.eligible else "nothing to do")
