"""What a pool's staging runs prove, and the steps every strategy shares (pure).

`read_runs` sorts runs into passed / pending (current base, heads unchanged), failed
evidence, culprits and obsolete branches; strategies build decisions from that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from tide.criteria import effective_context_policy
from tide.model import MergeMethod, PullRequest, StagedPR, StagingRun
from tide.policy import FailureStrategy
from tide.pool import Action, Culprit, Decision, PoolState
from tide.priority import highest_priority, in_priority_order
from tide.staging import Outcome, RunResult, expected_contexts

# Failed runs older than this stop counting as evidence and their branches are deleted.
EVIDENCE_TTL = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class RunBook:
    """The pool's runs sorted by what they mean for the current base and heads."""

    heads: dict[int, str]
    passed: tuple[RunResult, ...]  # current base, every PR still eligible at the tested head
    pending: tuple[RunResult, ...]  # same, still running
    failed: tuple[RunResult, ...]  # failed anywhere, still about an eligible head
    culprits: tuple[Culprit, ...]
    obsolete: tuple[StagingRun, ...]
    busy: frozenset[int] = field(default_factory=frozenset)  # PRs in pending runs
    # Eligible PRs whose own checks already tested what would land (`up_to_date`).
    up_to_date: frozenset[int] = field(default_factory=frozenset)

    def single_failures(self, pr: PullRequest) -> list[RunResult]:
        me = (StagedPR(pr.number, pr.head_sha),)
        return [r for r in self.failed if r.run.prs == me]


def is_valid(run: StagingRun, heads: dict[int, str]) -> bool:
    """Every PR of the run is still eligible at the head SHA it was tested with."""
    return all(heads.get(p.number) == p.head_sha for p in run.prs)


def allowed_single_failures(pool: PoolState, failures: list[RunResult]) -> int:
    q = pool.policy.queue
    if pool.policy.queue.batch_failure_strategy == FailureStrategy.TIDE:
        return 0  # Tide: a failed serial test takes the PR out until a retest
    extra = q.flaky_retries if failures and all(f.flaky_only for f in failures) else 0
    return q.single_retries + extra


def read_runs(pool: PoolState) -> RunBook:
    heads = {pr.number: pr.head_sha for pr in pool.eligible}
    passed: list[RunResult] = []
    pending: list[RunResult] = []
    failed: list[RunResult] = []
    obsolete: list[StagingRun] = []
    for result in pool.runs:
        run = result.run
        if not run.verified:
            continue  # a claim, not evidence: never merged on, blamed on, or deleted
        age = (pool.now - run.created_at).total_seconds()
        if result.outcome == Outcome.FAILURE:
            explained = any(p in pool.broken for p in run.prs)
            relevant = any(heads.get(p.number) == p.head_sha for p in run.prs)
            if explained or not relevant or age > EVIDENCE_TTL:
                obsolete.append(run)
            else:
                failed.append(result)
        elif run.base_sha == pool.base_sha and is_valid(run, heads):
            (passed if result.outcome == Outcome.SUCCESS else pending).append(result)
        else:
            obsolete.append(run)
    book = RunBook(heads, tuple(passed), tuple(pending), tuple(failed), (), tuple(obsolete))
    culprits: list[Culprit] = []
    # A pass on exactly the current base outweighs failures elsewhere: that test is what lands.
    proven = {p.number for r in passed for p in r.run.prs}
    for pr in pool.eligible:
        if pr.number in proven:
            continue
        failures = book.single_failures(pr)
        if failures and len(failures) > allowed_single_failures(pool, failures):
            latest = max(failures, key=lambda r: r.run.created_at)
            culprits.append(Culprit(pr, latest))
    guilty = {c.pr.number for c in culprits}
    # A culprit's record moves to its `tide` status; runs it explains are no longer evidence.
    still_failed = tuple(r for r in failed if not any(p.number in guilty for p in r.run.prs))
    obsolete.extend(r.run for r in failed if r not in still_failed)
    busy = frozenset(p.number for r in pending for p in r.run.prs)
    direct = frozenset() if passed or pending else up_to_date(pool)
    return RunBook(
        heads,
        tuple(passed),
        tuple(pending),
        still_failed,
        tuple(culprits),
        tuple(obsolete),
        busy,
        direct,
    )


