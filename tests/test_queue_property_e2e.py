"""Safety end to end (hypothesis): random PR sets through the real daemon and simulator.

Whatever the labels, broken PRs, pairs that break only together, strategy and batch size,
every commit the base branch ever points to passes the fake CI, no PR that lacks a
criterion is ever merged, and every ready PR that breaks nothing lands.
"""

from __future__ import annotations

import asyncio

from e2e import make_world, running_queue
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tide.clock import VirtualClock
from tide.sim import FakeCI, Job, fail_if_all_present, fail_if_present


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    count = draw(st.integers(min_value=1, max_value=6))
    prs = []
    for n in range(1, count + 1):
        prs.append(
            {
                "lgtm": draw(st.booleans()) or draw(st.booleans()),
                "hold": draw(st.integers(0, 5)) == 0,
                "breaks": draw(st.integers(0, 4)) == 0,
                "file": f"f{n}.txt",
            }
        )
    pairs = []
    if count >= 2 and draw(st.booleans()):
        a, b = draw(st.lists(st.integers(1, count), min_size=2, max_size=2, unique=True))
        pairs.append((a, b))
    return {
        "prs": prs,
        "pairs": pairs,
        "strategy": draw(st.sampled_from(["bisect", "tide"])),
        "limit": draw(st.sampled_from([-1, 0, 3])),
        "base_moves": draw(st.booleans()),
    }


async def play(scenario: dict) -> None:
    clock = VirtualClock()
    rules = [fail_if_present("BREAK")]
    rules += [fail_if_all_present(f"f{a}.txt", f"f{b}.txt") for a, b in scenario["pairs"]]
    ci = FakeCI([Job("ci/test", duration=300)], branches=["tide/*"], rules=rules)
    world = make_world(clock, ci=ci)
    opened = []
    for spec in scenario["prs"]:
        files = {spec["file"]: "x\n"}
        if spec["breaks"]:
            files["BREAK"] = "boom\n"
        labels = (["lgtm"] if spec["lgtm"] else []) + (
            ["do-not-merge/hold"] if spec["hold"] else []
        )
        opened.append((world.open_pr("org/repo", files=files, labels=labels), spec))
        clock.advance(5)
    if scenario["base_moves"]:
        world.push_branch("org/repo", "main", {"base.txt": "moved\n"})
    tide = f"""
    tide:
      sync_period: 1m
      queries:
      - repos: [org/repo]
        labels: [lgtm]
        missingLabels: [do-not-merge/hold]
      batch_size_limit:
        "*": {scenario["limit"]}
    """
    queue = f"""
    queue:
      batch_failure_strategy: {scenario["strategy"]}
      merge_pause: 1s
    """
    async with running_queue(world, clock, tide=tide, queue=queue) as q:
        for _ in range(90):
            await q.step()
            if (
                world.next_event_at() is None
                and q.reports[-1].pools
                and not any(p.state.eligible for p in q.reports[-1].pools)
            ):
                break
        repo = world.repo("org/repo")
        for sha in repo.git.history["main"]:
            assert ci.verdict(repo.git.commits[sha].tree), f"main pointed at a broken commit {sha}"
        for pr, spec in opened:
            if pr.state == "MERGED":
                assert spec["lgtm"] and not spec["hold"] and not spec["breaks"], spec
        merged = {pr.number for pr, _ in opened if pr.state == "MERGED"}
        in_pairs = {n for pair in scenario["pairs"] for n in pair}
        for a, b in scenario["pairs"]:
            assert not {a, b} <= merged
        for pr, spec in opened:
            good = spec["lgtm"] and not spec["hold"] and not spec["breaks"]
            if good and pr.number not in in_pairs:
                assert pr.state == "MERGED", f"#{pr.number} is ready and breaks nothing"


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(scenarios())
def test_base_branch_never_holds_a_broken_commit_and_nothing_ineligible_merges(scenario):
    asyncio.run(play(scenario))
