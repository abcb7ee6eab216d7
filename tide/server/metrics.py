"""Prometheus metrics: Tide's names (so Tide's dashboards keep working) plus our own.

Each `Metrics` has its own `CollectorRegistry`, fed by the daemon's sync reports and read
from the GitHub client's counters at scrape time. Tide's counters `tidepoolerrors`,
`tidequeryresults` and `tidesyncheartbeat` carry no `_total` suffix in Tide; prometheus_client
always adds one to counters, so those three are exposed untyped under their exact names.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tide.github.budget import RateBudget
from tide.github.http import RequestCounters
from tide.pool import Action
from tide.report import PoolReport, SyncReport
from tide.staging import Outcome
from tide.views.prow import buckets

POOL = ("org", "repo", "branch")
MERGE_BUCKETS = (1, 2, 3, 4, 5, 7, 10, 15, 25)  # Tide's
COST_BUCKETS = (1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500)
WAIT_BUCKETS = (60, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 86400, 259200)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


TIDE_COUNTERS = {
    "tidepoolerrors": "Number of errors encountered while syncing a pool.",
    "tidequeryresults": "Search outcomes per query.",
    "tidesyncheartbeat": "Count of loops completed per controller.",
}


class TideCounters(Collector):
    """Monotonic counts exposed under Tide's exact, suffix-less names."""

    def __init__(self) -> None:
        self.counts: dict[str, Tally[tuple[tuple[str, str], ...]]] = {
            name: Tally() for name in TIDE_COUNTERS
        }

    def inc(self, name: str, **labels: str) -> None:
        self.counts[name][tuple(sorted(labels.items()))] += 1

    def value(self, name: str, **labels: str) -> int:
        return self.counts[name][tuple(sorted(labels.items()))]

    def collect(self) -> Iterator[Metric]:
        for name, help_text in TIDE_COUNTERS.items():
            metric = Metric(name, help_text, "unknown")
            for labels, count in sorted(self.counts[name].items()):
                metric.add_sample(name, dict(labels), float(count))
            yield metric


class GitHubCollector(Collector):
    """The GitHub client's request counters and rate limit, read when scraped."""

    def __init__(self, counters: RequestCounters, budget: RateBudget) -> None:
        self.counters = counters
        self.budget = budget

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "tide_github_requests",
            "Requests sent to GitHub, by endpoint template and status (or timeout/connection).",
            labels=["endpoint", "status"],
        )
        for (endpoint, status), count in sorted(self.counters.snapshot().items()):
            requests.add_metric([endpoint, status], count)
        yield requests
        budget = self.budget
        if budget.remaining is not None:
            yield GaugeMetricFamily(
                "tide_github_rate_limit_remaining",
                "GraphQL points left in the current rate-limit window.",
                value=budget.remaining,
            )
        if budget.limit is not None:
            yield GaugeMetricFamily(
                "tide_github_rate_limit_limit",
                "GraphQL points granted per rate-limit window.",
                value=budget.limit,
            )
        if budget.reset_at is not None:
            yield GaugeMetricFamily(
                "tide_github_rate_limit_reset_timestamp_seconds",
                "When the GraphQL rate-limit window resets (unix time).",
                value=budget.reset_at.timestamp(),
            )


class EligibleSince:
    """When each PR was first seen eligible; forgotten when it stops being eligible."""

    def __init__(self) -> None:
        self._since: dict[str, datetime] = {}

    def get(self, key: str) -> datetime | None:
        return self._since.get(key)

    def update(self, report: SyncReport) -> list[tuple[PoolReport, float]]:
        """Take in a sync; returns (pool, seconds from eligible to merged) per merged PR."""
        landed: list[tuple[PoolReport, float]] = []
        eligible: set[str] = set()
        for pool in report.pools:
            for pr in pool.state.eligible:
                eligible.add(pr.key)
                self._since.setdefault(pr.key, pool.state.now)
            merged = pool.execution.merged if pool.execution else []
            for pr in merged:
                since = self._since.pop(pr.key, pool.state.now)
                landed.append((pool, (report.finished_at - since).total_seconds()))
                eligible.discard(pr.key)
        if any(e.startswith("query ") for e in report.errors):
            return landed  # a partial search hides PRs that may well still be eligible
        failed = {p.key for p in report.pools if p.error}
        pool_of = {pr.key: pr.pool_key for pr in report.prs}
        for key in list(self._since):
            if key not in eligible and pool_of.get(key) not in failed:
                del self._since[key]
        return landed


