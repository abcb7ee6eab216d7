"""The scale benchmark: what one sync cycle (sync + status pass) of the real daemon costs
GitHub and the host when a large org has thousands of open PRs.

    python bench/scale.py            # 5,000 PRs in 50 repositories, and 500 in 50
    python bench/scale.py --quick    # 200 PRs in 4 repositories (the test's smoke run)

The simulator runs in a child process (so its work is not charged to the daemon); the daemon
runs here on the real clock. Each size gets a cold cycle (a fresh daemon) and then steady-state
cycles (nothing changed on GitHub), 31 s apart; the table shows the last steady one. CPU is
this process's user+sys time over the cycle; max RSS its peak resident memory during it.
See docs/benchmark.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import multiprocessing
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scale_world import CONTEXT, HOLD, ORG, READY, TOKEN, Shape, serve
from tide.clock import RealClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.search_query import SEARCH_OVERLAP
from tide.history import History
from tide.write_pace import GITHUB_LIMITS, STATUS_SHARE, WriteLimits

STEADY_CYCLES = 2
# Steady cycles start this far apart, as a daemon's do (at least a sync_period of 1m would):
# the status pass re-reads the last 30 s (`SEARCH_OVERLAP`, search indexing lags), so cycles run
# back to back would re-read what the previous one just wrote.
STEADY_GAP = SEARCH_OVERLAP.total_seconds() + 1


@dataclass(frozen=True, slots=True)
class Goal:
    """A figure's goal, from the issue (only set for the 5,000-PR rows)."""

    text: str
    met: Callable[[float], bool]


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    graphql: int
    points: int
    cpu: float
    rss_mb: float
    rest_reads: int
    not_modified: int
    rest_writes: int
    statused: int
    open: int
    seconds: float
    refused: int  # REST requests GitHub refused (rate limits)
    sync_points: int  # of `points`, those the sync spent (the rest: the status pass)
    points_by_operation: tuple[tuple[str, int], ...]
    writes_by_endpoint: tuple[tuple[str, int], ...]
    # The most writes tide sent in any 60 s and in any hour of the cycle (its write budget's
    # count, which sees every POST/PATCH/PUT/DELETE the REST client sends).
    peak_minute: int = 0
    peak_hour: int = 0


