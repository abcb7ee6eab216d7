"""Shared fixtures: a simulated GitHub world and a running simulator server for it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from graphql import GraphQLSchema

from tide.clock import RealClock, VirtualClock
from tide.github.schema import github_schema
from tide.logs import reset_logging
from tide.sim import SimServer, World

SIM_TOKEN = "sim-token"
SIM_LOGIN = "tide-bot"


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    """A test that configures logging (e.g. `run_service`) must not leak it into the next."""
    yield
    reset_logging()


@pytest.fixture(scope="session")
def schema() -> GraphQLSchema:
    """GitHub's schema, built once per test session (it takes about two seconds)."""
    return github_schema()


@pytest.fixture
def sim_token() -> str:
    return SIM_TOKEN


@pytest.fixture
def world() -> World:
    """An empty world on the wall clock that knows one token, `sim-token` (user tide-bot)."""
    return World(RealClock(), tokens={SIM_TOKEN: SIM_LOGIN})


@pytest.fixture
def virtual_clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def virtual_world(virtual_clock: VirtualClock) -> World:
    """Like `world`, on a virtual clock: time moves only with `virtual_clock.advance()`."""
    return World(virtual_clock, tokens={SIM_TOKEN: SIM_LOGIN})


@pytest.fixture
async def sim(world: World, schema: GraphQLSchema) -> AsyncIterator[SimServer]:
    """The simulator serving `world` on 127.0.0.1 (`sim.graphql_url`, `sim.api_url`)."""
    async with SimServer(world) as server:
        yield server


@dataclass
class Reply:
    status: int
    body: Any
    headers: Mapping[str, str]


class SimHTTP:
    """A plain aiohttp client for the simulator: what a test sends is what GitHub would get."""

    def __init__(self, server: SimServer, session: aiohttp.ClientSession) -> None:
        self.server = server
        self.session = session

    async def rest(
        self, method: str, path: str, body: object = None, *, token: str | None = SIM_TOKEN
    ) -> Reply:
        headers = {"Authorization": f"token {token}"} if token else {}
        async with self.session.request(
            method, f"{self.server.api_url}{path}", json=body, headers=headers
        ) as resp:
            text = await resp.text()
            try:
                data = json.loads(text) if text else None
            except ValueError:
                data = text
            return Reply(resp.status, data, resp.headers)

    async def graphql(
        self, query: str, variables: dict[str, Any] | None = None, *, token: str = SIM_TOKEN
    ) -> Reply:
        payload = {"query": query, "variables": variables or {}}
        async with self.session.post(
            self.server.graphql_url, json=payload, headers={"Authorization": f"bearer {token}"}
        ) as resp:
            return Reply(resp.status, await resp.json(content_type=None), resp.headers)


@pytest.fixture
async def http(sim: SimServer) -> AsyncIterator[SimHTTP]:
    """`sim` plus an authenticated HTTP client for it (`await http.rest("GET", "/user")`)."""
    async with aiohttp.ClientSession() as session:
        yield SimHTTP(sim, session)


@pytest.fixture
async def virtual_sim(virtual_world: World, schema: GraphQLSchema) -> AsyncIterator[SimServer]:
    async with SimServer(virtual_world) as server:
        yield server


@pytest.fixture
async def virtual_http(virtual_sim: SimServer) -> AsyncIterator[SimHTTP]:
    """Like `http`, for `virtual_world`."""
    async with aiohttp.ClientSession() as session:
        yield SimHTTP(virtual_sim, session)
