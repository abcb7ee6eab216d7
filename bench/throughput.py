"""The throughput benchmark: every strategy on every workload, the real daemon against the
simulator on a virtual clock, one table row per pair (median of seeds) and the targets.

    python bench/throughput.py            # the full run (8 simulated hours, 5 seeds)
    python bench/throughput.py --quick    # a smoke run: 1 simulated hour, 1 seed
    python bench/throughput.py --trace bisect:busy:1   # one run, every decision it made
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.measure import Metrics, measure
from bench.report import render_table, render_targets, rows, targets
from bench.simulation import simulate
from bench.strategies import ALL
from bench.workload import EXTRA_WORKLOADS, WORKLOADS, Workload, quick
from tide.pool import Action
from tide.sync import SyncReport

KNOWN_WORKLOADS = {**WORKLOADS, **EXTRA_WORKLOADS}


@dataclass(frozen=True, slots=True)
class Task:
    workload: Workload
    strategy: str
    seed: int


def _silence_logs() -> None:
    from tide.logs import configure_logging

    configure_logging("error", "json", stream=io.StringIO())


def run_task(task: Task) -> tuple[Metrics, float]:
    """One simulation in this process: its metrics and the wall-clock seconds it took."""
    _silence_logs()
    began = time.perf_counter()
    run = asyncio.run(simulate(task.workload, task.strategy, task.seed))
    return measure(run), time.perf_counter() - began


def _cost(task: Task) -> float:
    """A rough guess of a task's run time, to start the longest first."""
    slow = 2.0 if task.strategy == "tide" else 1.0
    return task.workload.arrivals_per_hour * task.workload.hours * slow


def run_all(tasks: Sequence[Task], jobs: int) -> list[Metrics]:
    results: list[Metrics] = []
    ordered = sorted(tasks, key=_cost, reverse=True)
    done = 0

    def note(task: Task, metrics: Metrics, seconds: float) -> None:
        print(
            f"[{done}/{len(tasks)}] {task.workload.name:8} {task.strategy:24} seed {task.seed}: "
            f"{metrics.merged_per_hour:5.1f} merged/h ({seconds:.0f} s)",
            file=sys.stderr,
            flush=True,
        )

    if jobs <= 1:
        for task in ordered:
            metrics, seconds = run_task(task)
            done += 1
            results.append(metrics)
            note(task, metrics, seconds)
        return results
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_task, task): task for task in ordered}
        for future in as_completed(futures):
            metrics, seconds = future.result()
            done += 1
            results.append(metrics)
            note(futures[future], metrics, seconds)
    return results


def trace_one(spec: str, hours: float | None) -> int:
    """Run one (strategy, workload, seed) and print every sync that did something."""
    try:
        strategy, workload_name, seed_text = spec.rsplit(":", 2)
        workload, seed = KNOWN_WORKLOADS[workload_name], int(seed_text)
    except (ValueError, KeyError):
        print(f"--trace wants STRATEGY:WORKLOAD:SEED, got {spec!r}", file=sys.stderr)
        return 2
    if strategy not in ALL:
        print(f"unknown strategy {strategy!r}; known: {', '.join(ALL)}", file=sys.stderr)
        return 2
    if hours is not None:
        workload = replace(workload, hours=hours)
    _silence_logs()
    first: list[datetime] = []

    def show(now: datetime, report: SyncReport) -> None:
        first.append(now)
        minute = (now - first[0]).total_seconds() / 60 + 1
        for pool in report.pools:
            d, ex = pool.decision, pool.execution
            merged = [p.number for p in ex.merged] if ex else []
            if d.action == Action.WAIT and not merged and not d.culprits:
                continue
            extra = f" merged={merged}" if merged else ""
            extra += f" culprits={[c.pr.number for c in d.culprits]}" if d.culprits else ""
            extra += f" dropped={[str(d) for d in ex.dropped]}" if ex and ex.dropped else ""
            extra += f" error={pool.error}" if pool.error else ""
            print(
                f"{minute:6.0f}m eligible={len(pool.state.eligible):3} {d.action:13} "
                f"{d.reason}{extra}"
            )

    run = asyncio.run(simulate(workload, strategy, seed, trace=show))
    print(json.dumps(asdict(measure(run)), indent=2))
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 simulated hour, 1 seed")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument("--seeds", type=int, help="seeds per row (default 5, quick 1)")
    parser.add_argument("--hours", type=float, help="simulated hours per run (default 8)")
    parser.add_argument(
        "--strategies",
        default=",".join(ALL),
        help=f"comma-separated, from: {', '.join(ALL)}",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated, from: {', '.join(KNOWN_WORKLOADS)}",
    )
    parser.add_argument("--json", type=Path, help="also write every run's metrics here")
    parser.add_argument("--trace", metavar="STRATEGY:WORKLOAD:SEED", help="trace one run")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.trace:
        return trace_one(args.trace, args.hours)
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [s for s in strategies if s not in ALL] + [
        w for w in names if w not in KNOWN_WORKLOADS
    ]
    if unknown:
        print(f"unknown strategy or workload: {', '.join(unknown)}", file=sys.stderr)
        return 2
    workloads = {n: KNOWN_WORKLOADS[n] for n in names}
    if args.quick:
        workloads = {n: quick(w) for n, w in workloads.items()}
    if args.hours:
        workloads = {n: replace(w, hours=args.hours) for n, w in workloads.items()}
    seeds = args.seeds or (1 if args.quick else 5)
    tasks = [
        Task(w, s, seed)
        for w in workloads.values()
        for s in strategies
        for seed in range(1, seeds + 1)
    ]
    began = time.perf_counter()
    metrics = run_all(tasks, max(1, args.jobs))
    elapsed = time.perf_counter() - began
    table = rows(metrics, [(w, s) for w in workloads for s in strategies])
    print()
    for w in workloads.values():
        print(f"{w.name}: {w.describe()}")
    print(f"median of {seeds} seed(s) per row; base broken is the total over seeds\n")
    print(render_table(table))
    print()
    print(render_targets(targets(table, workloads)))
    if args.quick:
        print("(a quick run: too short for the targets to mean much)")
    print(f"\n{len(tasks)} runs in {elapsed:.0f} s wall clock with {args.jobs} process(es)")
    if args.json:
        args.json.write_text(json.dumps([asdict(m) for m in metrics], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
