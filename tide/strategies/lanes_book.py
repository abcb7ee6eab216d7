"""What the `lanes` strategy reads from a pool's runs (pure).

Everything here is derived from the staging branches GitHub holds, so a restarted daemon
reads the same stack, the same suspects and the same recent failure rate.

- A run *sits on* the base when the base is its base or one of its layers (same commit, or
  the same tree when the earlier PRs landed through the API), the PRs below that point are
  no longer eligible and the ones above it are eligible at the tested heads.
- A stacked run is *doomed* when a run it was built on failed: it is not stacked on any
  further, but it still lands if it passes (the failure was a flake).
- A failed run names *suspects*: its eligible PRs above the layer it was built on (all of
  them for a screening run). A suspect is cleared by any later pass that contains it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from tide.model import StagedPR, StagingRun
from tide.pool import Culprit, PoolState
from tide.staging import Outcome, RunResult
from tide.strategies.steps import EVIDENCE_TTL

SCREEN = "screen"
LAND = "land"


@dataclass(frozen=True, slots=True)
class Placed:
    """A run that sits on the current base, `offset` of its PRs already in it."""

    result: RunResult
    offset: int

    @property
    def run(self) -> StagingRun:
        return self.result.run

    @property
    def rest(self) -> tuple[StagedPR, ...]:
        return self.result.run.prs[self.offset :]


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed run that still says something: the PRs it suspects, not cleared since."""

    result: RunResult
    suspects: tuple[int, ...]
    alone: bool = False  # the run had only one suspect to begin with


@dataclass(frozen=True, slots=True)
class LaneBook:
    landable: tuple[Placed, ...]  # passed and sitting on the base
    stack: tuple[Placed, ...]  # land runs sitting on the base, pending or passed, not doomed
    inflight: tuple[RunResult, ...]  # pending runs we keep (they use CI capacity)
    # Pending runs nobody needs any more: CI still runs them (deleting a branch cancels
    # nothing), so they count against `max_concurrent_runs` and are deleted once they end.
    abandoned: tuple[RunResult, ...]
    failures: tuple[Failure, ...]
    deferred: frozenset[int]  # in a failed stacked run whose layer below is still running
    # PRs that failed in a run at their current head with no pass since (a pass after the
    # failure, alone or in a group, clears them: they stack with the others again).
    history: frozenset[int]
    proven: frozenset[int]  # PRs in a passed run at their current head
    screening: frozenset[int]  # PRs in a pending screening run
    culprits: tuple[Culprit, ...]
    recent_culprits: int  # PRs found broken within `screen_window`
    unresolved: int  # failures whose suspects are still being tested, counted once per cause
    last_land_start: datetime | None
    last_screen_start: datetime | None
    obsolete: tuple[StagingRun, ...]

    @property
    def running(self) -> int:
        """Staging runs CI is busy with, needed or not."""
        return len(self.inflight) + len(self.abandoned)


def offset_on(run: StagingRun, pool: PoolState, heads: dict[int, str]) -> int | None:
    """How many of the run's PRs the base already holds; None when it does not sit on it."""
    points = [(0, run.base_sha, run.base_tree)]
    points += [(la.size, la.commit_sha, la.tree_sha) for la in run.layers]
    for size, sha, tree in reversed(points):
        same_tree = bool(tree) and bool(pool.base_tree) and tree == pool.base_tree
        if sha != pool.base_sha and not same_tree:
            continue
        done, rest = run.prs[:size], run.prs[size:]
        if any(p.number in heads for p in done):
            return None
        if all(heads.get(p.number) == p.head_sha for p in rest):
            return size
        return None
    return None


def _at_head(prs: tuple[StagedPR, ...], heads: dict[int, str]) -> tuple[int, ...]:
    return tuple(p.number for p in prs if heads.get(p.number) == p.head_sha)


