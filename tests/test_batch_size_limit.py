"""`tide.batch_size_limit` means the same on every strategy, as in Prow's config: 0 no limit,
a negative value batching off (each run tests one PR), N at most N PRs picked together."""

from __future__ import annotations

from dataclasses import replace

import pytest
from lanes_world import lanes_policy, lanes_world
from planner_world import make_policy, world_of

from tide.policy import FailureStrategy
from tide.pool import Action

PRS = 5
# limit -> the largest set of PRs one run starts with, on a queue of five good PRs.
LARGEST = {-2: 1, -1: 1, 0: PRS, 1: 1, 3: 3}


@pytest.mark.parametrize(("limit", "expected"), [(-2, 1), (-1, 1), (0, None), (1, 1), (7, 7)])
def test_the_limit_is_read_in_one_place(limit, expected):
    assert make_policy(batch_size_limit=limit).max_batch_size == expected


@pytest.mark.parametrize("limit", sorted(LARGEST))
@pytest.mark.parametrize(
    ("strategy", "parallel"),
    [
        (FailureStrategy.BISECT, False),
        (FailureStrategy.BISECT, True),
        (FailureStrategy.TIDE, False),
    ],
    ids=["bisect", "bisect-parallel", "tide"],
)
def test_batch_and_bisect_strategies_honour_the_limit(strategy, parallel, limit):
    policy = make_policy(batch_size_limit=limit, strategy=strategy, parallel=parallel)
    world = world_of(PRS, policy=policy)
    decisions = []
    for _ in range(400):
        decisions.append(world.step())
        if not world.prs:
            break
    sizes = [len(t.prs) for d in decisions for t in d.triggers]
    assert max(sizes) == LARGEST[limit]
    assert sorted(world.merged) == list(range(1, PRS + 1))
    if LARGEST[limit] == 1:
        # Batching off (or a batch of one, which is no batch): no run tests two PRs together.
        assert not any(d.action == Action.TRIGGER_BATCH for d in decisions)


@pytest.mark.parametrize("limit", sorted(LARGEST))
def test_lanes_stacks_layers_no_larger_than_the_limit(limit):
    world = lanes_world(PRS, policy=replace(lanes_policy(), batch_size_limit=limit))
    world.run_until_idle()
    layers = [len(t.prs) for d in world.decisions for t in d.triggers]
    assert max(layers) == LARGEST[limit]
    assert sorted(world.merged) == list(range(1, PRS + 1))
