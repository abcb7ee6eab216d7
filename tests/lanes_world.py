"""A tiny pure world for the `lanes` strategy: a commit graph of PR sets, stacked staging runs
built as the executor builds them, an oracle CI, and fast-forward or merge-call landing.

Commits are named by a hash of their parents, trees by a hash of the PRs they hold, so a
merge-call landing yields a new commit with the same tree as the run it lands.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from planner_world import CI, T0, make_pr

from tide.model import Context, PullRequest, StagedPR, StagingRun, State
from tide.planner import decide
from tide.policy import BranchPolicy, ContextPolicy, FailureStrategy, Query, QueueOptions
from tide.pool import Action, Decision, PoolState, Trigger, stacked_on
from tide.staging import Outcome, RunResult


def lanes_policy(*, fast_forward: bool = False, **queue: object) -> BranchPolicy:
    return BranchPolicy(
        org="org",
        repo="repo",
        branch="main",
        queries=(Query(repos=("org/repo",), labels=("lgtm",)),),
        context_policy=ContextPolicy(required=(CI,)),
        queue=QueueOptions(
            batch_failure_strategy=FailureStrategy.LANES, fast_forward=fast_forward, **queue
        ),  # type: ignore[arg-type]
    )


def tree_of(content: frozenset[int]) -> str:
    return hashlib.sha1(repr(sorted(content)).encode()).hexdigest()


@dataclass
class LanesWorld:
    prs: dict[int, PullRequest]
    policy: BranchPolicy
    bad: set[int] = field(default_factory=set)
    pairs: set[frozenset[int]] = field(default_factory=set)
    flaky: set[tuple[int, ...]] = field(default_factory=set)  # new-PR sets whose next run flakes
    ci_minutes: int = 3
    now: datetime = T0
    content: dict[str, frozenset[int]] = field(default_factory=dict)  # commit -> PRs in it
    ancestors: dict[str, frozenset[str]] = field(default_factory=dict)
    base: str = "base0"
    runs: list[RunResult] = field(default_factory=list)
    verdicts: dict[str, Outcome] = field(default_factory=dict)
    broken: set[StagedPR] = field(default_factory=set)
    merged: list[int] = field(default_factory=list)
    tested: set[str] = field(default_factory=set)  # trees of passed runs
    landed_trees: list[str] = field(default_factory=list)
    ci_runs: int = 0
    decisions: list[Decision] = field(default_factory=list)
    # When each staging run's CI ends: CI finishes a run whether or not its branch is deleted.
    ci_ends: list[datetime] = field(default_factory=list)
    peak_in_flight: int = 0

    def __post_init__(self) -> None:
        self.content[self.base] = frozenset()
        self.ancestors[self.base] = frozenset()

    def passes(self, content: frozenset[int]) -> bool:
        return not content & self.bad and not any(p <= content for p in self.pairs)

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
            base_tree=tree_of(self.content[self.base]),
            policy=self.policy,
            now=self.now,
            eligible=eligible,
            broken=frozenset(self.broken),
            runs=tuple(self.runs),
        )

    def _commit(self, parent: str, content: frozenset[int], salt: str) -> str:
        sha = hashlib.sha1(f"{parent}|{salt}|{sorted(content)}".encode()).hexdigest()
        self.content[sha] = content
        self.ancestors[sha] = self.ancestors[parent] | {parent}
        return sha

    def push(self, number: int, head: str) -> None:
        """A new head for a PR (its checks pass at once)."""
        self.prs[number] = make_pr(number, head=head)

    def step(self) -> Decision:
        self.runs = [self._finish(r) for r in self.runs]
        decision = decide(self.pool())
        self.decisions.append(decision)
        obsolete = {r.ref for r in decision.obsolete}
        self.runs = [r for r in self.runs if r.run.ref not in obsolete]
        for culprit in decision.culprits:
            self.broken.add(StagedPR(culprit.pr.number, culprit.pr.head_sha))
        if decision.action in (Action.MERGE, Action.MERGE_BATCH):
            self._land(decision)
        for trigger in decision.triggers:
            self._trigger(trigger)
        busy = sum(1 for end in self.ci_ends if end > self.now)
        self.peak_in_flight = max(self.peak_in_flight, busy)
        self.now += timedelta(minutes=1)
        return decision

    def _land(self, decision: Decision) -> None:
        run = decision.merge_run
        if (
            run is not None
            and self.policy.queue.fast_forward
            and self.base in self.ancestors.get(run.commit_sha, frozenset())
        ):
            self.base = run.commit_sha
        else:
            for pr in decision.prs:
                self.base = self._commit(self.base, self.content[self.base] | {pr.number}, "api")
        for pr in decision.prs:
            self.merged.append(pr.number)
            del self.prs[pr.number]
        if run is not None:
            self.runs = [r for r in self.runs if r.run.ref != run.ref]
        self.landed_trees.append(tree_of(self.content[self.base]))

    def _trigger(self, trigger: Trigger) -> None:
        if not trigger.chain:
            self._build(trigger)
            return
        stack, attempt = trigger.stack, trigger.attempt
        for pr in trigger.prs:
            run = self._build(
                replace(trigger, prs=(pr,), stack=stack, attempt=attempt, chain=False)
            )
            stack, attempt = stacked_on(run), 1

    def _build(self, trigger: Trigger) -> StagingRun:
        stack = trigger.stack
        start = stack.onto_sha if stack else self.base
        prior = stack.prior if stack else ()
        staged = (*prior, *(StagedPR(p.number, p.head_sha) for p in trigger.prs))
        content = self.content[start] | {p.number for p in trigger.prs}
        commit = self._commit(start, content, f"{self.now}|{trigger.lane}|{len(self.runs)}")
        self.ci_runs += 1
        self.ci_ends.append(self.now + timedelta(minutes=self.ci_minutes))
        numbers = tuple(p.number for p in trigger.prs)
        flaked = numbers in self.flaky
        self.flaky.discard(numbers)
        run = StagingRun(
            org="org",
            repo="repo",
            branch="main",
            ref=f"tide/main-{commit[:10]}",
            base_sha=stack.base_sha if stack else self.base,
            prs=staged,
            commit_sha=commit,
            created_at=self.now,
            contexts=(),
            attempt=trigger.attempt,
            lane=trigger.lane,
            layers=stack.layers if stack else (),
            tree_sha=tree_of(content),
            base_tree=stack.base_tree if stack else tree_of(self.content[self.base]),
            verified=True,
        )
        good = self.passes(content) and not flaked
        self.verdicts[run.ref] = Outcome.SUCCESS if good else Outcome.FAILURE
        self.runs.append(RunResult(run, Outcome.PENDING, "pending"))
        return run

    def _finish(self, result: RunResult) -> RunResult:
        due = result.run.created_at + timedelta(minutes=self.ci_minutes)
        if result.outcome != Outcome.PENDING or self.now < due:
            return result
        outcome = self.verdicts[result.run.ref]
        if outcome == Outcome.SUCCESS:
            self.tested.add(result.run.tree_sha)
        state = State.SUCCESS if outcome == Outcome.SUCCESS else State.FAILURE
        run = replace(result.run, contexts=(Context(CI, state),))
        return RunResult(run, outcome, outcome.value.lower())

    def run_until_idle(self, limit: int = 900, patience: int = 30) -> None:
        """Sync until nothing is eligible; `patience` idle syncs in a row (nothing running,
        nothing started: longer than any pacing interval here) is a stall."""
        idle = 0
        for _ in range(limit):
            decision = self.step()
            if decision.action != Action.WAIT or any(
                r.outcome == Outcome.PENDING for r in self.runs
            ):
                idle = 0
                continue
            if not self.pool().eligible:
                return
            idle += 1
            if idle > patience:
                raise AssertionError(f"queue stalled: {decision.reason}")
        raise AssertionError("queue did not settle")


def lanes_world(count: int, **kwargs: object) -> LanesWorld:
    policy = kwargs.pop("policy", None) or lanes_policy()
    prs = {n: make_pr(n) for n in range(1, count + 1)}
    return LanesWorld(prs=prs, policy=policy, **kwargs)  # type: ignore[arg-type]
