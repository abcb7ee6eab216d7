"""The throughput benchmark's harness: seeded workloads, a short run of the real daemon on
the virtual clock, the idle-tick shortcut, and the targets it reports against."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

# `bench` sits beside `tide`, outside the installed package.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.measure import Metrics, measure, pair_partners
from bench.report import rows, targets
from bench.simulation import simulate
from bench.workload import WORKLOADS, Kind, Workload, arrivals

# Small enough for seconds of wall clock: a few PRs, one of them bad, a short CI.
TINY = Workload("tiny", arrivals_per_hour=12.0, ci_minutes=5.0, bad_fraction=0.2, hours=1.0)
TINY_SEED = 4


def test_a_workload_is_the_same_poisson_stream_for_every_strategy():
    busy = WORKLOADS["busy"]
    stream = arrivals(busy, 1)
    assert stream == arrivals(busy, 1)
    assert stream != arrivals(busy, 2)
    assert 180 <= len(stream) <= 300  # 30/h over 8 h, well inside Poisson noise
    assert all(a.at < b.at for a, b in itertools.pairwise(stream))
    bad = sum(a.kind == Kind.BAD for a in stream)
    assert 5 <= bad <= 45
    assert len({a.path for a in stream}) == len(stream)  # one file each: no text conflicts


async def test_a_short_run_merges_the_good_prs_and_leaves_the_bad_one_out(schema):
    stream = arrivals(TINY, TINY_SEED)
    assert any(a.kind == Kind.BAD for a in stream[:5])
    run = await simulate(TINY, "bisect", TINY_SEED)
    m = measure(run)
    assert m.base_broken == 0
    assert m.merged >= len(stream) // 2
    assert m.culprits >= 1 and m.good_culprits == 0
    pulls = run.repo.pulls
    for arrival in stream:
        pr = pulls[run.numbers[arrival.index]]
        if arrival.kind == Kind.BAD:
            assert pr.state != "MERGED"
    assert 0 < m.ci_runs_per_merged < 1
    assert m.requests_per_merged > 0


async def test_skipping_idle_ticks_makes_the_same_merges_at_the_same_times(schema):
    fast = await simulate(TINY, "bisect-parallel", TINY_SEED)
    slow = await simulate(TINY, "bisect-parallel", TINY_SEED, skip_idle=False)

    def merges(run):
        return [(m.number, m.at) for m in run.world.journal.merges]

    assert merges(fast) == merges(slow)
    assert fast.skipped_syncs > 0 and fast.syncs < slow.syncs
    assert len(fast.repo.ci.runs) == len(slow.repo.ci.runs)


def _metrics(workload: str, strategy: str, merged_per_hour: float, **kw: float) -> Metrics:
    values: dict[str, float] = {
        "p50_minutes": 30.0,
        "p95_minutes": 40.0,
        "good_left": 0,
        "ci_runs_per_merged": 0.1,
        "base_broken": 0,
    }
    values.update(kw)
    return Metrics(
        strategy=strategy,
        workload=workload,
        seed=1,
        merged_per_hour=merged_per_hour,
        p50_minutes=values["p50_minutes"],
        p95_minutes=values["p95_minutes"],
        good_left=int(values["good_left"]),
        ci_runs_per_merged=values["ci_runs_per_merged"],
        requests_per_merged=10.0,
        base_broken=int(values["base_broken"]),
        merged=0,
        arrived=0,
        eligible=0,
        staging_runs=0,
        requests=0,
        culprits=0,
        good_culprits=0,
        rate_limited=0,
        syncs=0,
        skipped_syncs=0,
    )


def test_targets_compare_the_better_bisect_variant_with_tide_and_demand_a_safe_base():
    metrics = [
        _metrics("healthy", "bisect", 28.0, p95_minutes=55.0),
        _metrics("busy", "tide", 2.0),
        _metrics("busy", "bisect", 2.5),
        _metrics("busy", "bisect-parallel", 3.2, base_broken=1),
    ]
    order = [(m.workload, m.strategy) for m in metrics]
    verdicts = {t.name: t.passed for t in targets(rows(metrics, order), WORKLOADS)}
    assert verdicts == {
        "base branch never broken (every row, every seed)": False,
        "healthy: bisect keeps up (no good PR left)": True,
        "healthy: bisect p95 <= 2.5 CI durations (50 min)": False,
        "healthy: bisect <= 0.25 CI runs per merged PR": True,
        "busy: better bisect variant merges >= 1.5x tide": True,
    }


async def test_the_scale_bench_measures_a_cold_and_a_steady_cycle_in_a_small_world():
    from bench.scale import measure_size
    from bench.scale_world import Shape

    cold, steady = await measure_size(Shape(prs=40, repos=2), steady_cycles=1, gap=0.0)
    assert cold.open == steady.open == 40
    assert cold.graphql > 0 and cold.points > 0 and cold.cpu > 0 and cold.rss_mb > 0
    # Within GitHub's write limits, the staging builds first; every PR is statused in the end.
    assert 0 < cold.peak_minute <= cold.peak_hour <= cold.rest_writes
    assert cold.peak_minute <= 80 and cold.statused < 40
    assert steady.statused == 40
    assert steady.rest_writes == 0  # nothing changed on GitHub: nothing to write
    assert steady.refused == 0
    assert dict(cold.points_by_operation)  # the breakdown names where the points went


def test_the_scale_world_has_the_issue_s_mix_of_prs():
    from collections import Counter

    from bench.scale_world import kind_of

    kinds = Counter(kind_of(i) for i in range(1000))
    assert kinds["ready"] == 600
    assert kinds["no-label"] == 100 and kinds["held"] == 80 and kinds["conflicting"] == 70
    per_repo = Counter(kind_of(i) for i in range(10))  # a repository of 10 PRs gets a mix
    assert len(per_repo) >= 3


async def test_lanes_short_run_keeps_bad_prs_out_and_reports_its_peak(schema):
    run = await simulate(TINY, "lanes", TINY_SEED)
    m = measure(run)
    assert m.base_broken == 0
    assert m.merged >= len(arrivals(TINY, TINY_SEED)) // 2
    assert m.culprits >= 1 and m.good_culprits == 0
    assert 1 <= m.peak_runs <= 24


def test_lane_goals_say_by_how_much_a_row_misses():
    metrics = [
        _metrics("busy", "lanes", 25.0, p50_minutes=45.0, p95_minutes=48.0, ci_runs_per_merged=1.5)
    ]
    order = [(m.workload, m.strategy) for m in metrics]
    found = {t.name: t for t in targets(rows(metrics, order), WORKLOADS)}
    assert found["busy: lanes keeps up"].passed
    assert not found["busy: lanes p50 <= 2 CI (40 min)"].passed
    assert found["busy: lanes p50 <= 2 CI (40 min)"].measured == "45.0 min (+5.0)"
    assert found["busy: lanes p95 <= 2.5 CI (50 min)"].passed
    assert found["busy: lanes <= 1.2 CI runs per merged PR"].measured == "1.50 (+0.30)"


def test_the_quick_benchmark_runs_end_to_end(schema):
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "bench/throughput.py", "--quick", "--strategies", "lanes,bisect"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PASS  base branch never broken" in done.stdout
    assert "| pairs | bisect |" in done.stdout or "| pairs |" in done.stdout


def test_a_pair_dooms_whichever_of_its_two_is_left_once_the_other_merged():
    """The stream names only the later PR's partner; when the later one merged first, the
    earlier one can never land, and counting it as a good PR left behind was wrong."""
    stream = arrivals(replace(WORKLOADS["pairs"], hours=4), 1)
    partners = pair_partners(stream)
    pairs = [(a.index, a.partner) for a in stream if a.partner is not None]
    assert pairs
    for later, earlier in pairs:
        assert earlier in partners[later] and later in partners[earlier]
