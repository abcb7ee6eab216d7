"""The chaos benchmark: seeded randomized runs of the real daemon against the simulator on a
virtual clock, each under one kind of trouble, judged from the simulator's record alone.

    python bench/chaos.py                       # 1,001 runs: 91 per fault kind
    python bench/chaos.py --quick               # a smoke run: 2 runs per kind
    python bench/chaos.py --runs 300 --seed 7   # 300 runs, seeds 7, 8, ...
    python bench/chaos.py --one forged-staging:12   # one run, and what was unsafe in it

Unsafe: (a) the base at a commit that fails CI, (b) an ineligible PR merged, (c) the base
moved to a combination no passed run tested. The goal is 0 in every row.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos_oracle import judge
from bench.chaos_world import KINDS, Kind, run_chaos

DEFAULT_RUNS = 1001  # 91 per fault kind
QUICK_RUNS = 2 * len(KINDS)


@dataclass(frozen=True, slots=True)
class Result:
    kind: str
    seed: int
    merged: int
    base_failing: int
    ineligible: int
    untested: int
    restarts: int
    standby_syncs: int
    crashes: int
    detail: str
    seconds: float


def _silence_logs() -> None:
    from tide.logs import configure_logging

    configure_logging("error", "json", stream=io.StringIO())


def one_run(kind: Kind, seed: int, minutes: int) -> Result:
    """One seeded run in this process, judged."""
    _silence_logs()
    began = time.perf_counter()
    out = asyncio.run(run_chaos(kind, seed, minutes=minutes))
    verdict = judge(out)
    detail = "; ".join(
        [
            *(f"(a) base at failing {s}" for s in verdict.base_failing),
            *(f"(b) {s}" for s in verdict.ineligible),
            *(f"(c) {s}" for s in verdict.untested),
            *(f"crash: {c}" for c in out.crashes[:3]),
        ]
    )
    return Result(
        kind=kind.value,
        seed=seed,
        merged=verdict.merged,
        base_failing=int(bool(verdict.base_failing)),
        ineligible=int(bool(verdict.ineligible)),
        untested=int(bool(verdict.untested)),
        restarts=out.restarts,
        standby_syncs=out.standby_syncs,
        crashes=len(out.crashes),
        detail=detail,
        seconds=time.perf_counter() - began,
    )


def _task(args: tuple[str, int, int]) -> Result:
    kind, seed, minutes = args
    return one_run(Kind(kind), seed, minutes)


def tasks(runs: int, seed: int, kinds: Sequence[Kind], minutes: int) -> list[tuple[str, int, int]]:
    """Run i gets kind i mod K and seed `seed + i`: every kind gets its share."""
    return [(kinds[i % len(kinds)].value, seed + i, minutes) for i in range(runs)]


def run_all(todo: list[tuple[str, int, int]], jobs: int) -> list[Result]:
    results: list[Result] = []
    if jobs <= 1:
        return [_task(t) for t in todo]
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for i, result in enumerate(pool.map(_task, todo, chunksize=4), 1):
            results.append(result)
            if i % 100 == 0:
                print(f"[{i}/{len(todo)}]", file=sys.stderr, flush=True)
    return results


def table(results: Sequence[Result], kinds: Sequence[Kind]) -> str:
    head = ("fault kind", "runs", "merges", "(a) base failing", "(b) ineligible", "(c) untested")
    rows = [head]
    for kind in [*kinds, None]:
        mine = [r for r in results if kind is None or r.kind == kind.value]
        rows.append(
            (
                kind.value if kind is not None else "total",
                str(len(mine)),
                str(sum(r.merged for r in mine)),
                str(sum(r.base_failing for r in mine)),
                str(sum(r.ineligible for r in mine)),
                str(sum(r.untested for r in mine)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    lines = []
    for n, row in enumerate(rows):
        numbers = zip(row[1:], widths[1:], strict=True)
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in numbers]
        lines.append("  ".join(cells))
        if n == 0 or n == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs")
    parser.add_argument("--runs", type=int, help=f"runs in all (default {DEFAULT_RUNS})")
    parser.add_argument("--seed", type=int, default=1, help="the first run's seed")
    parser.add_argument("--minutes", type=int, default=25, help="virtual minutes per run")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="processes")
    parser.add_argument(
        "--kinds", default=",".join(k.value for k in KINDS), help="comma-separated fault kinds"
    )
    parser.add_argument("--one", metavar="KIND:SEED", help="one run, with what it found")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.one:
        kind_text, _, seed_text = args.one.rpartition(":")
        result = one_run(Kind(kind_text), int(seed_text), args.minutes)
        print(result)
        return 1 if result.detail else 0
    try:
        kinds = [Kind(k.strip()) for k in args.kinds.split(",") if k.strip()]
    except ValueError as exc:
        print(f"{exc}; known: {', '.join(k.value for k in KINDS)}", file=sys.stderr)
        return 2
    runs = args.runs or (2 * len(kinds) if args.quick else DEFAULT_RUNS)
    began = time.perf_counter()
    results = run_all(tasks(runs, args.seed, kinds, args.minutes), max(1, args.jobs))
    elapsed = time.perf_counter() - began
    print(table(results, kinds))
    unsafe = [r for r in results if r.base_failing or r.ineligible or r.untested]
    crashed = [r for r in results if r.crashes]
    for r in [*unsafe, *crashed][:20]:
        print(f"  {r.kind}:{r.seed}  {r.detail}")
    print(
        f"\n{len(results)} runs ({args.minutes} virtual minutes each, seeds {args.seed}.."
        f"{args.seed + runs - 1}) in {elapsed:.0f} s wall clock with {args.jobs} process(es); "
        f"{sum(r.restarts for r in results)} restarts, "
        f"{sum(r.standby_syncs for r in results)} syncs standing by, "
        f"{len(crashed)} runs with a crashed sync"
    )
    return 1 if unsafe else 0


if __name__ == "__main__":
    raise SystemExit(main())
