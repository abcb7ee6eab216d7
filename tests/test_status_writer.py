"""The one writer of the `tide` status, against the simulator: what it writes, when it holds
a write back, and what a dry run does. Its rule is Tide's (`TestSetStatuses`, Prow's
`pkg/tide/status_test.go`): write only when the state or the description differ.
"""

from __future__ import annotations

from e2e import TOKEN, make_world

from tide.clock import VirtualClock
from tide.github import GitHub, GitHubEndpoint, StaticToken
from tide.model import PullRequest
from tide.sim import SimServer, World
from tide.status_text import IN_POOL, Status
from tide.status_writer import StatusWriter, Written

NOT_MERGEABLE = Status("pending", "Not mergeable. Needs lgtm label.")
IN_MERGE_POOL = Status("success", IN_POOL)


def tide_statuses(world: World, pr: PullRequest) -> list[tuple[str, str]]:
    records = world.repo("org/repo").statuses.get(pr.head_sha, [])
    return [(s.state, s.description) for s in records if s.context == "tide"]


async def read(gh: GitHub) -> PullRequest:
    found = await gh.search.pull_requests('is:pr is:open repo:"org/repo"')
    return (await gh.complete_head_contexts(found.items))[0]


async def test_only_a_changed_status_is_written_unless_it_records_a_decision(schema):
    """A refused merge is decided after the PR was read and after "In merge pool." went
    out: its status is written even when the read PR shows that very status."""
    clock = VirtualClock()
    world = make_world(clock)
    opened = world.open_pr("org/repo", files={"a.txt": "1\n"})
    world.set_status(
        "org/repo", opened.head_sha, "tide", "pending", description=NOT_MERGEABLE.description
    )
    writer = StatusWriter(clock)
    async with SimServer(world) as sim:
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(TOKEN), clock=clock) as gh:
            pr = await read(gh)  # shows pending "Not mergeable."

            same = await writer.write(gh, pr, "tide", NOT_MERGEABLE)
            changed = await writer.write(gh, pr, "tide", IN_MERGE_POOL)
            decided = await writer.write(gh, pr, "tide", NOT_MERGEABLE, decided=True)

    assert (same, changed, decided) == (Written.UNCHANGED, Written.WRITTEN, Written.WRITTEN)
    assert tide_statuses(world, pr) == [
        ("pending", NOT_MERGEABLE.description),
        ("success", IN_POOL),
        ("pending", NOT_MERGEABLE.description),
    ]


async def test_paced_writes_wait_for_room_and_the_queues_writes_never_do(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"})
    writer = StatusWriter(clock)
    while writer.pace.take(clock.now()):
        pass  # the status pass's share of the write limits is used up
    async with SimServer(world) as sim:
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(TOKEN), clock=clock) as gh:
            pr = await read(gh)
            held = await writer.write(gh, pr, "tide", NOT_MERGEABLE, paced=True)
            queue = await writer.write(gh, pr, "tide", IN_MERGE_POOL)
            clock.advance(3600)
            later = await writer.write(gh, pr, "tide", NOT_MERGEABLE, paced=True)

    assert (held, queue, later) == (Written.HELD, Written.WRITTEN, Written.WRITTEN)
    assert tide_statuses(world, pr) == [
        ("success", IN_POOL),
        ("pending", NOT_MERGEABLE.description),
    ]


async def test_a_dry_run_writes_nothing(schema):
    clock = VirtualClock()
    world = make_world(clock)
    world.open_pr("org/repo", files={"a.txt": "1\n"})
    writer = StatusWriter(clock, dry_run=True)
    async with SimServer(world) as sim:
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(TOKEN), clock=clock) as gh:
            pr = await read(gh)
            done = await writer.write(gh, pr, "tide", IN_MERGE_POOL, paced=True)

    assert done == Written.DRY_RUN
    assert tide_statuses(world, pr) == []
    assert writer.pace.room(clock.now()) == writer.pace.limits.per_minute
