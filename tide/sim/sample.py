"""A seeded sample world for manual play and the demo: two repositories, a dozen pull
requests in telling states, branch protection and a fake CI."""

from __future__ import annotations

import random
from typing import Any

from tide.clock import Clock
from tide.sim.world.ci import FakeCI, Job, fail_if_all_present, fail_if_present
from tide.sim.world.world import World

SAMPLE_TOKEN = "sim-token"
READY = ("lgtm", "approved")


HOLD = (*READY, "do-not-merge/hold")
# (repo, title, files, labels, other open_pr arguments): each shows one way a PR can be stuck.
SAMPLE_PRS: list[tuple[str, str, dict[str, str], tuple[str, ...], dict[str, Any]]] = [
    ("acme/widgets", "Add the blue widget", {"widgets/blue.txt": "blue\n"}, READY, {}),
    ("acme/widgets", "Add the red widget", {"widgets/red.txt": "red\n"}, READY, {}),
    ("acme/widgets", "Needs approval", {"widgets/green.txt": "g\n"}, ("lgtm",), {}),
    ("acme/widgets", "On hold", {"widgets/grey.txt": "grey\n"}, HOLD, {}),
    ("acme/widgets", "Breaks the build", {"BREAK": "boom\n"}, READY, {}),
    ("acme/widgets", "Change the port", {"config.txt": "port=8080\n"}, READY, {}),
    ("acme/widgets", "Change the port too", {"config.txt": "port=9090\n"}, READY, {}),
    ("acme/widgets", "Work in progress", {"widgets/wip.txt": "wip\n"}, READY, {"draft": True}),
    (
        "acme/widgets",
        "Bump a dependency",
        {"deps.txt": "lib==2\n"},
        READY,
        {"author": "dependabot[bot]"},
    ),
    ("acme/gadgets", "API v2", {"api/v2.txt": "v2\n"}, READY, {}),
    ("acme/gadgets", "Client for v1", {"client/v1.txt": "v1\n"}, READY, {}),
]


def sample_ci(seed: int) -> FakeCI:
    return FakeCI(
        [Job("ci/test", duration=20), Job("ci/lint", kind="check_run", duration=10)],
        branches=["tide/*"],
        rules=[fail_if_present("BREAK"), fail_if_all_present("api/v2.txt", "client/v1.txt")],
        flake_rate=0.02,
        seed=seed,
    )


def sample_world(seed: int = 0, clock: Clock | None = None) -> World:
    world = World(clock, tokens={SAMPLE_TOKEN: "tide-bot"}, seed=seed)
    rng = random.Random(seed)
    widgets = world.create_repo(
        "acme/widgets",
        files={"README.md": "# widgets\n", "src/app.txt": "v1\n", "config.txt": "port=80\n"},
        ci=sample_ci(seed),
    )
    world.protect(widgets, "main", contexts=["ci/test"])
    gadgets = world.create_repo(
        "acme/gadgets", files={"README.md": "# gadgets\n"}, allow_merge=False, ci=sample_ci(seed)
    )
    world.protect(gadgets, "main", contexts=["ci/test", "ci/lint"])

    for repo, title, files, labels, extra in SAMPLE_PRS:
        world.open_pr(repo, files=files, title=title, labels=labels, **extra)
    world.open_pr(
        "acme/gadgets",
        files={"docs/index.md": f"build {rng.randint(1, 999)}\n"},
        title="Docs",
        labels=READY,
    )
    world.open_issue(
        "acme/gadgets", "Freeze during the release branch:main", labels=["tide/merge-blocker"]
    )
    return world
