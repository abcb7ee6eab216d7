"""The server entry point, the control API and the sample world used for manual play."""

from __future__ import annotations

import aiohttp
import pytest
from graphql import GraphQLSchema

from tide.clock import VirtualClock
from tide.github.documents import document
from tide.sim import SimServer, World
from tide.sim.sample import SAMPLE_TOKEN, sample_world


async def test_the_server_listens_on_localhost_and_stops_cleanly(
    world: World, schema: GraphQLSchema
) -> None:
    async with SimServer(world, tokens={"other": "someone"}) as sim:
        assert sim.url.startswith("http://127.0.0.1:")
        assert sim.graphql_url == f"{sim.url}/graphql"
        assert sim.api_url == sim.url
        async with aiohttp.ClientSession() as session:
            resp = await session.get(f"{sim.url}/user", headers={"Authorization": "token other"})
            assert (await resp.json())["login"] == "someone"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await session.get(f"{sim.url}/user")


def test_tokens_never_show_in_reprs(world: World) -> None:
    server = SimServer(world, tokens={"s3cret-token": "bot"})
    assert "s3cret" not in repr(server)
    assert "s3cret" not in repr(world.budgets)


async def test_the_sample_world_serves_a_dozen_prs_in_telling_states(
    schema: GraphQLSchema,
) -> None:
    clock = VirtualClock()
    world = sample_world(seed=1, clock=clock)
    async with SimServer(world) as sim, aiohttp.ClientSession() as session:
        listed = await (await session.get(f"{sim.url}/_sim/prs")).json()
        ticked = await (await session.post(f"{sim.url}/_sim/tick?seconds=60")).json()
        reply = await session.post(
            sim.graphql_url,
            json={
                "query": document("search_pull_requests"),
                "variables": {"query": 'is:pr state:open label:"lgtm" org:"acme"'},
            },
            headers={"Authorization": f"bearer {SAMPLE_TOKEN}"},
        )
        found = (await reply.json())["data"]["search"]

    assert {pr["repo"] for pr in listed} == {"acme/widgets", "acme/gadgets"}
    assert len(listed) >= 12
    assert {pr["merge_state_status"] for pr in listed} >= {"DRAFT", "BLOCKED"}
    assert ticked["events_applied"] > 0
    assert found["issueCount"] == len(listed)
    assert any(pr["mergeStateStatus"] == "CLEAN" for pr in found["nodes"])
    assert any(pr["author"]["__typename"] == "Bot" for pr in found["nodes"])


def test_the_sample_world_is_the_same_for_the_same_seed() -> None:
    def shape(world: World) -> list[tuple[str, int, str]]:
        return [
            (repo.full_name, pr.number, pr.head_sha)
            for repo in world.repos.values()
            for pr in repo.pulls.values()
        ]

    clock_a, clock_b = VirtualClock(), VirtualClock()
    assert shape(sample_world(3, clock_a)) == shape(sample_world(3, clock_b))
