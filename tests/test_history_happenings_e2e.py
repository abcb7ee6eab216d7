"""The dashboard's history shows what went wrong, not only what tide did: a failed staging
run with its failed contexts and links, the culprit, and a PR GitHub refused; the culprit's
`tide` status and its PR page link to the CI run that failed."""

from __future__ import annotations

import aiohttp
from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, fail_if_all_present


async def test_history_shows_failed_batches_culprits_and_set_aside_prs(schema):
    clock = VirtualClock()
    rule = fail_if_all_present("poison.txt", "base.txt")
    world = make_world(
        clock, ci=FakeCI([Job("ci/test", duration=600)], branches=["tide/*"], rules=[rule])
    )
    world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"], review="APPROVED")
    poison = world.open_pr(
        "org/repo", files={"poison.txt": "1\n"}, labels=["lgtm"], review="APPROVED"
    )
    world.open_pr("org/repo", files={"c.txt": "1\n"}, labels=["lgtm"])
    world.protect("org/repo", "main", required_approving_reviews=1)
    clock.advance(700)
    world.tick()
    world.push_branch("org/repo", "main", {"base.txt": "moved\n"}, message="base moves")
    async with (
        running_queue(world, clock) as q,
        StatusServer(q.daemon, port=0) as server,
        aiohttp.ClientSession(server.url) as http,
    ):
        await q.run(120)
        records = q.daemon.history.records("org/repo:main")
        actions = {r.action for r in records}
        assert {"STAGING_FAILED", "CULPRIT", "SET_ASIDE"} <= actions
        failed = next(r for r in records if r.action == "STAGING_FAILED")
        assert "ci/test failure (https://ci.example/org/repo/" in failed.err
        culprit = next(r for r in records if r.action == "CULPRIT")
        assert [t.number for t in culprit.target] == [poison.number]
        aside = next(r for r in records if r.action == "SET_ASIDE")
        assert aside.err.startswith("GitHub refused the merge: At least 1 approving review")

        async with http.get("/ui/history") as resp:
            page = await resp.text()
        for action in ("STAGING_FAILED", "CULPRIT", "SET_ASIDE"):
            assert action in page
        statuses = world.repo("org/repo").statuses[poison.head_sha]
        broken = [s for s in statuses if s.context == "tide" and s.state == "error"][-1]
        assert broken.target_url.startswith("https://ci.example/org/repo/")
        async with http.get(f"/ui/pr/org/repo/{poison.number}") as resp:
            pr_page = await resp.text()
        assert f'href="{broken.target_url}"' in pr_page
        assert "the CI run that failed" in pr_page
