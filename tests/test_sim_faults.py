"""Injected faults: scripted answers for exact tests, seeded random ones for soak runs."""

from __future__ import annotations

import aiohttp
import pytest
from conftest import SimHTTP

from tide.clock import VirtualClock
from tide.github.documents import document
from tide.sim import World
from tide.sim.faults import Faults


async def test_a_scripted_fault_answers_the_next_matching_requests_then_stops(
    world: World, http: SimHTTP
) -> None:
    http.server.faults.script("/user", 502, body="<html><h1>502 Bad Gateway</h1></html>", times=2)

    replies = [await http.rest("GET", "/user") for _ in range(3)]

    assert [r.status for r in replies] == [502, 502, 200]
    assert replies[0].body.startswith("<html>")
    assert replies[0].headers["Content-Type"].startswith("text/html")
    assert [r.status for r in world.journal.requests] == [502, 502, 200]


async def test_a_scripted_secondary_rate_limit_carries_retry_after(
    world: World, http: SimHTTP
) -> None:
    http.server.faults.script(
        "/graphql",
        403,
        headers={"Retry-After": "7"},
        body={"message": "You have exceeded a secondary rate limit."},
    )
    limited = await http.graphql(document("viewer"))
    after = await http.graphql(document("viewer"))
    assert (limited.status, limited.headers["Retry-After"]) == (403, "7")
    assert "secondary rate limit" in limited.body["message"]
    assert after.status == 200


async def test_a_fault_can_target_one_graphql_operation(world: World, http: SimHTTP) -> None:
    http.server.faults.script("/graphql", 502, operation="SearchIssues")
    viewer = await http.graphql(document("viewer"))
    issues = await http.graphql(document("search_issues"), {"query": "is:issue"})
    assert (viewer.status, issues.status) == (200, 502)


async def test_a_write_can_be_applied_although_the_answer_is_an_error(
    world: World, http: SimHTTP
) -> None:
    world.create_repo("org/repo")
    pr = world.open_pr("org/repo", files={"b": "b"})
    http.server.faults.script("/repos/*/pulls/*/merge", 502, method="PUT", after=True)

    reply = await http.rest("PUT", f"/repos/org/repo/pulls/{pr.number}/merge", {"sha": pr.head_sha})

    assert reply.status == 502
    assert pr.state == "MERGED"


async def test_a_dropped_connection_gets_no_response(world: World, http: SimHTTP) -> None:
    http.server.faults.script("/graphql", drop=True)
    with pytest.raises(aiohttp.ServerDisconnectedError):
        await http.graphql(document("viewer"))
    assert (await http.graphql(document("viewer"))).status == 200


async def test_latency_is_spent_on_the_world_s_clock(
    virtual_world: World, virtual_clock: VirtualClock, virtual_http: SimHTTP
) -> None:
    before = virtual_clock.now()
    virtual_http.server.faults.script("/user", delay=30)
    reply = await virtual_http.rest("GET", "/user")
    assert reply.status == 200
    assert (virtual_clock.now() - before).total_seconds() == 30


async def test_random_faults_follow_the_seed(world: World, http: SimHTTP) -> None:
    def sequence(seed: int) -> list[int]:
        faults = Faults(seed=seed, error_rate=0.3, secondary_rate_limit_rate=0.2)
        picks = [faults.pick("GET", "/user") for _ in range(50)]
        return [p.status if p else 200 for p in picks]

    first = sequence(3)
    assert first == sequence(3)
    assert first != sequence(4)
    assert {502, 503, 200} <= set(first)
    assert {403, 429} & set(first)


async def test_random_secondary_rate_limits_use_github_s_wording(
    world: World, http: SimHTTP
) -> None:
    http.server.faults.secondary_rate_limit_rate = 1.0
    http.server.faults.retry_after = 2
    reply = await http.rest("GET", "/user")
    assert reply.status in (403, 429)
    assert reply.headers["Retry-After"] == "2"
    assert reply.body["message"].startswith("You have exceeded a secondary rate limit")


async def test_random_5xx_are_html_502s_or_json_503s(world: World, http: SimHTTP) -> None:
    http.server.faults.error_rate = 1.0
    replies = [await http.rest("GET", "/user") for _ in range(12)]
    assert {r.status for r in replies} == {502, 503}
    assert all(isinstance(r.body, dict) for r in replies if r.status == 503)
    assert all(isinstance(r.body, str) for r in replies if r.status == 502)
