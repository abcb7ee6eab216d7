"""A pool's queue as people read it: the PRs in order, where each stands and why, and the
staging runs in flight (pure; built from a sync's `PoolState` and `Decision`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tide.criteria import Verdict
from tide.execution import Dropped
from tide.model import Context, PullRequest, StagingRun
from tide.pool import Decision, PoolState
from tide.priority import in_priority_order
from tide.staging import Outcome, RunResult
from tide.strategies.steps import RunBook, read_runs


class Place(StrEnum):
    """Where a PR stands in its pool, as one sync saw it."""

    MERGED = "merged"
    PASSED = "passed, merging"
    TESTING = "in the batch being tested"
    UP_TO_DATE = "up to date"
    CULPRIT = "broke the build"
    QUEUED = "queued"
    NOT_ELIGIBLE = "not eligible"


@dataclass(frozen=True, slots=True)
class ContextView:
    """A context as the pages show it; `since` is when it last changed, if GitHub said."""

    name: str
    state: str
    description: str = ""
    url: str = ""
    since: datetime | None = None


@dataclass(frozen=True, slots=True)
class RunView:
    """One staging run: the PRs tested together, on which base, and how it is going."""

    ref: str
    base_sha: str
    prs: tuple[int, ...]
    attempt: int
    outcome: str
    reason: str
    started_at: datetime
    elapsed: float
    current: bool  # on the current base with every PR still at its tested head
    waiting: tuple[str, ...] = ()
    contexts: tuple[ContextView, ...] = ()


@dataclass(frozen=True, slots=True)
class QueueEntry:
    """One PR of a pool: its place, and why it is there, in one line."""

    number: int
    title: str
    author: str
    url: str
    head_sha: str
    labels: tuple[str, ...]
    place: Place
    why: str
    position: int | None = None  # 1-based place among eligible PRs, in queue order


@dataclass(frozen=True, slots=True)
class Done:
    """What the last sync did to a pool (from its execution): merged PRs, staging runs it
    started, and PRs it left out of them (`#8: conflicts with #2`)."""

    merged: tuple[int, ...] = ()
    triggered: tuple[StagingRun, ...] = ()
    dropped: tuple[Dropped, ...] = ()

    def dropped_reason(self, number: int) -> str | None:
        return next((d.why for d in self.dropped if d.pr == number), None)


NOTHING_DONE = Done()


def format_duration(seconds: float) -> str:
    """`45s`, `12m`, `3h05m`, `2d04h`: short enough for a table cell."""
    s = max(0, int(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def context_view(ctx: Context) -> ContextView:
    return ContextView(ctx.name, ctx.state.value, ctx.description, ctx.target_url, ctx.created_at)


def run_view(result: RunResult, book: RunBook, now: datetime) -> RunView:
    run = result.run
    current = any(r is result for r in (*book.passed, *book.pending))
    return RunView(
        ref=run.ref,
        base_sha=run.base_sha,
        prs=run.numbers,
        attempt=run.attempt,
        outcome=result.outcome.value,
        reason=result.reason,
        started_at=run.created_at,
        elapsed=(now - run.created_at).total_seconds(),
        current=current,
        waiting=result.waiting,
        contexts=tuple(context_view(c) for c in run.contexts),
    )


def started_view(run: StagingRun, now: datetime) -> RunView:
    """A run the last sync started: no CI result can be known yet."""
    return RunView(
        ref=run.ref,
        base_sha=run.base_sha,
        prs=run.numbers,
        attempt=run.attempt,
        outcome=Outcome.PENDING.value,
        reason="just started",
        started_at=run.created_at,
        elapsed=(now - run.created_at).total_seconds(),
        current=True,
    )


def run_views(state: PoolState, now: datetime, done: Done = NOTHING_DONE) -> tuple[RunView, ...]:
    """The pool's staging runs, the ones that count for the current base first."""
    book = read_runs(state)
    views = [run_view(r, book, now) for r in state.runs]
    views += [started_view(run, now) for run in done.triggered]
    return tuple(sorted(views, key=lambda v: (not v.current, v.started_at)))


def run_of(number: int, runs: Iterable[RunResult]) -> RunResult | None:
    return next((r for r in runs if number in r.run.numbers), None)


def _place(
    pr: PullRequest,
    state: PoolState,
    book: RunBook,
    decision: Decision,
    done: Done,
    now: datetime,
) -> tuple[Place, str]:
    n = pr.number
    if n in done.merged:
        return Place.MERGED, "merged by the last sync"
    culprit = next((c for c in decision.culprits if c.pr.number == n), None)
    if culprit is not None:
        return Place.CULPRIT, f"{culprit.evidence.run.ref}: {culprit.evidence.reason}"
    passed = run_of(n, book.passed)
    if passed is not None:
        return Place.PASSED, f"staging run {passed.run.ref} passed; it merges next"
    pending = run_of(n, book.pending)
    if pending is not None:
        age = format_duration((now - pending.run.created_at).total_seconds())
        return Place.TESTING, f"{pending.reason} ({age} so far)"
    started = next((r for r in done.triggered if n in r.numbers), None)
    if started is not None:
        return Place.TESTING, f"staging run {started.ref} just started"
    left_out = done.dropped_reason(n)
    if left_out is not None:
        return Place.QUEUED, f"left out of the new staging run: {left_out}"
    if n in book.up_to_date:
        return Place.UP_TO_DATE, f"already contains base {state.base_sha[:7]}; checks passed"
    failed = run_of(n, book.failed)
    if failed is not None:
        return Place.QUEUED, f"suspect: {failed.run.ref} failed ({failed.reason})"
    return Place.QUEUED, "waiting for its turn"


def queue_entry(pr: PullRequest, place: Place, why: str, position: int | None = None) -> QueueEntry:
    return QueueEntry(
        number=pr.number,
        title=pr.title,
        author=pr.author,
        url=pr.url,
        head_sha=pr.head_sha,
        labels=tuple(sorted(pr.labels)),
        place=place,
        why=why,
        position=position,
    )


def queue_of(
    state: PoolState,
    decision: Decision,
    done: Done = NOTHING_DONE,
    now: datetime | None = None,
) -> tuple[QueueEntry, ...]:
    """The eligible PRs in queue order (Tide's priority, then number), each with its place."""
    book = read_runs(state)
    ordered = in_priority_order(state.eligible, state.policy.priority)
    at = now or state.now
    return tuple(
        queue_entry(pr, *_place(pr, state, book, decision, done, at), position=i)
        for i, pr in enumerate(ordered, start=1)
    )


def first_reason(verdict: Verdict) -> str:
    reasons = verdict.reasons
    return reasons[0].text if reasons else "not eligible"


def waiting_of(verdicts: Iterable[Verdict]) -> tuple[QueueEntry, ...]:
    """The PRs the pool's search found that are not eligible, each with its first reason."""
    return tuple(
        queue_entry(v.pr, Place.NOT_ELIGIBLE, first_reason(v))
        for v in sorted(verdicts, key=lambda v: v.pr.number)
        if not v.eligible
    )
