"""A tiny pure queue world for planner tests: PRs, an oracle CI and instant staging runs.

It drives `tide.planner.decide` sync after sync with no I/O, so tests can count CI runs
and check safety (the base only ever holds sets that pass CI) over many random pools.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from tide.model import Context, PullRequest, StagedPR, StagingRun, State
from tide.planner import decide
from tide.policy import BranchPolicy, ContextPolicy, FailureStrategy, Query, QueueOptions
from tide.pool import Action, Decision, PoolState
from tide.staging import Outcome, RunResult

CI = "ci/test"
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def make_pr(
    number: int, labels: frozenset[str] = frozenset({"lgtm"}), head: str | None = None
) -> PullRequest:
    return PullRequest(
        org="org",
        repo="repo",
        number=number,
        title=f"PR {number}",
        head_sha=head or f"head{number:04d}".ljust(40, "0"),
        base_ref="main",
        author="dev",
        labels=labels,
        head_contexts=(Context(CI, State.SUCCESS),),
    )


def make_policy(
    batch_size_limit: int = 0,
    strategy: FailureStrategy = FailureStrategy.BISECT,
    parallel: bool = False,
    single_retries: int = 1,
    priority: tuple[tuple[str, ...], ...] = (),
) -> BranchPolicy:
    return BranchPolicy(
        org="org",
        repo="repo",
        branch="main",
        queries=(Query(repos=("org/repo",), labels=("lgtm",)),),
        context_policy=ContextPolicy(required=(CI,)),
        batch_size_limit=batch_size_limit,
        priority=priority,
        queue=QueueOptions(
            batch_failure_strategy=strategy,
            bisect_parallel=parallel,
            single_retries=single_retries,
        ),
    )


def make_run(
    prs: list[PullRequest],
    base: str,
    outcome: Outcome,
    created: datetime = T0,
    attempt: int = 1,
    flaky: bool = False,
    verified: bool = True,
) -> RunResult:
    staged = tuple(StagedPR(p.number, p.head_sha) for p in prs)
    digest = hashlib.sha1(repr((base, staged, attempt, created)).encode()).hexdigest()
    run = StagingRun(
        org="org",
        repo="repo",
        branch="main",
        ref=f"tide/main-{digest[:10]}",
        base_sha=base,
        prs=staged,
        commit_sha=digest,
        created_at=created,
        attempt=attempt,
        verified=verified,
    )
    return RunResult(run, outcome, outcome.value.lower(), flaky_only=flaky)


@dataclass
class QueueWorld:
    """PRs waiting to merge, an oracle CI, and the runs the planner started."""

    prs: dict[int, PullRequest]
    bad: set[int] = field(default_factory=set)
    pairs: set[frozenset[int]] = field(default_factory=set)
    policy: BranchPolicy = field(default_factory=make_policy)
    merged: list[int] = field(default_factory=list)
    base_history: list[frozenset[int]] = field(default_factory=lambda: [frozenset()])
    runs: list[RunResult] = field(default_factory=list)
    broken: set[StagedPR] = field(default_factory=set)
    ci_runs: int = 0
    now: datetime = T0
    flaky: set[tuple[int, ...]] = field(default_factory=set)  # run PR sets whose next run flakes
    ci_minutes: int = 2  # a run stays pending this many syncs
    verdicts: dict[str, Outcome] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return hashlib.sha1(repr(self.merged).encode()).hexdigest()

    def passes(self, landed: frozenset[int]) -> bool:
        if landed & self.bad:
            return False
        return not any(pair <= landed for pair in self.pairs)

    def pool(self) -> PoolState:
        eligible = tuple(
            pr
            for _, pr in sorted(self.prs.items())
            if StagedPR(pr.number, pr.head_sha) not in self.broken
        )
        return PoolState(
            org="org",
            repo="repo",
            branch="main",
            base_sha=self.base,
            policy=self.policy,
            now=self.now,
            eligible=eligible,
            broken=frozenset(self.broken),
            runs=tuple(self.runs),
        )

    def step(self) -> Decision:
        """One sync: finish due CI runs, decide, then apply the decision as GitHub would."""
        self.runs = [self._finish(r) for r in self.runs]
        decision = decide(self.pool())
        self.now += timedelta(minutes=1)
        obsolete = {r.ref for r in decision.obsolete}
        self.runs = [r for r in self.runs if r.run.ref not in obsolete]
        for culprit in decision.culprits:
            self.broken.add(StagedPR(culprit.pr.number, culprit.pr.head_sha))
        if decision.action in (Action.MERGE, Action.MERGE_BATCH):
            for pr in decision.prs:
                self.merged.append(pr.number)
                del self.prs[pr.number]
            self.base_history.append(frozenset(self.merged))
        for trig in decision.triggers:
            self.ci_runs += 1
            numbers = tuple(p.number for p in trig.prs)
            tested = frozenset(self.merged) | set(numbers)
            flaked = numbers in self.flaky
            self.flaky.discard(numbers)
            outcome = Outcome.SUCCESS if self.passes(tested) and not flaked else Outcome.FAILURE
            pending = make_run(list(trig.prs), self.base, Outcome.PENDING, self.now, trig.attempt)
            self.verdicts[pending.run.ref] = outcome
            self.runs.append(pending)
        return decision

    def _finish(self, result: RunResult) -> RunResult:
        due = result.run.created_at + timedelta(minutes=self.ci_minutes)
        if result.outcome != Outcome.PENDING or self.now < due:
            return result
        outcome = self.verdicts[result.run.ref]
        return replace(result, outcome=outcome, reason=outcome.value.lower())

    def run_until_idle(self, limit: int = 400) -> None:
        """Sync until nothing is left to do; a WAIT with eligible PRs and no run is a stall."""
        for _ in range(limit):
            decision = self.step()
            if decision.action == Action.WAIT and not any(
                r.outcome == Outcome.PENDING for r in self.runs
            ):
                if not self.pool().eligible:
                    return
                raise AssertionError(f"queue stalled: {decision.reason}")
        raise AssertionError("queue did not settle")


def world_of(count: int, **kwargs: object) -> QueueWorld:
    prs = {n: make_pr(n) for n in range(1, count + 1)}
    return QueueWorld(prs=prs, **kwargs)  # type: ignore[arg-type]


def with_labels(pr: PullRequest, *labels: str) -> PullRequest:
    return replace(pr, labels=pr.labels | set(labels))


def draw_queue_faults(
    draw: st.DrawFn, max_count: int
) -> tuple[list[int], set[int], set[frozenset[int]]]:
    """PR numbers 1..n, up to three bad PRs, and up to two pairs that break only together:
    the faults every planner property draws its queue from."""
    count = draw(st.integers(min_value=1, max_value=max_count))
    numbers = list(range(1, count + 1))
    bad = draw(st.sets(st.sampled_from(numbers), max_size=3))
    pairs: set[frozenset[int]] = set()
    if count >= 2:
        for _ in range(draw(st.integers(0, 2))):
            a, b = draw(st.lists(st.sampled_from(numbers), min_size=2, max_size=2, unique=True))
            pairs.add(frozenset({a, b}))
    return numbers, set(bad), pairs
