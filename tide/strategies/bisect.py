"""The default strategy: batch the queue, and when a batch fails, bisect it.

A failed run is evidence: its PRs that are still eligible at the tested heads are the
suspects. The smallest suspect set is split and its first half tested (both halves at
once with `bisect_parallel`); a half that passes merges, which leaves the other half as
the suspects, so a second half already known to fail is never re-run whole. A single
PR that fails alone more than `single_retries` times is a culprit and leaves the queue.
"""

from __future__ import annotations

from math import ceil

from tide.model import PullRequest
from tide.pool import Action, Decision, PoolState, Trigger
from tide.priority import in_priority_order
from tide.staging import RunResult
from tide.strategies.steps import (
    RunBook,
    attempt_for,
    best_passed,
    describe,
    merge_passed,
    merge_up_to_date,
    remaining,
    wait,
    waiting_reason,
)


def suspects(
    book: RunBook, candidates: list[PullRequest]
) -> tuple[list[PullRequest], RunResult] | None:
    """The smallest set of still-eligible PRs that a failed run says contains a culprit."""
    by_number = {pr.number: pr for pr in candidates}
    best: tuple[list[PullRequest], RunResult] | None = None
    for result in sorted(book.failed, key=lambda r: r.run.created_at, reverse=True):
        left = [
            by_number[p.number]
            for p in result.run.prs
            if p.number in by_number
            and by_number[p.number].head_sha == p.head_sha
            and p.number not in book.busy
        ]
        if left and (best is None or len(left) < len(best[0])):
            best = (left, result)
    return best


def _rerun_whole(
    pool: PoolState, book: RunBook, left: list[PullRequest], result: RunResult
) -> bool:
    """Re-run a failed batch as it was, instead of splitting it, while retries remain."""
    if len(left) != len(result.run.prs):
        return False
    same = [r for r in book.failed if r.run.prs == result.run.prs]
    q = pool.policy.queue
    if result.flaky_only and all(r.flaky_only for r in same):
        return len(same) <= q.flaky_retries
    return len(same) <= q.batch_retries


def bisect_triggers(
    pool: PoolState, book: RunBook, left: list[PullRequest], result: RunResult, room: int
) -> list[Trigger]:
    failed = describe(p for p in left)
    if len(left) == 1:
        pr = left[0]
        tries = len(book.single_failures(pr))
        why = (
            f"retrying #{pr.number} alone after {tries} failure(s)"
            if tries
            else f"testing #{pr.number} alone: the last suspect of failed run {result.run.ref}"
        )
        return [Trigger((pr,), attempt_for(pool, [pr]), why)]
    if _rerun_whole(pool, book, left, result):
        return [
            Trigger(
                tuple(left), attempt_for(pool, left), f"re-running {failed} after {result.reason}"
            )
        ]
    half = ceil(len(left) / 2)
    first, second = left[:half], left[half:]
    triggers = [Trigger(tuple(first), attempt_for(pool, first), f"bisecting {failed}: first half")]
    if pool.policy.queue.bisect_parallel and room > 1:
        triggers.append(
            Trigger(tuple(second), attempt_for(pool, second), f"bisecting {failed}: second half")
        )
    return triggers


def decide_bisect(pool: PoolState, book: RunBook) -> Decision:
    passed = best_passed(book)
    if passed is not None:
        return merge_passed(pool, book, passed)
    candidates = remaining(pool, book)
    if not book.pending:
        direct = merge_up_to_date(pool, book, candidates)
        if direct is not None:
            return direct
    capacity = 2 if pool.policy.queue.bisect_parallel else 1
    room = capacity - len(book.pending)
    if room <= 0:
        return wait(book, waiting_reason(book))
    found = suspects(book, candidates)
    if found is not None:
        left, result = found
        triggers = bisect_triggers(pool, book, left, result, room)
    elif book.pending:
        return wait(book, waiting_reason(book))
    else:
        free = [
            pr
            for pr in in_priority_order(candidates, pool.policy.priority)
            if pr.number not in book.busy
        ]
        if not free:
            return wait(
                book,
                "no eligible PRs" if not pool.eligible else "every eligible PR is being tested",
            )
        batch = free[: pool.policy.max_batch_size]
        triggers = [
            Trigger(
                tuple(batch),
                attempt_for(pool, batch),
                f"testing {describe(batch)} on base {pool.base_sha[:7]}",
            )
        ]
    prs = tuple(pr for t in triggers for pr in t.prs)
    action = Action.TRIGGER_BATCH if len(prs) > 1 else Action.TRIGGER
    return Decision(
        action,
        "; ".join(t.why for t in triggers),
        prs=prs,
        triggers=tuple(triggers),
        culprits=book.culprits,
        obsolete=book.obsolete,
    )
