"""The daemon's HTTP API against the simulator: Tide's JSON for Deck (`/`, `/history`), our
own `/api/v1/...`, and the health endpoints a supervisor probes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, World, fail_if_present

READY = ["lgtm"]
PR_KEYS = {
    "NameWithOwner", "Number", "Org", "Repo", "BaseRefPrefix", "BaseRefName", "HeadRefName",
    "HeadRefOID", "Title", "Body", "AuthorLogin", "UpdatedAtTime", "Mergeable", "GitHub", "Gerrit",
}  # fmt: skip
POOL_KEYS = {
    "Org", "Repo", "Branch", "SuccessPRs", "PendingPRs", "MissingPRs", "BatchPending",
    "Action", "Target", "Blockers", "Error", "TenantIDs",
}  # fmt: skip


@asynccontextmanager
async def served(world: World, clock: VirtualClock, **kw: object) -> AsyncIterator[tuple]:
    async with (
        running_queue(world, clock, **kw) as q,  # type: ignore[arg-type]
        StatusServer(q.daemon, port=0) as server,
        aiohttp.ClientSession(server.url) as http,
    ):
        yield q, server, http


async def get(http: aiohttp.ClientSession, path: str) -> tuple[int, object]:
    async with http.get(path) as resp:
        return resp.status, await resp.json()


def queue_world(clock: VirtualClock) -> tuple[World, dict[str, int]]:
    """Two ready PRs behind the base, one without its label, one whose own check fails."""
    ci = FakeCI(
        [Job("ci/test", duration=600)], branches=["tide/*"], rules=[fail_if_present("BREAK")]
    )
    world = make_world(clock, ci=ci)
    first = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=READY, title="First")
    second = world.open_pr("org/repo", files={"b.txt": "1\n"}, labels=READY, title="Second")
    unlabeled = world.open_pr("org/repo", files={"c.txt": "1\n"}, title="No label")
    failing = world.open_pr("org/repo", files={"BREAK": "1\n"}, labels=READY, title="Breaks")
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    clock.advance(700)
    world.tick()
    numbers = {
        "first": first.number,
        "second": second.number,
        "unlabeled": unlabeled.number,
        "failing": failing.number,
    }
    return world, numbers


async def test_tide_pools_json_has_tides_fields_and_buckets(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        first = await q.sync()
        assert first.pools[0].decision.action == "TRIGGER_BATCH"
        await q.step()

        status, pools = await get(http, "/")

    assert status == 200
    assert isinstance(pools, list) and len(pools) == 1
    pool = pools[0]
    assert set(pool) == POOL_KEYS
    assert (pool["Org"], pool["Repo"], pool["Branch"]) == ("org", "repo", "main")
    assert pool["Action"] == "WAIT"
    pending = [pr["Number"] for pr in pool["PendingPRs"]]
    assert pending == [n["first"], n["second"]]
    assert [pr["Number"] for pr in pool["BatchPending"]] == pending
    assert pool["SuccessPRs"] == [] and pool["MissingPRs"] == []
    pr = pool["PendingPRs"][0]
    assert set(pr) == PR_KEYS
    assert pr["Title"] == "First" and pr["NameWithOwner"] == "org/repo"
    assert pr["GitHub"]["Labels"]["Nodes"] == [{"Name": "lgtm"}]
    assert pr["GitHub"]["HeadRefOID"] == world.pr("org/repo", n["first"]).head_sha


async def test_history_json_is_per_pool_newest_first_in_tides_record_shape(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        await q.run(12)

        status, history = await get(http, "/history")

    assert status == 200
    assert list(history) == ["org/repo:main"]
    records = history["org/repo:main"]
    assert [r["action"] for r in records] == ["MERGE_BATCH", "TRIGGER_BATCH"]
    newest = records[0]
    assert {"time", "action", "baseSHA", "target"} <= set(newest)
    assert newest["time"].endswith("Z")
    assert [t["number"] for t in newest["target"]] == [n["first"], n["second"]]
    assert set(newest["target"][0]) == {"number", "author", "sha", "title", "head_ref"}


async def test_api_pools_lists_the_queue_in_order_with_the_batch_in_flight(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        await q.step()

        status, body = await get(http, "/api/v1/pools")

    assert status == 200
    assert body["sync"]["prs"] == 3  # the unlabeled PR is not in any query's search
    (pool,) = body["pools"]
    assert pool["key"] == "org/repo:main"
    assert [(e["position"], e["number"], e["place"]) for e in pool["queue"]] == [
        (1, n["first"], "in the batch being tested"),
        (2, n["second"], "in the batch being tested"),
    ]
    (waiting,) = pool["waiting"]
    assert (waiting["number"], waiting["why"]) == (n["failing"], "Job ci/test has not succeeded.")
    (run,) = [r for r in pool["runs"] if r["current"]]
    assert run["prs"] == [n["first"], n["second"]]
    assert run["outcome"] == "PENDING"
    assert run["waiting"] == ["ci/test"]


async def test_api_explains_a_pr_outside_every_pool(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()

        status, answer = await get(http, f"/api/v1/prs/org/repo/{n['unlabeled']}")

    assert status == 200
    assert answer["presence"] == "outside the pool"
    assert answer["eligible"] is False
    unmet = {c["name"]: c["detail"] for c in answer["criteria"] if not c["met"]}
    assert unmet == {"labels": "Needs lgtm label."}
    assert answer["status"]["description"] == "Not mergeable. Needs lgtm label."
    assert answer["title"] == "No label"


async def test_api_explains_a_pr_in_the_batch_and_then_its_merge(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        await q.step()
        _, testing = await get(http, f"/api/v1/prs/org/repo/{n['second']}")
        await q.run(12)
        status, merged = await get(http, f"/api/v1/prs/org/repo/{n['second']}")

    assert testing["place"] == "in the batch being tested"
    assert (testing["position"], testing["queue_length"]) == (2, 2)
    assert testing["batch"]["prs"] == [n["first"], n["second"]]
    assert [c["name"] for c in testing["batch"]["contexts"]] == ["ci/test"]
    assert testing["history"][0]["action"] == "TRIGGER_BATCH"
    assert status == 200
    assert merged["presence"] == "merged"
    assert merged["headline"].startswith("Merged by tide at ")


async def test_api_answers_404_for_a_pr_that_does_not_exist(schema):
    clock = VirtualClock()
    world, _ = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()

        status, answer = await get(http, "/api/v1/prs/org/repo/999")

    assert status == 404
    assert answer["presence"] == "unknown"


async def test_readyz_means_can_serve_and_healthz_fails_when_the_sync_loop_is_wedged(schema):
    clock = VirtualClock()
    world, _ = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        async with http.get("/healthz") as resp:
            assert resp.status == 200
        before, not_yet = await get(http, "/readyz")
        await q.sync()
        after, ready = await get(http, "/readyz")
        clock.advance(9 * 60)  # slow syncs are not a reason to leave the Service
        still, _ = await get(http, "/readyz")
        async with http.get("/healthz") as resp:
            alive = resp.status
        clock.advance(2 * 60)  # ten periods of 1m (and the 10 minute floor) without a sync
        async with http.get("/healthz") as resp:
            wedged, why = resp.status, await resp.text()
        await q.sync()
        async with http.get("/healthz") as resp:
            recovered = resp.status

    assert (before, not_yet["ready"]) == (503, False)
    assert (after, ready["ready"]) == (200, True)
    assert (still, alive) == (200, 200)
    assert wedged == 503 and "the sync loop is stuck: no sync finished for 11m" in why
    assert recovered == 200


async def test_a_rejected_config_edit_is_a_metric_and_a_reason_not_unreadiness(
    schema, tmp_path: Path
):
    clock = VirtualClock()
    world, _ = queue_world(clock)
    config = tmp_path / "config.yaml"
    async with served(world, clock) as (q, _server, http):
        q.daemon.holder.path = config
        config.write_text("tide:\n  sync_perod: 1m\n")
        await q.sync()  # the bad edit is refused; the old config stays in force

        status, body = await get(http, "/readyz")
        async with http.get("/metrics") as resp:
            metrics = await resp.text()
        _, pools = await get(http, "/api/v1/pools")

    assert status == 200 and body["ready"] is True
    assert "config file is invalid (running on the last good one)" in body["reason"]
    assert "sync_perod" in body["reason"]
    assert "tide_config_valid 0.0" in metrics
    assert any("sync_perod" in p for p in pools["config_problems"])


async def test_a_repo_no_query_covers_is_answered_without_asking_github(schema):
    clock = VirtualClock()
    world, _ = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        asked = world.journal.count("GET /repos/{owner}/{repo}/pulls/{number}")

        status, answer = await get(http, "/api/v1/prs/other/repo/1")

    assert status == 404
    assert answer["headline"].startswith("No Tide query covers other/repo")
    assert world.journal.count("GET /repos/{owner}/{repo}/pulls/{number}") == asked


async def test_github_failing_during_a_lookup_is_a_502_with_the_reason(schema):
    clock = VirtualClock()
    world, n = queue_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        q.sim.faults.script("/repos/org/repo/pulls/*", 500, times=6, method="GET")

        status, answer = await get(http, f"/api/v1/prs/org/repo/{n['unlabeled']}")
        async with http.get(f"/ui/pr/org/repo/{n['unlabeled']}") as resp:
            page_status, page = resp.status, await resp.text()

    assert status == 502
    assert answer["error"].startswith("could not ask GitHub: ")
    assert page_status == 502 and "Could not ask GitHub" in page


async def test_a_server_that_cannot_bind_leaves_the_daemon_untouched(schema):
    clock = VirtualClock()
    world, _ = queue_world(clock)
    async with served(world, clock) as (q, server, _http):
        taken = int(server.url.rsplit(":", 1)[1])
        listeners = list(q.daemon.listeners)
        with pytest.raises(OSError):
            await StatusServer(q.daemon, port=taken).start()

        assert q.daemon.listeners == listeners
        await q.sync()
        assert server.metrics.tide.value("tidesyncheartbeat", controller="status-update") == 1
