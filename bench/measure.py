"""What one finished run shows: throughput, latency, PRs left behind, CI runs, API requests,
and whether the base branch ever pointed at a commit that fails CI."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bench.simulation import BASE, CONTEXT, Run
from bench.workload import Arrival, Kind
from tide.criteria import BROKEN_PREFIX
from tide.sim.world.entities import SimPR

# Good PRs eligible at least this long before the end must have merged.
LEFT_AFTER = 2 * 3600.0


@dataclass(frozen=True, slots=True)
class Metrics:
    """One (strategy, workload, seed): plain numbers, cheap to send between processes."""

    strategy: str
    workload: str
    seed: int
    merged_per_hour: float
    p50_minutes: float  # eligible -> merged, over merged PRs; nan when none merged
    p95_minutes: float
    good_left: int
    ci_runs_per_merged: float
    requests_per_merged: float
    base_broken: int
    merged: int
    arrived: int
    eligible: int
    staging_runs: int
    requests: int
    culprits: int  # PRs the daemon marked as breaking the build
    good_culprits: int  # ... of which were not bad (flakes or pairs)
    rate_limited: int  # requests GitHub refused for the rate limit
    syncs: int
    skipped_syncs: int
    peak_runs: int = 0  # staging CI runs in flight at once, at most


def eligible_at(run: Run, pr: SimPR) -> datetime | None:
    """When the PR's own check first went green on its head (it is labelled from the start)."""
    ci = run.repo.ci
    assert ci is not None
    done = [
        r.ended_at
        for r in ci.runs_on(pr.head_sha)
        if r.ref == pr.head_ref and r.context == CONTEXT and r.result == "success"
    ]
    return min((t for t in done if t is not None), default=None)


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def staging_runs(run: Run) -> int:
    """Staging runs started: one per staging commit and attempt, whatever the contexts."""
    ci = run.repo.ci
    assert ci is not None
    prefix = "tide/"
    return len({(r.sha, r.attempt) for r in ci.runs if r.ref.startswith(prefix)})


def peak_runs(run: Run) -> int:
    """The most staging CI runs in flight at once (a run abandoned by tide still counts
    until CI finishes it: the simulated CI does not cancel runs of deleted branches)."""
    ci = run.repo.ci
    assert ci is not None
    events: list[tuple[datetime, int]] = []
    for r in {(r.sha, r.attempt): r for r in ci.runs if r.ref.startswith("tide/")}.values():
        events.append((r.started_at, 1))
        events.append((r.ended_at or run.ended, -1))
    peak = level = 0
    for _, delta in sorted(events):
        level += delta
        peak = max(peak, level)
    return peak


def base_broken(run: Run) -> int:
    """Commits the base branch ever pointed to whose tree fails CI."""
    git, ci = run.repo.git, run.repo.ci
    assert ci is not None
    return sum(1 for sha in git.history[BASE] if not ci.verdict(git.commits[sha].tree))


def _marked_broken(run: Run, pr: SimPR) -> bool:
    statuses = run.repo.statuses.get(pr.head_sha, [])
    return any(s.context == "tide" and s.description.startswith(BROKEN_PREFIX) for s in statuses)


def pair_partners(stream: Sequence[Arrival]) -> dict[int, list[int]]:
    """Arrival index -> the arrivals it breaks together with. A pair breaks whichever of its
    two lands second, so each is the other's partner (the stream names only the later's)."""
    partners: dict[int, list[int]] = {}
    for arrival in stream:
        if arrival.partner is not None:
            partners.setdefault(arrival.index, []).append(arrival.partner)
            partners.setdefault(arrival.partner, []).append(arrival.index)
    return partners


def measure(run: Run) -> Metrics:
    hours = run.workload.hours
    pulls = run.repo.pulls
    by_index = {a.index: pulls[run.numbers[a.index]] for a in run.stream if a.index in run.numbers}
    merged = [pr for pr in by_index.values() if pr.state == "MERGED"]
    latencies: list[float] = []
    good_left = eligible = culprits = good_culprits = 0
    partners = pair_partners(run.stream)
    for arrival in run.stream:
        pr = by_index.get(arrival.index)
        if pr is None:
            continue
        ready = eligible_at(run, pr)
        if ready is not None:
            eligible += 1
        if pr.state == "MERGED" and pr.merged_at is not None and ready is not None:
            latencies.append((pr.merged_at - ready).total_seconds() / 60.0)
        landed = [by_index[i] for i in partners.get(arrival.index, ()) if i in by_index]
        doomed = arrival.kind == Kind.BAD or any(p.state == "MERGED" for p in landed)
        if _marked_broken(run, pr):
            culprits += 1
            good_culprits += 0 if arrival.kind == Kind.BAD else 1
        if doomed or pr.state == "MERGED" or ready is None:
            continue
        if (run.ended - ready).total_seconds() >= LEFT_AFTER:
            good_left += 1
    runs = staging_runs(run)
    requests = len(run.world.journal.requests) + run.skipped_requests
    limited = sum(
        1 for r in run.world.journal.requests if r.status in (403, 429) and r.login is not None
    )
    count = len(merged)
    return Metrics(
        strategy=run.strategy,
        workload=run.workload.name,
        seed=run.seed,
        merged_per_hour=count / hours,
        p50_minutes=statistics.median(latencies) if latencies else float("nan"),
        p95_minutes=percentile(latencies, 95),
        good_left=good_left,
        ci_runs_per_merged=runs / count if count else float("inf"),
        requests_per_merged=requests / count if count else float("inf"),
        base_broken=base_broken(run),
        merged=count,
        arrived=len(by_index),
        eligible=eligible,
        staging_runs=runs,
        requests=requests,
        culprits=culprits,
        good_culprits=good_culprits,
        rate_limited=limited,
        syncs=run.syncs,
        skipped_syncs=run.skipped_syncs,
        peak_runs=peak_runs(run),
    )
