"""Repository states read 100 repositories a request (settings, staging branches, default
branch heads), with the same answer as reading each repository alone."""

from __future__ import annotations

from datetime import UTC, datetime

from tide.clock import VirtualClock
from tide.github import GitHub, GitHubEndpoint, StaticToken
from tide.github.records import RepositoryState, RepositoryUnreadable
from tide.github.repo_states import RepositoryStates
from tide.sim import SimServer, World

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TOKEN = "sim-token"


def world_of(repos: int) -> World:
    world = World(VirtualClock(NOW), tokens={TOKEN: "tide-bot"})
    for i in range(repos):
        world.create_repo(f"org/r{i}", allow_rebase=i % 2 == 0)
    world.push_branch("org/r1", "tide/main-1", {"a.txt": "a\n"}, message="staging")
    world.set_status(
        "org/r1", world.repo("org/r1").git.branches["tide/main-1"], "ci/test", "success"
    )
    return world


async def test_a_batch_reads_what_one_request_per_repository_reads_for_one_point():
    world = world_of(3)
    wanted = {("org", f"r{i}"): "tide/" for i in range(3)}
    async with (
        SimServer(world) as sim,
        GitHub(GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken(TOKEN)) as gh,
    ):
        alone = {key: await gh.repository_state(*key, "tide/") for key in wanted}
        states = RepositoryStates()
        first = await states.read(gh, wanted)
        world.journal.requests.clear()
        used = world.budgets.graphql(TOKEN, world.now()).used
        again = await states.read(gh, wanted)
        spent = world.budgets.graphql(TOKEN, world.now()).used - used

    assert first.states == alone == again.states
    assert first.states[("org", "r1")].staging_refs  # the staging branch and its contexts
    assert again.heads == {
        ("org", f"r{i}", "main"): world.repo(f"org/r{i}").git.branches["main"] for i in range(3)
    }
    # Ids are kept: a later sync reads all three in one request, one point.
    assert [r.endpoint for r in world.journal.requests] == ["POST /graphql RepositoryStates"]
    assert spent == 1


async def test_more_than_100_staging_branches_are_paged_alone():
    world = world_of(2)
    for n in range(101):
        world.push_branch("org/r0", f"tide/main-{n}", {"a.txt": f"{n}\n"})
    wanted = {("org", "r0"): "tide/", ("org", "r1"): "tide/"}
    async with (
        SimServer(world) as sim,
        GitHub(GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken(TOKEN)) as gh,
    ):
        reads = await RepositoryStates().read(gh, wanted)

    state = reads.states[("org", "r0")]
    assert isinstance(state, RepositoryState)
    assert len(state.staging_refs) == 101


async def test_a_repository_that_cannot_be_read_says_so_and_the_others_are_read():
    world = world_of(2)
    wanted = {("org", "r0"): "tide/", ("org", "gone"): "tide/"}
    async with (
        SimServer(world) as sim,
        GitHub(GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken(TOKEN)) as gh,
    ):
        reads = await RepositoryStates().read(gh, wanted)

    assert isinstance(reads.states[("org", "r0")], RepositoryState)
    gone = reads.states[("org", "gone")]
    assert isinstance(gone, RepositoryUnreadable) and "org/gone" in gone.reason


async def test_a_sync_takes_default_branch_heads_from_the_batch_and_reads_other_bases_alone(schema):
    from e2e import make_world, running_queue

    clock = VirtualClock(NOW)
    world = make_world(clock)
    repo = world.repo("org/repo")
    world.push_branch(repo, "release", {"r.txt": "r\n"})
    on_main = world.open_pr(repo, files={"a.txt": "a\n"}, labels=["lgtm"])
    on_release = world.open_pr(repo, files={"b.txt": "b\n"}, labels=["lgtm"], base="release")
    for pr in (on_main, on_release):
        world.set_status(repo, pr.head_sha, "ci/test", "success")
    before = {b: repo.git.branches[b] for b in ("main", "release")}
    async with running_queue(world, clock) as q:
        report = await q.sync()

    assert {p.state.branch: p.state.base_sha for p in report.pools} == before
    assert world.journal.count("POST /graphql BranchHead") == 1  # release only
    assert sorted(q.merged()) == [on_main.number, on_release.number]
