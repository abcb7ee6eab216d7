"""The status server against readers who are not the operator: look-ups that reach GitHub are
shared, cached within bounds and rationed per client; off loopback a token or a Host list
keeps the dashboard and API private; caches that follow outside input stay bounded."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
from e2e import make_world, running_queue
from test_server_api import served

from tide.clock import VirtualClock
from tide.config import ServerSettings, parse_config
from tide.config.document import REPO_CACHE
from tide.executor import COMMENTED_CACHE, Executor
from tide.github import GitHub, GitHubEndpoint, StaticToken
from tide.history import History, Record
from tide.judge import Judge
from tide.pool_reader import COMPARE_CACHE
from tide.server.access import exposed_without_protection
from tide.sim import SimServer
from tide.sync import Syncer
from tide.views.answers import LOOKUP_CACHE, PRLookup
from tide.views.throttle import ClientLimiter

GET_PULL = "GET /repos/{owner}/{repo}/pulls/{number}"


async def test_concurrent_readers_of_one_pr_outside_the_pools_share_one_lookup(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, title="No label")
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        before = world.journal.count(GET_PULL)

        async def read() -> int:
            async with http.get(f"/api/v1/prs/org/repo/{pr.number}") as resp:
                return resp.status

        codes = await asyncio.gather(*(read() for _ in range(20)))

    assert codes == [200] * 20
    assert world.journal.count(GET_PULL) - before == 1


async def test_one_client_cannot_make_tide_ask_github_without_limit(schema):
    clock = VirtualClock()
    world = make_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        before = world.journal.count(GET_PULL)
        answers = []
        for number in range(1000, 1030):
            async with http.get(f"/api/v1/prs/org/repo/{number}") as resp:
                answers.append((resp.status, resp.headers.get("Retry-After")))
        async with http.get("/ui/pr/org/repo/2000") as resp:
            page = resp.status

    assert [s for s, _ in answers[:10]] == [404] * 10
    assert {s for s, _ in answers[10:]} == {429}
    assert all(int(after) >= 1 for _, after in answers[10:])
    assert page == 429
    assert world.journal.count(GET_PULL) - before == 10


async def test_answers_about_prs_outside_the_pools_are_cached_within_a_bound(schema, tmp_path):
    clock = VirtualClock()
    world = make_world(clock)
    async with SimServer(world) as sim:
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken("sim-token"), clock=clock) as gh:
            lookup = PRLookup(Judge(gh), limiter=ClientLimiter(burst=10_000))
            for number in range(1000, 1000 + LOOKUP_CACHE + 40):
                await lookup.open_pr("org", "repo", number, None, client="c", now=clock.now())

    assert lookup.cached == LOOKUP_CACHE


def test_repository_lookups_by_arbitrary_names_stay_bounded():
    config = parse_config("tide:\n  queries:\n  - repos: [org/repo]\n    labels: [lgtm]\n")
    for n in range(REPO_CACHE + 500):
        assert config.queries_for_repo("someone", f"repo-{n}") == ()
        config.branch_policy("someone", f"repo-{n}", "main")
    assert len(config._repo_queries) == REPO_CACHE
    assert len(config._policies) == REPO_CACHE
    assert config.queries_for_repo("org", "repo")


async def test_the_syncer_and_executor_caches_are_bounded():
    # Keyed by (base, head) and (PR, head): every push adds a key and none is ever removed,
    # so a long-running daemon must forget the oldest.
    clock = VirtualClock()
    gh = GitHub(
        GitHubEndpoint("http://127.0.0.1:9/graphql", "http://127.0.0.1:9"), StaticToken("t")
    )
    syncer = Syncer(gh, clock, History())
    executor = Executor(gh, clock)
    for n in range(COMPARE_CACHE + 100):
        syncer.reader._compare[("org", "repo", "base", f"head-{n}")] = True
    for n in range(COMMENTED_CACHE + 100):
        executor._commented.add((f"org/repo#{n}", "sha"), True)

    assert len(syncer.reader._compare) == COMPARE_CACHE
    assert len(executor._commented) == COMMENTED_CACHE
    assert ("org", "repo", "base", f"head-{COMPARE_CACHE + 99}") in syncer.reader._compare


async def test_history_of_repositories_no_longer_configured_is_pruned(schema, tmp_path: Path):
    clock = VirtualClock()
    world = make_world(clock)
    path = tmp_path / "history.json"
    old = History(path=path)
    old.record("gone/repo:main", Record(time=clock.now(), action="MERGE"))
    old.record("org/repo:main", Record(time=clock.now(), action="MERGE"))
    old.flush()
    async with running_queue(world, clock, history_path=path) as q:
        q.daemon.history.load()
        await q.sync()
        pools = q.daemon.history.pools()

    assert pools == ["org/repo:main"]


async def bearer_get(http: aiohttp.ClientSession, path: str, **headers: str) -> int:
    async with http.get(path, headers=headers) as resp:
        return resp.status


async def test_a_bearer_token_guards_the_dashboard_and_api_but_not_the_probes(schema, monkeypatch):
    monkeypatch.setenv("TIDE_DASHBOARD_TOKEN", "reader-secret")
    clock = VirtualClock()
    world = make_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        config = q.daemon.config
        guarded = config.server.model_copy(update={"auth_token_env": "TIDE_DASHBOARD_TOKEN"})
        q.daemon.holder.config = config.model_copy(update={"server": guarded})
        good = {"Authorization": "Bearer reader-secret"}
        bad = {"Authorization": "Bearer guess"}

        codes = {
            "api": await bearer_get(http, "/api/v1/pools"),
            "ui": await bearer_get(http, "/ui"),
            "prow": await bearer_get(http, "/"),
            "wrong": await bearer_get(http, "/api/v1/pools", **bad),
            "right": await bearer_get(http, "/api/v1/pools", **good),
            "ui-right": await bearer_get(http, "/ui", **good),
            "healthz": await bearer_get(http, "/healthz"),
            "readyz": await bearer_get(http, "/readyz"),
            "metrics": await bearer_get(http, "/metrics"),
        }

    assert codes == {
        "api": 401, "ui": 401, "prow": 401, "wrong": 401, "right": 200, "ui-right": 200,
        "healthz": 200, "readyz": 200, "metrics": 200,
    }  # fmt: skip


async def test_an_allowed_host_list_refuses_other_hosts(schema):
    clock = VirtualClock()
    world = make_world(clock)
    async with served(world, clock) as (q, _server, http):
        await q.sync()
        config = q.daemon.config
        hosts = config.server.model_copy(update={"allowed_hosts": ["tide.example.com"]})
        q.daemon.holder.config = config.model_copy(update={"server": hosts})

        rebound = await bearer_get(http, "/api/v1/pools", Host="attacker.example")
        named = await bearer_get(http, "/api/v1/pools", Host="tide.example.com:8888")
        probe = await bearer_get(http, "/healthz", Host="10.0.0.7:8888")

    assert (rebound, named, probe) == (421, 200, 200)


def test_listening_beyond_loopback_without_protection_is_flagged():
    assert exposed_without_protection(ServerSettings(address="0.0.0.0"))
    assert not exposed_without_protection(ServerSettings(address="127.0.0.1"))
    assert not exposed_without_protection(ServerSettings(address="::1"))
    assert not exposed_without_protection(
        ServerSettings(address="0.0.0.0", auth_token_env="TIDE_DASHBOARD_TOKEN")
    )
    assert not exposed_without_protection(
        ServerSettings(address="0.0.0.0", allowed_hosts=["tide.example.com"])
    )
