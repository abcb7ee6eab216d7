"""The chaos benchmark's harness, fast: every fault kind through the same seeded runs as
`bench/chaos.py` (the real daemon, the simulator, the virtual clock), checked for the three
unsafe outcomes, and the judge itself shown to catch each of them."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# `bench` sits beside `tide`, outside the installed package.
if str(Path(__file__).resolve().parents[1]) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.chaos_oracle import judge
from bench.chaos_world import (
    BASE,
    BOT,
    BREAK,
    KINDS,
    REPO,
    Kind,
    Outcome,
    build_world,
    plan,
    run_chaos,
)
from tide.clock import VirtualClock


def exercised(kind: Kind, out: Outcome) -> bool:
    """The run really met its kind of trouble."""
    world = out.world
    statuses = [r.status for r in world.journal.requests]
    pushes = [p for p in world.journal.pushes if p.actor not in (BOT, "alice", "carol")]
    if kind == Kind.SERVER_ERRORS:
        return any(s in (502, 503) for s in statuses)
    if kind == Kind.RATE_LIMITS:
        return any(s in (403, 429) for s in statuses)
    if kind == Kind.LOST_ANSWERS:
        return any(r.status == 0 and r.method != "GET" for r in world.journal.requests)
    if kind == Kind.BASE_MODIFIED:
        return bool(out.plan.events)
    if kind == Kind.PUSHES:
        return any(p.actor != BOT for p in world.journal.pushes[-20:])
    if kind == Kind.CI_LATE_NEVER:
        ci = world.repo(REPO).ci
        return ci is not None and (ci.late > 0 or ci.silent_rate > 0)
    if kind == Kind.FORGED:
        return any(p.branch.startswith("tide/forged-") for p in pushes)
    if kind == Kind.SECOND_INSTANCE:
        return out.standby_syncs > 0
    if kind == Kind.RESTARTS:
        return out.restarts > 0
    return True


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.value)
async def test_no_unsafe_outcome_under_each_fault_kind(kind: Kind, schema):
    out = await run_chaos(kind, 1)
    verdict = judge(out)

    assert out.crashes == []
    assert verdict.base_failing == [], "(a) the base pointed at a failing commit"
    assert verdict.ineligible == [], "(b) an ineligible PR merged"
    assert verdict.untested == [], "(c) the base moved to a combination no passed run tested"
    assert exercised(kind, out), f"the run never met {kind.value}"


def test_the_judge_catches_every_unsafe_outcome():
    p = plan(Kind.NONE, 1)
    clock = VirtualClock()
    world, numbers = build_world(p, clock)
    out = Outcome(world, numbers, p)
    assert not judge(out).unsafe

    # Someone (as tide) merges a PR no run tested, and lands a failing commit on the base.
    repo = world.repo(REPO)
    never = next(n for n, kind in numbers.items() if kind in ("unlabelled", "held"))
    world.merge_pr(repo.pulls[never], actor=BOT)
    world.push_branch(REPO, BASE, {BREAK: "x\n"}, author=BOT)
    verdict = judge(out)

    assert verdict.ineligible and f"#{never}" in verdict.ineligible[0]
    assert len(verdict.untested) == 2
    assert verdict.base_failing == [repo.git.branches[BASE][:7]]
