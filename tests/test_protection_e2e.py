"""Required contexts read from branch protection, end to end: tide's own `tide` status is
never something a staging commit has to wait for."""

from __future__ import annotations

from e2e import advance_base_world, make_world, running_queue

from tide.clock import VirtualClock

PROTECTED = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo]
    labels: [lgtm]
  context_options:
    from-branch-protection: true
"""


async def test_protection_requiring_tide_itself_still_merges_and_blames_nobody(schema):
    clock = VirtualClock()
    world = make_world(clock)
    prs = [world.open_pr("org/repo", files={f"{n}.txt": "1\n"}, labels=["lgtm"]) for n in "ab"]
    world.protect("org/repo", "main", contexts=["tide", "ci/test"])
    advance_base_world(world)
    async with running_queue(world, clock, tide=PROTECTED) as q:
        await q.run(25)
        assert sorted(q.merged()) == [p.number for p in prs]
        runs = [r for rep in q.reports for p in rep.pools for r in p.state.runs]
        assert runs and all("tide" not in r.waiting for r in runs)
        assert all(r.outcome != "FAILURE" for r in runs)
        for pr in prs:
            assert not any(
                s.context == "tide" and s.state == "error"
                for s in world.repo("org/repo").statuses.get(pr.head_sha, [])
            )