class Metrics:
    """Every metric tide exports, in a registry of its own (tests can run several)."""

    def __init__(
        self, counters: RequestCounters | None = None, budget: RateBudget | None = None
    ) -> None:
        r = self.registry = CollectorRegistry()
        self.tide = TideCounters()
        r.register(self.tide)
        if counters is not None and budget is not None:
            r.register(GitHubCollector(counters, budget))
        self.pooled = Gauge("pooledprs", "Number of PRs in each Tide pool.", POOL, registry=r)
        self.update_time = Gauge(
            "updatetime", "The last time each subpool was synced.", POOL, registry=r
        )
        self.merges = Histogram(
            "merges",
            "Histogram of merges where values are the number of PRs merged together.",
            POOL,
            buckets=MERGE_BUCKETS,
            registry=r,
        )
        self.sync_duration = Gauge(
            "syncdur", "The duration of the last loop of the sync controller.", registry=r
        )
        self.status_duration = Gauge(
            "statusupdatedur",
            "The duration of the last loop of the status update controller.",
            registry=r,
        )
        self.retests = Counter(
            "tide_retests",
            "PRs targeted by a TRIGGER or TRIGGER_BATCH action.",
            (*POOL, "action"),
            registry=r,
        )
        self.missing = Gauge(
            "tide_pool_missing_prs",
            "Eligible PRs without a test in progress or passed.",
            POOL,
            registry=r,
        )
        self.pending = Gauge(
            "tide_pool_pending_prs", "PRs in a pending staging run.", POOL, registry=r
        )
        self.successful = Gauge(
            "tide_pool_successful_prs",
            "PRs whose test of the current base passed.",
            POOL,
            registry=r,
        )
        self.batch_pending = Gauge(
            "tide_pool_batch_pending_prs",
            "PRs in a pending staging run of more than one PR.",
            POOL,
            registry=r,
        )
        self.staging_runs = Counter(
            "tide_staging_runs",
            "Staging runs started, and finished by outcome.",
            (*POOL, "outcome"),
            registry=r,
        )
        self.merged = Counter("tide_merged_prs", "PRs merged by tide.", POOL, registry=r)
        self.graphql_cost = Histogram(
            "tide_graphql_cost_per_sync",
            "GraphQL points one sync spent.",
            buckets=COST_BUCKETS,
            registry=r,
        )
        self.last_cost = Gauge(
            "tide_graphql_cost_last_sync", "GraphQL points the last sync spent.", registry=r
        )
        self.eligible_to_merged = Histogram(
            "tide_eligible_to_merged_seconds",
            "Time from a PR first seen eligible to its merge.",
            POOL,
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.config_valid = Gauge(
            "tide_config_valid",
            "1 when the config file in force is the one on disk; 0 when an edit was rejected "
            "(tide keeps running on the last good config).",
            registry=r,
        )
        self.config_valid.set(1)
        self.eligible = EligibleSince()
        self._pools: set[tuple[str, str, str]] = set()
        self._finished: set[tuple[str, str, int, str]] = set()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    def observe_status_pass(self, seconds: float) -> None:
        self.status_duration.set(seconds)
        self.tide.inc("tidesyncheartbeat", controller="status-update")

    def observe_sync(self, report: SyncReport, queries: int) -> None:
        failed_queries = {e.split(":", 1)[0] for e in report.errors if e.startswith("query ")}
        for index in range(queries):
            result = "error" if f"query {index}" in failed_queries else "success"
            self.tide.inc("tidequeryresults", query_index=str(index), org_shard="", result=result)
        self.sync_duration.set(report.duration)
        self.tide.inc("tidesyncheartbeat", controller="sync")
        self.graphql_cost.observe(report.graphql_cost)
        self.last_cost.set(report.graphql_cost)
        seen: set[tuple[str, str, str]] = set()
        for pool in report.pools:
            labels = (pool.state.org, pool.state.repo, pool.state.branch)
            seen.add(labels)
            self._pool(pool, labels, report.finished_at)
        for labels in self._pools - seen:
            for gauge in (self.pooled, self.missing, self.pending, self.successful):
                gauge.labels(*labels).set(0)
            self.batch_pending.labels(*labels).set(0)
        self._pools = seen
        for pool, seconds in self.eligible.update(report):
            s = pool.state
            self.eligible_to_merged.labels(s.org, s.repo, s.branch).observe(seconds)

    def _pool(self, pool: PoolReport, labels: tuple[str, str, str], at: datetime) -> None:
        success, pending, missing, batch = buckets(pool)
        self.pooled.labels(*labels).set(len(pool.state.eligible))
        self.update_time.labels(*labels).set(at.timestamp())
        self.successful.labels(*labels).set(len(success))
        self.pending.labels(*labels).set(len(pending))
        self.missing.labels(*labels).set(len(missing))
        self.batch_pending.labels(*labels).set(len(batch))
        if pool.error:
            org, repo, branch = labels
            self.tide.inc("tidepoolerrors", org=org, repo=repo, branch=branch)
        execution = pool.execution
        if execution is None:
            return
        action = pool.decision.action
        if action in (Action.MERGE, Action.MERGE_BATCH) and execution.merged:
            self.merges.labels(*labels).observe(len(execution.merged))
            self.merged.labels(*labels).inc(len(execution.merged))
        if action in (Action.TRIGGER, Action.TRIGGER_BATCH):
            targeted = sum(len(run.prs) for run in execution.triggered)
            if targeted:
                self.retests.labels(*labels, action.value).inc(targeted)
        for _ in execution.triggered:
            self.staging_runs.labels(*labels, "started").inc()
        self._finished_runs(pool, labels)

    def _finished_runs(self, pool: PoolReport, labels: tuple[str, str, str]) -> None:
        """Count each staging run once when it is first seen passed or failed."""
        present = set()
        for result in pool.state.runs:
            if result.outcome == Outcome.PENDING:
                continue
            run = result.run
            key = (pool.key, run.ref, run.attempt, run.commit_sha)
            present.add(key)
            if key not in self._finished:
                self.staging_runs.labels(*labels, result.outcome.value.lower()).inc()
        mine = {k for k in self._finished if k[0] == pool.key}
        self._finished = (self._finished - mine) | present
