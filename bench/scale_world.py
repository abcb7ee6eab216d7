"""The scale benchmark's world: many open PRs over many repositories, in the shapes a large
org has (most ready, the rest missing a label, held, failing, pending or conflicting), every
base moved on since the PRs were opened, and no CI on staging branches, so nothing merges.

The simulator runs in its own process (`serve`), so the daemon's CPU and memory are measured
alone; the parent asks it for its request journal and the points it charged over a pipe.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from tide.clock import RealClock, VirtualClock

if TYPE_CHECKING:  # the simulator loads only in its own process: the daemon's memory is measured
    from tide.sim import World
    from tide.sim.graphql.cost import Analysis

TOKEN = "scale-token"
ORG = "scale"
CONTEXT = "ci/test"
READY = ("lgtm",)
HOLD = "do-not-merge/hold"

# One PR in every 100 (per repository) of each shape; the rest are ready.
SHAPES: tuple[tuple[str, int], ...] = (
    ("no-label", 10),
    ("held", 8),
    ("failing", 8),
    ("pending", 7),
    ("conflicting", 7),
)


@dataclass(frozen=True, slots=True)
class Shape:
    prs: int
    repos: int

    @property
    def per_repo(self) -> int:
        return max(1, self.prs // self.repos)


def repo_names(shape: Shape) -> list[str]:
    return [f"{ORG}/repo-{i:02d}" for i in range(shape.repos)]


def kind_of(index: int) -> str:
    """The shape of the `index`-th PR of the world: a fixed pattern per 100, spread so that
    every repository gets a mix however few PRs it has."""
    slot = (index * 61) % 100
    for kind, count in SHAPES:
        if slot < count:
            return kind
        slot -= count
    return "ready"


# PRs were opened over the past weeks, one every few minutes: a search must split its
# `updated:` window, as it does on GitHub, rather than meet thousands in one second.
SPACING = 300.0


def build(shape: Shape, seed: int = 0) -> World:
    from tide.sim import World

    real = RealClock()
    history = VirtualClock(real.now() - timedelta(seconds=SPACING * (shape.prs + 10)))
    world = World(history, tokens={TOKEN: "tide-bot"}, seed=seed)
    serial = 0
    for name in repo_names(shape):
        repo = world.create_repo(name, files={"README.md": "# r\n", "shared.txt": "v1\n"})
        world.protect(repo, "main", contexts=[CONTEXT])
        for index in range(shape.per_repo):
            kind = kind_of(serial)
            serial += 1
            files = {f"changes/{index}.txt": f"{index}\n"}
            if kind == "conflicting":
                files["shared.txt"] = f"pr {index}\n"
            labels: tuple[str, ...] = () if kind == "no-label" else READY
            if kind == "held":
                labels = (*labels, HOLD)
            history.advance(SPACING)
            pr = world.open_pr(repo, files=files, labels=labels, title=f"Change {index}")
            if kind != "pending":
                state = "failure" if kind == "failing" else "success"
                world.set_status(repo, pr.head_sha, CONTEXT, state, description="CI")
        # Every base moved on: an unrelated change, and one the conflicting PRs clash with.
        world.push_branch(repo, "main", {"base.txt": "moved\n", "shared.txt": "v2\n"})
    world.clock = real  # from now on the simulator serves in real time
    return world


# Points charged per GraphQL operation, for the table's breakdown (this process only).
POINTS_BY_OPERATION: Counter[str] = Counter()


def _count_points() -> None:
    """Wrap the simulator's cost analysis to learn which operation the points went to."""
    from tide.sim.graphql import api as graphql_api

    analyse = graphql_api.analyse

    def counted(schema: Any, operation: Any, fragments: Any, variables: Any) -> Analysis:
        found = analyse(schema, operation, fragments, variables)
        if not found.errors:
            POINTS_BY_OPERATION[operation.name.value if operation.name else "?"] += found.cost
        return found

    graphql_api.analyse = counted  # type: ignore[assignment]


def stats(world: World, points_before: int = 0) -> dict[str, Any]:
    """What the daemon has cost GitHub so far: requests by kind and GraphQL points charged."""
    graphql = rest_reads = rest_writes = not_modified = refused = 0
    writes: Counter[str] = Counter()
    for record in world.journal.requests:
        refused += record.status in (403, 429)
        if record.endpoint.startswith("POST /graphql"):
            graphql += 1
        elif record.method in ("GET", "HEAD"):
            rest_reads += 1
            not_modified += record.status == 304
        else:
            rest_writes += 1
            writes[record.endpoint] += 1
    window = world.budgets.graphql(TOKEN, world.now())
    return {
        "by_operation": dict(POINTS_BY_OPERATION),
        "graphql": graphql,
        "points": window.used - points_before,
        "rest_reads": rest_reads,
        "not_modified": not_modified,
        "rest_writes": rest_writes,
        "refused": refused,
        "writes": dict(writes),
        "statuses": sum(
            1
            for repo in world.repos.values()
            for pr in repo.pulls.values()
            if pr.state == "OPEN"
            and any(s.context == "tide" for s in repo.statuses.get(pr.head_sha, []))
        ),
        "open": sum(
            1 for repo in world.repos.values() for pr in repo.pulls.values() if pr.state == "OPEN"
        ),
    }


def serve(shape: Shape, conn: Connection) -> None:
    """The child process: build the world, serve it, answer `stats` until told to stop."""
    asyncio.run(_serve(shape, conn))


async def _serve(shape: Shape, conn: Connection) -> None:
    from tide.sim import SimServer
    from tide.sim.world.budget import RateBudgets

    _count_points()
    world = build(shape)
    world.journal.requests.clear()
    points_before = 0
    async with SimServer(world) as sim:
        conn.send({"graphql_url": sim.graphql_url, "api_url": sim.api_url})
        loop = asyncio.get_running_loop()
        while True:
            command = await loop.run_in_executor(None, conn.recv)
            if command == "stop":
                break
            if command == "stats":
                conn.send(stats(world, points_before))
            elif command == "refill":  # a new hour: GitHub's budgets start over
                world.budgets = RateBudgets(world.budgets.graphql_limit, world.budgets.rest_limit)
                points_before = 0
                conn.send(None)
            elif command == "reset":
                world.journal.requests.clear()
                POINTS_BY_OPERATION.clear()
                points_before = world.budgets.graphql(TOKEN, world.now()).used
                conn.send(None)
            elif isinstance(command, tuple) and command[0] == "act":
                conn.send(act(world, command[1]))


def act(world: World, change: str) -> str:
    """A change on GitHub the daemon must notice (the `--quick` test's probes)."""
    repo = world.repo(repo_names(Shape(1, 1))[0])
    if change == "label":
        pr = next(p for p in repo.pulls.values() if p.state == "OPEN" and not p.labels)
        world.add_label(pr, READY[0])
        return f"{repo.full_name}#{pr.number}"
    raise ValueError(f"unknown change {change!r}")
