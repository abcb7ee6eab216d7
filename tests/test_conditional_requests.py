"""Conditional REST reads: the simulator answers a matching If-None-Match with 304 and, like
GitHub, does not count it against the core budget; the client re-reads protection with the
ETag it remembered and sees an edit at once."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tide.github import GitHub, GitHubEndpoint, RetryPolicy, StaticToken
from tide.sim import SimServer, World

TOKEN = "sim-token"
PROTECTION = "/repos/org/repo/branches/main/protection"


@pytest.fixture
async def gh(world: World, sim: SimServer) -> AsyncIterator[GitHub]:
    async with GitHub(
        GitHubEndpoint(sim.graphql_url, sim.api_url),
        StaticToken(TOKEN),
        clock=world.clock,
        retry=RetryPolicy(attempts=2, base_delay=0.01),
        rng=random.Random(0),
    ) as client:
        yield client


@pytest.fixture
def repo(world: World):
    repo = world.create_repo("org/repo", {"a.txt": "base\n"})
    world.protect(repo, "main", contexts=["ci/test"])
    return repo


def core_used(world: World) -> int:
    return world.budgets.rest(TOKEN, world.now()).used


def protection_answers(world: World) -> list[int]:
    return [r.status for r in world.journal.requests if r.path == PROTECTION]


async def test_a_304_costs_no_core_budget_and_a_stale_etag_gets_the_new_body(world, repo, sim):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.get(sim.api_url + PROTECTION) as first:
            assert first.status == 200
            etag = first.headers["ETag"]
        used = core_used(world)

        async with session.get(sim.api_url + PROTECTION, headers={"If-None-Match": etag}) as again:
            assert again.status == 304
            assert await again.read() == b""
            assert again.headers["ETag"] == etag
        assert core_used(world) == used

        world.protect(repo, "main", contexts=["ci/test", "ci/lint"])
        async with session.get(sim.api_url + PROTECTION, headers={"If-None-Match": etag}) as edited:
            assert edited.status == 200
            assert edited.headers["ETag"] != etag
            assert "ci/lint" in await edited.text()
        assert core_used(world) == used + 1


async def test_the_client_reuses_its_cached_protection_on_304_and_sees_an_edit(world, repo, gh):
    assert await gh.rest.branch_protection_contexts("org", "repo", "main") == ("ci/test",)
    used = core_used(world)
    assert await gh.rest.branch_protection_contexts("org", "repo", "main") == ("ci/test",)
    assert protection_answers(world) == [200, 304]
    assert core_used(world) == used

    world.protect(repo, "main", contexts=["ci/test", "ci/lint"])
    assert await gh.rest.branch_protection_contexts("org", "repo", "main") == (
        "ci/test",
        "ci/lint",
    )
    assert protection_answers(world) == [200, 304, 200]


async def test_the_remembered_answers_are_bounded(world, repo, gh):
    gh.rest.etags._capacity = 2
    for branch in ("b1", "b2", "b3"):
        world.push_branch(repo, branch, {f"{branch}.txt": "x"})
        await gh.rest.get_ref("org", "repo", f"heads/{branch}")
    assert len(gh.rest.etags) == 2