def read_lanes(pool: PoolState) -> LaneBook:
    q = pool.policy.queue
    heads = {pr.number: pr.head_sha for pr in pool.eligible}
    # A run not verified as tide's own (`tide.evidence`) is a claim: never used, never deleted.
    runs = [r for r in pool.runs if r.run.verified]
    abandoned = [r for r in runs if _abandoned(r, pool, heads)]
    runs = [r for r in runs if r not in abandoned]
    by_commit = {r.run.commit_sha: r for r in runs}
    failed_commits = {r.run.commit_sha for r in runs if r.outcome == Outcome.FAILURE}
    passes: dict[int, list[datetime]] = {}
    for r in runs:
        if r.outcome == Outcome.SUCCESS:
            for n in _at_head(r.run.prs, heads):
                passes.setdefault(n, []).append(r.run.created_at)

    def cleared(n: int, since: datetime) -> bool:
        return any(t > since for t in passes.get(n, ()))

    landable: list[Placed] = []
    stack: list[Placed] = []
    inflight: list[RunResult] = []
    obsolete: list[StagingRun] = []
    screening: set[int] = set()
    failures: list[Failure] = []
    deferred: set[int] = set()
    history: dict[int, datetime] = {}  # PR -> its latest failure at its current head
    broken_recent: set[StagedPR] = set()
    land_starts: list[datetime] = []
    screen_starts: list[datetime] = []
    for result in runs:
        run = result.run
        age = (pool.now - run.created_at).total_seconds()
        if run.lane == LAND:
            land_starts.append(run.created_at)
        elif run.lane == SCREEN:
            screen_starts.append(run.created_at)
        if result.outcome == Outcome.FAILURE:
            explained = [p for p in run.prs if p in pool.broken]
            for n in _at_head(run.prs, heads):
                history[n] = max(history.get(n, run.created_at), run.created_at)
            if explained:
                if age <= q.screen_window:
                    broken_recent.update(explained)
                    continue
                obsolete.append(run)
                continue
            if age > max(EVIDENCE_TTL, q.screen_window):
                obsolete.append(run)
                continue
            below = run.layers[-1] if run.layers else None
            prefix = by_commit.get(below.commit_sha) if below else None
            top = run.prs[below.size :] if below else run.prs
            if prefix is not None and prefix.outcome == Outcome.PENDING:
                deferred.update(_at_head(top, heads))
                continue
            if prefix is not None and prefix.outcome == Outcome.FAILURE:
                if age > q.screen_window:
                    obsolete.append(run)
                continue  # the failure below explains this one
            named = _at_head(top, heads)
            suspects = tuple(n for n in named if not cleared(n, run.created_at))
            if suspects:
                failures.append(Failure(result, suspects, alone=len(named) == 1))
            elif age > q.screen_window or not _at_head(run.prs, heads):
                obsolete.append(run)
            continue
        if run.lane == SCREEN and result.outcome == Outcome.PENDING:
            inflight.append(result)
            screening.update(p.number for p in run.prs)
            continue
        offset = offset_on(run, pool, heads)
        if offset is None:
            # A passed screening run off the base is still proof its PRs are good.
            keep = run.lane == SCREEN and bool(_at_head(run.prs, heads)) and age <= EVIDENCE_TTL
            if not keep:
                obsolete.append(run)
            continue
        placed = Placed(result, offset)
        if result.outcome == Outcome.SUCCESS:
            landable.append(placed)
        else:
            inflight.append(result)
        doomed = any(la.commit_sha in failed_commits for la in run.layers)
        if run.lane == LAND and not doomed:
            stack.append(placed)
    # A pass on exactly the current base outweighs failures of its PRs: that test is what
    # lands (as in `tide.strategies.steps`), so none of them is named a culprit meanwhile.
    exempt = frozenset(p.number for placed in landable for p in placed.run.prs)
    culprits = _culprits(pool, failures, q.single_retries, exempt)
    guilty = {c.pr.number for c in culprits}
    return LaneBook(
        landable=tuple(landable),
        stack=tuple(stack),
        inflight=tuple(inflight),
        abandoned=tuple(abandoned),
        failures=tuple(f for f in failures if not set(f.suspects) & guilty),
        deferred=frozenset(deferred),
        history=frozenset(n for n, at in history.items() if not cleared(n, at)),
        proven=frozenset(passes),
        screening=frozenset(screening),
        culprits=culprits,
        recent_culprits=len(broken_recent) + len(culprits),
        unresolved=_causes(f.suspects for f in failures if not set(f.suspects) & guilty),
        last_land_start=max(land_starts, default=None),
        last_screen_start=max(screen_starts, default=None),
        obsolete=tuple(obsolete),
    )


def _causes(groups: Iterable[tuple[int, ...]]) -> int:
    """Failures that cannot share a cause: a suspect tested alone after its group failed
    is the same news twice."""
    seen: set[int] = set()
    count = 0
    for group in sorted(groups, key=len):
        count += not seen & set(group)
        seen.update(group)
    return count


def _abandoned(result: RunResult, pool: PoolState, heads: dict[int, str]) -> bool:
    """A pending run whose answer no longer matters: a PR in it moved (screening), or it
    no longer sits on the base (stacked)."""
    if result.outcome != Outcome.PENDING:
        return False
    run = result.run
    if run.lane == SCREEN:
        return not all(heads.get(p.number) == p.head_sha for p in run.prs)
    return offset_on(run, pool, heads) is None


def _culprits(
    pool: PoolState, failures: list[Failure], retries: int, exempt: frozenset[int]
) -> tuple[Culprit, ...]:
    """A PR that was the only suspect of more than `retries` failures, with no pass since,
    breaks the build (or what is landing ahead of it, which lands first). A group failure
    whose other PRs passed later does not count: PRs may break only together."""
    out: list[Culprit] = []
    for pr in pool.eligible:
        if pr.number in exempt:
            continue
        mine = [f for f in failures if f.alone and f.suspects == (pr.number,)]
        if len(mine) > retries:
            latest = max(mine, key=lambda f: f.result.run.created_at)
            out.append(Culprit(pr, latest.result))
    return tuple(out)
