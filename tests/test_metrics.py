"""`/metrics` after real syncs against the simulator: Tide's metric names with Tide's types
and labels, and ours (GitHub requests, rate limit, cost, staging runs, eligible to merged)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from e2e import make_world, running_queue
from prometheus_client.parser import text_string_to_metric_families

from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import World

READY = ["lgtm"]
POOL = {"org": "org", "repo": "repo", "branch": "main"}
TIDE_NAMES = {
    "pooledprs", "updatetime", "merges", "tidepoolerrors", "tidequeryresults", "syncdur",
    "statusupdatedur", "tidesyncheartbeat", "tide_retests", "tide_pool_missing_prs",
    "tide_pool_pending_prs", "tide_pool_successful_prs", "tide_pool_batch_pending_prs",
}  # fmt: skip


class Scrape:
    """One scrape of `/metrics`, parsed the way Prometheus parses it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}

    def value(self, sample: str, **labels: str) -> float | None:
        for family in self.families.values():
            for s in family.samples:
                if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                    return s.value
        return None


@asynccontextmanager
async def served(world: World, clock: VirtualClock) -> AsyncIterator[tuple]:
    async with (
        running_queue(world, clock) as q,
        StatusServer(q.daemon, port=0) as server,
        aiohttp.ClientSession(server.url) as http,
    ):
        yield q, server, http


async def scrape(http: aiohttp.ClientSession) -> Scrape:
    async with http.get("/metrics") as resp:
        assert resp.status == 200
        assert resp.headers["Content-Type"].startswith("text/plain")
        return Scrape(await resp.text())


def batch_world(clock: VirtualClock) -> World:
    """Two ready PRs whose base moved: they need one staging run of ten minutes."""
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY)
    world.open_pr("org/repo", files={"b.txt": "1\n"}, labels=READY)
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    return world


async def test_every_tide_metric_is_exported_under_tides_name(schema):
    clock = VirtualClock()
    async with served(batch_world(clock), clock) as (q, _server, http):
        await q.sync()
        metrics = await scrape(http)

    assert set(metrics.families) >= TIDE_NAMES
    # Tide's suffix-less counters keep their exact sample names.
    assert metrics.value("tidesyncheartbeat", controller="sync") == 1
    assert metrics.value("tidesyncheartbeat", controller="status-update") == 1
    assert metrics.value("tidequeryresults", query_index="0", org_shard="", result="success") == 1
    assert metrics.families["merges"].type == "histogram"
    assert metrics.families["pooledprs"].type == "gauge"
    assert metrics.value("pooledprs", **POOL) == 2
    assert metrics.value("tide_retests_total", **POOL, action="TRIGGER_BATCH") == 2


async def test_metrics_move_as_the_queue_tests_and_merges(schema):
    clock = VirtualClock()
    async with served(batch_world(clock), clock) as (q, _server, http):
        await q.sync()
        await q.step()
        testing = await scrape(http)
        await q.run(12)
        done = await scrape(http)

    assert testing.value("tide_pool_pending_prs", **POOL) == 2
    assert testing.value("tide_pool_batch_pending_prs", **POOL) == 2
    assert testing.value("tide_staging_runs_total", **POOL, outcome="started") == 1
    assert testing.value("merges_count", **POOL) in (None, 0)

    assert done.value("tidesyncheartbeat", controller="sync") == 14
    assert done.value("merges_count", **POOL) == 1
    assert done.value("merges_sum", **POOL) == 2  # one MERGE_BATCH of two PRs
    assert done.value("tide_merged_prs_total", **POOL) == 2
    assert done.value("tide_staging_runs_total", **POOL, outcome="success") == 1
    assert done.value("pooledprs", **POOL) == 0
    assert done.value("tide_pool_pending_prs", **POOL) == 0
    waited = done.value("tide_eligible_to_merged_seconds_sum", **POOL)
    assert done.value("tide_eligible_to_merged_seconds_count", **POOL) == 2
    assert waited is not None and 2 * 10 * 60 <= waited <= 2 * 15 * 60
    assert (done.value("updatetime", **POOL) or 0) > (testing.value("updatetime", **POOL) or 0)


async def test_github_requests_rate_limit_and_cost_are_exported(schema):
    clock = VirtualClock()
    async with served(batch_world(clock), clock) as (q, _server, http):
        await q.sync()
        first = await scrape(http)
        await q.step()
        second = await scrape(http)

    search = {"endpoint": "POST /graphql SearchPullRequestIds", "status": "200"}
    before = first.value("tide_github_requests_total", **search)
    after = second.value("tide_github_requests_total", **search)
    assert before is not None and after is not None and after > before
    assert first.value("tide_github_requests_total", status="201") is not None  # refs, merges
    assert first.value("tide_github_rate_limit_remaining") is not None
    assert first.value("tide_graphql_cost_per_sync_count") == 1
    assert (first.value("tide_graphql_cost_last_sync") or 0) > 0


async def test_a_failing_pool_counts_a_pool_error(schema):
    clock = VirtualClock()
    async with served(batch_world(clock), clock) as (q, _server, http):
        # The repository cannot be read, in one batch or alone: its pool fails.
        q.sim.faults.script("/graphql", 502, times=3, operation="RepositoryStates")
        q.sim.faults.script("/graphql", 502, times=3, operation="RepositoryState")
        report = await q.sync()
        metrics = await scrape(http)

    assert report.pools[0].error
    assert metrics.value("tidepoolerrors", **POOL) == 1


async def test_two_servers_in_one_process_keep_separate_metrics(schema):
    clock = VirtualClock()
    async with served(batch_world(clock), clock) as (q, _server, http):
        async with StatusServer(q.daemon, port=0) as other:
            await q.sync()
            async with http.get(f"{other.url}/metrics") as resp:
                other_text = await resp.text()
        mine = await scrape(http)

    assert mine.value("tidesyncheartbeat", controller="sync") == 1
    assert Scrape(other_text).value("tidesyncheartbeat", controller="sync") == 1
