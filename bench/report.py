"""Rows of the benchmark table (medians over seeds), the targets, and their rendering."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from bench.measure import Metrics
from bench.workload import Workload

BASELINE = "tide"
BISECTS = ("bisect", "bisect-parallel")


@dataclass(frozen=True, slots=True)
class Row:
    """One strategy on one workload: the median of each metric over its seeds."""

    workload: str
    strategy: str
    seeds: int
    merged_per_hour: float
    p50_minutes: float
    p95_minutes: float
    good_left: float
    ci_runs_per_merged: float
    requests_per_merged: float
    base_broken: int  # total over seeds, not a median: it must be 0 everywhere
    good_culprits: float
    rate_limited: int  # total over seeds
    peak_runs: int = 0  # the most over seeds
    vs_tide: float = math.nan


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    measured: str
    passed: bool


def _median(values: Iterable[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def rows(metrics: Sequence[Metrics], order: Sequence[tuple[str, str]]) -> list[Row]:
    """Rows in `order` (workload, strategy), each the median over that pair's seeds."""
    out: list[Row] = []
    for workload, strategy in order:
        mine = [m for m in metrics if m.workload == workload and m.strategy == strategy]
        if not mine:
            continue
        out.append(
            Row(
                workload=workload,
                strategy=strategy,
                seeds=len(mine),
                merged_per_hour=_median(m.merged_per_hour for m in mine),
                p50_minutes=_median(m.p50_minutes for m in mine),
                p95_minutes=_median(m.p95_minutes for m in mine),
                good_left=_median(m.good_left for m in mine),
                ci_runs_per_merged=_median(m.ci_runs_per_merged for m in mine),
                requests_per_merged=_median(m.requests_per_merged for m in mine),
                base_broken=sum(m.base_broken for m in mine),
                good_culprits=_median(m.good_culprits for m in mine),
                rate_limited=sum(m.rate_limited for m in mine),
                peak_runs=max(m.peak_runs for m in mine),
            )
        )
    baseline = {r.workload: r.merged_per_hour for r in out if r.strategy == BASELINE}
    return [_with_ratio(r, baseline.get(r.workload)) for r in out]


def _with_ratio(row: Row, tide: float | None) -> Row:
    if tide is None:
        return row
    return replace(row, vs_tide=row.merged_per_hour / tide if tide else math.inf)


def _find(table: Sequence[Row], workload: str, strategy: str) -> Row | None:
    return next((r for r in table if r.workload == workload and r.strategy == strategy), None)


def targets(table: Sequence[Row], workloads: dict[str, Workload]) -> list[Target]:
    """The issue's targets, for whichever of their rows this run has."""
    out: list[Target] = []
    broken = sum(r.base_broken for r in table)
    worst = [f"{r.workload}/{r.strategy}" for r in table if r.base_broken]
    out.append(
        Target(
            "base branch never broken (every row, every seed)",
            f"{broken} broken commits" + (f" in {', '.join(worst)}" if worst else ""),
            broken == 0,
        )
    )
    healthy = _find(table, "healthy", "bisect")
    if healthy is not None:
        ci = workloads["healthy"].ci_minutes
        out += [
            Target(
                "healthy: bisect keeps up (no good PR left)",
                f"{healthy.good_left:g} left",
                healthy.good_left == 0,
            ),
            Target(
                f"healthy: bisect p95 <= 2.5 CI durations ({2.5 * ci:g} min)",
                f"{healthy.p95_minutes:.1f} min",
                healthy.p95_minutes <= 2.5 * ci,
            ),
            Target(
                "healthy: bisect <= 0.25 CI runs per merged PR",
                f"{healthy.ci_runs_per_merged:.2f}",
                healthy.ci_runs_per_merged <= 0.25,
            ),
        ]
    for name in ("light", "busy"):
        tide = _find(table, name, BASELINE)
        variants = [r for s in BISECTS if (r := _find(table, name, s)) is not None]
        if tide is None or not variants:
            continue
        best = max(variants, key=lambda r: r.merged_per_hour)
        out.append(
            Target(
                f"{name}: better bisect variant merges >= 1.5x tide",
                f"{best.strategy} {best.merged_per_hour:.2f}/h vs tide "
                f"{tide.merged_per_hour:.2f}/h = {best.vs_tide:.2f}x",
                best.vs_tide >= 1.5,
            )
        )
    out += lane_targets(table, workloads)
    return out


# Issue 14's goals for the two-lane strategy: (workload, p50, p95 in CI durations, runs/merged).
LANE_GOALS: dict[str, tuple[float | None, float | None, float | None]] = {
    "healthy": (1.5, 2.0, 0.15),
    "light": (1.1, 2.0, None),
    "busy": (2.0, 2.5, 1.2),
    "pairs": (None, None, None),
}
LANES = "lanes"
MAX_IN_FLIGHT = 24


def lane_targets(table: Sequence[Row], workloads: dict[str, Workload]) -> list[Target]:
    out: list[Target] = []
    for name, (p50, p95, cost) in LANE_GOALS.items():
        row = _find(table, name, LANES)
        if row is None or name not in workloads:
            continue
        ci = workloads[name].ci_minutes
        out.append(Target(f"{name}: lanes keeps up", f"{row.good_left:g} left", row.good_left == 0))
        for label, limit, value in (("p50", p50, row.p50_minutes), ("p95", p95, row.p95_minutes)):
            if limit is not None:
                out.append(
                    Target(
                        f"{name}: lanes {label} <= {limit:g} CI ({limit * ci:g} min)",
                        f"{value:.1f} min ({value - limit * ci:+.1f})",
                        value <= limit * ci,
                    )
                )
        if cost is not None:
            out.append(
                Target(
                    f"{name}: lanes <= {cost:g} CI runs per merged PR",
                    f"{row.ci_runs_per_merged:.2f} ({row.ci_runs_per_merged - cost:+.2f})",
                    row.ci_runs_per_merged <= cost,
                )
            )
        out.append(
            Target(
                f"{name}: lanes <= {MAX_IN_FLIGHT} staging runs in flight",
                f"peak {row.peak_runs}",
                row.peak_runs <= MAX_IN_FLIGHT,
            )
        )
    return out


HEADER = (
    "workload",
    "strategy",
    "merged/h",
    "vs tide",
    "p50 min",
    "p95 min",
    "good left",
    "CI runs/merged",
    "API req/merged",
    "base broken",
    "peak runs",
)


def _num(value: float, digits: int = 1) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:.{digits}f}"


def render_table(table: Sequence[Row]) -> str:
    """A Markdown table: readable in a terminal, pasteable into docs."""
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * 2 + "---:|" * (len(HEADER) - 2)]
    previous = ""
    for r in table:
        cells = [
            r.workload if r.workload != previous else "",
            r.strategy,
            _num(r.merged_per_hour),
            _num(r.vs_tide, 2) + ("x" if not math.isnan(r.vs_tide) else ""),
            _num(r.p50_minutes, 0),
            _num(r.p95_minutes, 0),
            _num(r.good_left, 0),
            _num(r.ci_runs_per_merged, 2),
            _num(r.requests_per_merged, 0),
            str(r.base_broken),
            str(r.peak_runs),
        ]
        previous = r.workload
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_targets(found: Sequence[Target]) -> str:
    width = max((len(t.name) for t in found), default=0)
    return "\n".join(
        f"{'PASS' if t.passed else 'MISS'}  {t.name:<{width}}  {t.measured}" for t in found
    )
