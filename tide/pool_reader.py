"""One pool's read and judgement, the facts the planner is given.

`PoolReader.read` reads the base commit, the branch protection (through the `Judge`, which
reads every fact a PR is judged on) and the PRs' head contexts; `judge_pool` turns that, the
blockers and the staging runs into each PR's verdict (`judge.Facts`) and the
`PoolState` (a plain function); `PoolReader.contains_base` then asks GitHub, in the
planner's own order (`heads_to_compare`), which heads already contain the base.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog

from tide.bounded import Lru
from tide.criteria import Code, Verdict, effective_context_policy
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.records import RepositoryRead, RepositoryState
from tide.judge import Facts, Judge
from tide.model import Blocker, PullRequest, StagedPR, StagingRun
from tide.policy import BranchPolicy, ContextPolicy, FailureStrategy
from tide.pool import PoolState
from tide.setaside import SetAside, SetAsideBook
from tide.staging import RunResult, evaluate_run, expected_contexts
from tide.strategies.steps import heads_to_compare

log = structlog.get_logger()

COMPARE_LIMIT = 10  # compare calls per pool per sync when looking for an up-to-date PR
COMPARE_CACHE = 4096  # remembered compare answers, across every pool


class PoolUnreadable(Exception):
    """The pool cannot be judged this sync: its repository or base branch is unreadable."""


@dataclass(frozen=True, slots=True)
class PoolRead:
    """What one pool's reads returned, in this sync."""

    gh: GitHub  # the pool's organization's client
    repo: RepositoryState
    base_sha: str
    base_tree: str  # read for `lanes` only (a stacked run lands on an equal tree only)
    protection: tuple[str, ...]  # required contexts, read when the policy asks
    prs: list[PullRequest]  # with every head's contexts
    digest: str  # branch protection's digest, read when a PR is (or may be) set aside


class PoolReader:
    """Reads pools; keeps only compare answers, which never change for two SHAs."""

    def __init__(self, judge: Judge, set_aside: SetAsideBook) -> None:
        self.judge = judge
        self.clients = judge.clients
        self.set_aside = set_aside
        # (org, repo, base sha, head sha) -> whether the head contains the base; a new base
        # sha makes every old entry useless, so the oldest are simply forgotten.
        self._compare: Lru[tuple[str, str, str, str], bool] = Lru(COMPARE_CACHE)

    async def read(
        self,
        key: tuple[str, str, str],
        policy: BranchPolicy,
        prs: list[PullRequest],
        repo_state: RepositoryRead | None,
        base: str | None,
    ) -> PoolRead:
        """`base` is the branch's head if it came with the repository's state this sync.
        Raises `PoolUnreadable` or `GitHubError` when the pool cannot be judged."""
        org, repo, branch = key
        if not isinstance(repo_state, RepositoryState):
            raise PoolUnreadable(repo_state.reason if repo_state else f"no data for {org}/{repo}")
        gh = await self.clients.for_org(org)
        base_tree = ""
        if base is None or policy.queue.batch_failure_strategy == FailureStrategy.LANES:
            head = await gh.branch_commit(org, repo, branch)
            base, base_tree = head if head is not None else (None, "")
        if base is None:
            raise PoolUnreadable(f"base branch {branch} does not exist")
        protection: tuple[str, ...] = ()
        if policy.context_policy.from_branch_protection:
            protection = await self.judge.read_protection(org, repo, branch)
        complete = await gh.complete_head_contexts(prs)
        digest = ""
        if self.set_aside.needs_protection(complete, policy):
            digest = await gh.rest.branch_protection_digest(org, repo, branch)
        return PoolRead(gh, repo_state, base, base_tree, protection, complete, digest)

    async def contains_base(self, gh: GitHub, state: PoolState) -> dict[str, bool]:
        """Whether each head that could merge directly contains the base commit, in the
        planner's order (`heads_to_compare`) until one does; at most `COMPARE_LIMIT` calls.
        What could not be read stays unknown, and the planner does not merge on it."""
        known: dict[str, bool] = {}
        calls = 0
        for pr in heads_to_compare(state):
            key = (state.org, state.repo, state.base_sha, pr.head_sha)
            if key not in self._compare:
                if calls >= COMPARE_LIMIT:
                    break
                calls += 1
                try:
                    status = await gh.rest.compare(
                        state.org, state.repo, state.base_sha, pr.head_sha
                    )
                except GitHubError as exc:
                    log.warning("compare_failed", pool=state.key, error=str(exc))
                    break
                self._compare[key] = status in ("ahead", "identical")
            known[pr.head_sha] = self._compare[key]
            if known[pr.head_sha]:
                break
        return known


def judge_pool(
    read: PoolRead,
    key: tuple[str, str, str],
    policy: BranchPolicy,
    blockers: Sequence[Blocker],
    aside: Mapping[int, SetAside],
    staged: Sequence[StagingRun],
    now: datetime,
) -> tuple[PoolState, tuple[Verdict, ...]]:
    """Each PR's verdict, and the pool as the planner sees it (before this sync's facts:
    standby, blocker error, search, stopping, halt, capacity, `contains_base`)."""
    org, repo, branch = key
    pool_blockers = tuple(b for b in blockers if b.applies_to(org, repo, branch))
    facts = Facts(read.repo.settings, read.protection, pool_blockers)
    verdicts = tuple(
        facts.verdict(pr, policy, aside[pr.number].reason if pr.number in aside else None)
        for pr in read.prs
    )
    cp = effective_context_policy(policy, read.protection)
    state = PoolState(
        org=org,
        repo=repo,
        branch=branch,
        base_sha=read.base_sha,
        base_tree=read.base_tree,
        policy=policy,
        now=now,
        eligible=tuple(v.pr for v in verdicts if v.eligible),
        broken=frozenset(
            StagedPR(v.pr.number, v.pr.head_sha)
            for v in verdicts
            if any(r.code == Code.BROKEN for r in v.blocking)
        ),
        runs=_runs(staged, branch, read.prs, cp, policy, now),
        blockers=pool_blockers,
        set_aside=frozenset(StagedPR(n, e.head_sha) for n, e in aside.items()),
        merge_methods={v.pr.number: v.method for v in verdicts if v.method is not None},
        protection=read.protection,
    )
    return state, verdicts


def _runs(
    staged: Sequence[StagingRun],
    branch: str,
    prs: Sequence[PullRequest],
    cp: ContextPolicy,
    policy: BranchPolicy,
    now: datetime,
) -> tuple[RunResult, ...]:
    by_number = {pr.number: pr for pr in prs}
    results = []
    for run in staged:
        if run.branch != branch:
            continue
        members = [by_number[p.number] for p in run.prs if p.number in by_number]
        expected = expected_contexts(members, cp, policy.status_context)
        results.append(evaluate_run(run, expected, cp, policy.queue, now, policy.status_context))
    return tuple(results)