def up_to_date(pool: PoolState) -> frozenset[int]:
    """The most urgent eligible PR whose own head already tested what would land, if any:
    its head contains the base commit (and a merge keeps that head), or the config says
    there is no CI and nothing is expected of it. A head whose containment is unknown ends
    the search: a PR after it is not merged around it on doubt."""
    for pr, nothing_to_test in _direct_walk(pool):
        if nothing_to_test or pool.contains_base.get(pr.head_sha) is True:
            return frozenset({pr.number})
        if pr.head_sha not in pool.contains_base:
            break
    return frozenset()


def heads_to_compare(pool: PoolState) -> tuple[PullRequest, ...]:
    """The PRs whose head's containment of the base could decide a direct merge, most
    urgent first: what the sync reads (GitHub's compare) into `PoolState.contains_base`,
    in this order, until one contains the base. None while a staging run passed or runs."""
    book = read_runs(pool)
    if book.passed or book.pending:
        return ()
    prs: list[PullRequest] = []
    for pr, nothing_to_test in _direct_walk(pool):
        if nothing_to_test:
            break
        prs.append(pr)
    return tuple(prs)


def _direct_walk(pool: PoolState) -> Iterator[tuple[PullRequest, bool]]:
    """Eligible PRs a direct merge could land, most urgent first, each with whether there
    is nothing to test for it (`queue.no_ci` and no context expected of it)."""
    cp = effective_context_policy(pool.policy, pool.protection)
    for pr in in_priority_order(pool.eligible, pool.policy.priority):
        if pool.policy.queue.no_ci and not expected_contexts([pr], cp, pool.policy.status_context):
            yield pr, True
            return
        if pool.merge_methods.get(pr.number) == MergeMethod.REBASE:
            continue  # a rebase rewrites the head, so its checks did not test what lands
        yield pr, False


def remaining(pool: PoolState, book: RunBook) -> list[PullRequest]:
    guilty = {c.pr.number for c in book.culprits}
    return [pr for pr in pool.eligible if pr.number not in guilty]


def attempt_for(pool: PoolState, prs: Iterable[PullRequest]) -> int:
    """1 + how many runs already tested this exact set on this base."""
    staged = tuple(StagedPR(pr.number, pr.head_sha) for pr in prs)
    same = [
        r
        for r in pool.runs
        if r.run.verified and r.run.base_sha == pool.base_sha and r.run.prs == staged
    ]
    return 1 + max((r.run.attempt for r in same), default=0)


def describe(prs: Iterable[PullRequest]) -> str:
    return ", ".join(f"#{pr.number}" for pr in prs)


def merge_passed(pool: PoolState, book: RunBook, result: RunResult) -> Decision:
    by_number = {pr.number: pr for pr in pool.eligible}
    prs = tuple(by_number[p.number] for p in result.run.prs)
    action = Action.MERGE_BATCH if len(prs) > 1 else Action.MERGE
    return Decision(
        action,
        f"staging run {result.run.ref} passed on base {pool.base_sha[:7]}: merging {describe(prs)}",
        prs=prs,
        merge_run=result.run,
        culprits=book.culprits,
        obsolete=book.obsolete,
    )


def best_passed(book: RunBook) -> RunResult | None:
    """The passed run that lands the most PRs (oldest first on ties)."""
    if not book.passed:
        return None
    return max(book.passed, key=lambda r: (len(r.run.prs), -r.run.created_at.timestamp()))


def merge_up_to_date(
    pool: PoolState, book: RunBook, candidates: list[PullRequest]
) -> Decision | None:
    ready = [pr for pr in candidates if pr.number in book.up_to_date]
    pick = highest_priority(ready, pool.policy.priority)
    if pick is None:
        return None
    return Decision(
        Action.MERGE,
        f"#{pick.number} already contains base {pool.base_sha[:7]} and its checks passed",
        prs=(pick,),
        culprits=book.culprits,
        obsolete=book.obsolete,
    )


def wait(book: RunBook, reason: str) -> Decision:
    return Decision(Action.WAIT, reason, culprits=book.culprits, obsolete=book.obsolete)


def waiting_reason(book: RunBook) -> str:
    parts = [
        f"{r.run.ref} ({', '.join(f'#{n}' for n in r.run.numbers)}): {r.reason}"
        for r in book.pending
    ]
    return "waiting for staging run " + "; ".join(parts)