def config_text(urls: dict[str, str]) -> str:
    return f"""
github:
  graphql_url: {urls["graphql_url"]}
  api_url: {urls["api_url"]}
tide:
  sync_period: 1m
  status_update_period: 1m
  queries:
  - orgs: [{ORG}]
    labels: [{READY[0]}]
    missingLabels: [{HOLD}]
  context_options:
    from-branch-protection: true
    required-contexts: [{CONTEXT}]
  blocker_label: tide/merge-blocker
"""


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _reset_peak_rss() -> None:
    """Linux lets a process reset its own peak RSS (VmHWM); elsewhere the peak is lifelong."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class SimProcess:
    """The simulator in a child process, reachable over HTTP and a command pipe."""

    def __init__(self, shape: Shape) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=serve, args=(shape, child), daemon=True)
        self._process.start()
        self.urls: dict[str, str] = self._conn.recv()

    def ask(self, command: object) -> Any:
        self._conn.send(command)
        return self._conn.recv()

    def close(self) -> None:
        self._conn.send("stop")
        self._process.join(timeout=30)


async def measure_size(
    shape: Shape, steady_cycles: int = STEADY_CYCLES, gap: float = STEADY_GAP
) -> list[Row]:
    sim = SimProcess(shape)
    try:
        config = parse_config(config_text(sim.urls))
        endpoint = GitHubEndpoint(sim.urls["graphql_url"], sim.urls["api_url"])
        async with GitHub(endpoint, StaticToken(TOKEN), clock=RealClock()) as gh:
            daemon = Daemon(ConfigHolder(config), gh, history=History())
            rows = [await _cycle(daemon, sim, f"{shape.prs:,} PRs cold")]
            await _settle(daemon, sim)
            for _ in range(steady_cycles):
                await asyncio.sleep(gap)
                steady = await _cycle(daemon, sim, f"{shape.prs:,} PRs steady")
            rows.append(steady)
            return rows
    finally:
        sim.close()


async def _settle(daemon: Daemon, sim: SimProcess) -> None:
    """Skip the hours the paced writes of a cold start take (80 a minute, 500 an hour, the
    queue's staging builds first): lift the budget and sync and write the rest at once, in
    fresh rate-limit hours, so the steady cycles measure a daemon with nothing left to do.
    The cold row says how long the pace needs for the statuses."""
    pace = daemon.clients.writes
    pace.limits = WriteLimits(per_minute=10**9, per_hour=10**9)
    daemon.statuses.force_full_pass()  # also the PRs whose writes GitHub refused
    try:
        for _ in range(10):
            sim.ask("refill")
            await daemon.sync_once()
            done = await daemon.statuses_once()
            if not done.written and not done.errors and not done.deferred:
                break
    finally:
        pace.limits = GITHUB_LIMITS
        pace.reset()  # the next cycles run hours later
    sim.ask("refill")


def peak(times: list[float], window: float) -> int:
    """The most of `times` (seconds, ascending) inside any `window` seconds."""
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def _cycle(daemon: Daemon, sim: SimProcess, label: str) -> Row:
    sim.ask("reset")
    _reset_peak_rss()
    began_cpu, began = _cpu(), time.perf_counter()
    since = daemon.clock.now()
    await daemon.sync_once()
    sync_points = sim.ask("stats")["points"]
    await daemon.statuses_once()
    cpu, seconds = _cpu() - began_cpu, time.perf_counter() - began
    rss = _peak_rss_mb()
    found = sim.ask("stats")
    sent = [(t - since).total_seconds() for t in daemon.clients.writes.sent() if t >= since]
    return Row(
        label=label,
        graphql=found["graphql"],
        points=found["points"],
        sync_points=sync_points,
        cpu=cpu,
        rss_mb=rss,
        rest_reads=found["rest_reads"],
        not_modified=found["not_modified"],
        rest_writes=found["rest_writes"],
        statused=found["statuses"],
        open=found["open"],
        seconds=seconds,
        refused=found["refused"],
        points_by_operation=tuple(sorted(found["by_operation"].items(), key=lambda kv: -kv[1])),
        writes_by_endpoint=tuple(sorted(found["writes"].items(), key=lambda kv: -kv[1])),
        peak_minute=peak(sent, 60),
        peak_hour=peak(sent, 3600),
    )


MINUTE_CAP, HOUR_CAP = GITHUB_LIMITS.per_minute, GITHUB_LIMITS.per_hour

# The goals at 5,000 PRs in 50 repositories.
GOALS: dict[tuple[str, str], Goal] = {
    ("cold", "points"): Goal("<= 300", lambda v: v <= 300),
    ("steady", "points"): Goal("<= 60", lambda v: v <= 60),
    ("steady", "cpu"): Goal("<= 2 s", lambda v: v <= 2.0),
    ("steady", "rss"): Goal("<= 100 MB", lambda v: v <= 100),
    ("steady", "writes"): Goal("0", lambda v: v == 0),
    ("cold", "minute"): Goal(f"<= {MINUTE_CAP}", lambda v: v <= MINUTE_CAP),
    ("cold", "hour"): Goal(f"<= {HOUR_CAP}", lambda v: v <= HOUR_CAP),
}


def _cell(row: Row, column: str, value: float, text: str, goals: bool) -> str:
    phase = "cold" if "cold" in row.label else "steady"
    goal = GOALS.get((phase, column)) if goals else None
    if goal is None:
        return text
    mark = "ok" if goal.met(value) else "MISSED"
    return f"{text} (goal {goal.text}: {mark})"


def render(rows: list[Row], goal_size: str) -> str:
    header = (
        "| | GraphQL requests | GraphQL points | CPU (user+sys) | max RSS "
        "| REST reads (304) | REST writes | writes in any 60 s / hour "
        "| PRs with a `tide` status | wall |"
    )
    lines = [header, "|---" + "|---:" * 9 + "|"]
    for row in rows:
        goals = row.label.startswith(goal_size)
        cells = [
            row.label,
            f"{row.graphql:,}",
            _cell(row, "points", row.points, f"{row.points:,}", goals),
            _cell(row, "cpu", row.cpu, f"{row.cpu:.2f} s", goals),
            _cell(row, "rss", row.rss_mb, f"{row.rss_mb:.0f} MB", goals),
            f"{row.rest_reads:,} ({row.not_modified:,})",
            _cell(row, "writes", row.rest_writes, f"{row.rest_writes:,}", goals),
            _cell(row, "minute", row.peak_minute, f"{row.peak_minute:,}", goals)
            + " / "
            + _cell(row, "hour", row.peak_hour, f"{row.peak_hour:,}", goals),
            f"{row.statused:,} of {row.open:,}",
            f"{row.seconds:.1f} s",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def breakdown(rows: list[Row]) -> str:
    """Where each row's points and writes went."""
    lines = []
    for row in rows:
        if "cold" in row.label and row.statused < row.open:
            lines.append(
                f"- {row.label}: {row.open - row.statused:,} statuses left for later passes, "
                f"which write what the queue leaves of GitHub's {GITHUB_LIMITS.per_minute} "
                f"writes a minute and {GITHUB_LIMITS.per_hour} an hour (at most "
                f"{STATUS_SHARE.per_minute} and {STATUS_SHARE.per_hour})"
            )
        points = ", ".join(f"{name} {n:,}" for name, n in row.points_by_operation) or "none"
        writes = ", ".join(f"{name} {n:,}" for name, n in row.writes_by_endpoint) or "none"
        refused = f"; refused by GitHub: {row.refused:,}" if row.refused else ""
        split = f"sync {row.sync_points:,}, status pass {row.points - row.sync_points:,}"
        lines.append(f"- {row.label}: points ({split}): {points}; writes: {writes}{refused}")
    return "\n".join(lines)


def _run_in_child(shape: Shape, conn: Connection) -> None:
    _silence_logs()
    conn.send(asyncio.run(measure_size(shape)))


def run_size(shape: Shape) -> list[Row]:
    """One size in a fresh process, so one size's memory does not show in the next."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_run_in_child, args=(shape, child))
    process.start()
    rows: list[Row] = parent.recv()
    process.join()
    return rows


def _silence_logs() -> None:
    from tide.logs import configure_logging

    configure_logging("error", "json", stream=io.StringIO())


SIZES = [Shape(5000, 50), Shape(500, 50)]
QUICK = [Shape(200, 4)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/scale.py", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="200 PRs in 4 repositories")
    args = parser.parse_args(argv)
    _silence_logs()
    sizes = QUICK if args.quick else SIZES
    rows: list[Row] = []
    for shape in sizes:
        rows += run_size(shape)
    print(render(rows, f"{SIZES[0].prs:,} PRs"))
    print()
    print(breakdown(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
