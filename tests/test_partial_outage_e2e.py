"""A partial outage stays partial: a repository tide cannot read (or search: GitHub refuses a
whole search naming one missing repository) sits beside a healthy one as an errored pool
(status API, dashboard, metrics, one log line per change) while the healthy one keeps
merging; when it comes back, it is picked up."""

from __future__ import annotations

import io
import json

import aiohttp
from e2e import make_world, running_queue

from tide.clock import VirtualClock
from tide.logs import configure_logging
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job

TWO_REPOS = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo, org/gone]
    labels: [lgtm]
"""


async def test_an_unreachable_repository_is_an_errored_pool_beside_a_healthy_one(schema):
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    async with (
        running_queue(world, clock, tide=TWO_REPOS) as q,
        StatusServer(q.daemon, port=0) as server,
        aiohttp.ClientSession(server.url) as http,
    ):
        await q.run(15)
        assert q.merged() == [pr.number]
        pools = {p.key: p for p in q.daemon.last_report.pools}
        # The one query names both: GitHub refuses it whole, tide searches each alone.
        gone_why = (
            "repository org/gone cannot be searched: it does not exist or the token cannot see it"
        )
        assert pools["org/gone:*"].error == gone_why
        async with http.get("/api/v1/pools") as resp:
            api = await resp.json()
        gone = [p for p in api["pools"] if p["repo"] == "gone"]
        assert gone and gone[0]["error"] == gone_why
        async with http.get("/ui") as resp:
            assert "repository org/gone cannot be searched" in await resp.text()
        async with http.get("/metrics") as resp:
            metrics = await resp.text()
        assert 'tidepoolerrors{branch="*",org="org",repo="gone"}' in metrics
        async with http.get("/readyz") as resp:
            assert resp.status == 200

        # It comes back (created, with a ready PR): the next probe picks it up.
        world.create_repo(
            "org/gone", files={"README.md": "x\n"}, ci=FakeCI([Job("ci/test", duration=60)])
        )
        back = world.open_pr("org/gone", files={"b.txt": "1\n"}, labels=["lgtm"])
        await q.run(6)
        assert back.state == "MERGED"
        assert "org/gone:*" not in {p.key for p in q.daemon.last_report.pools}
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    said = [e for e in events if e["event"] in ("repository_unreachable", "repository_reachable")]
    assert [(e["event"], e["repo"]) for e in said] == [
        ("repository_unreachable", "org/gone"),
        ("repository_reachable", "org/gone"),
    ]
    assert not [e for e in events if e["event"] in ("pool_failed", "search_failed")]


WITH_BLOCKERS = """
tide:
  sync_period: 1m
  queries:
  - repos: [org/repo, org/renamed]
    labels: [lgtm]
  blocker_label: tide/merge-blocker
"""


async def test_a_refused_repository_leaves_the_blocker_and_status_searches_working(schema):
    """The blocker and status searches name every repository too: GitHub would refuse them
    whole as well. The refused name is left out of them, searched alone once per five
    minutes (not split out again every sync), and the healthy repository runs as usual."""
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    searches = "POST /graphql SearchPullRequestIds"
    async with running_queue(world, clock, tide=WITH_BLOCKERS) as q:
        await q.step()
        report = q.reports[-1]
        assert not report.errors
        assert report.unsearchable == {"org/renamed"}
        before = world.journal.count(searches)
        await q.run(2)
        per_step = (world.journal.count(searches) - before) / 2
        await q.run(12)
        assert q.merged() == [pr.number]
        assert q.status(pr.number) is not None
        assert q.daemon.last_status is not None and not q.daemon.last_status.errors
        # one search a sync and one a status pass: the refused name is not split out again
        assert per_step == 2
        assert {p.key for p in q.daemon.last_report.pools} >= {"org/renamed:*"}
        assert not q.daemon.last_report.errors


async def test_a_refused_organization_stops_no_other_and_deletes_nothing(schema):
    """`org:` of an organization that does not exist: the query's other org still merges;
    the refusal is a sync error (the org's repositories are unknown, so the search is not
    complete and no staging branch is deleted), said once in the log."""
    clock = VirtualClock()
    world = make_world(clock)
    pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
    out = io.StringIO()
    configure_logging("info", "json", stream=out)
    tide = TWO_REPOS.replace("- repos: [org/repo, org/gone]", "- orgs: [org, ghost-org]")
    async with running_queue(world, clock, tide=tide) as q:
        await q.run(12)
        assert q.merged() == [pr.number]
        why = (
            "organization ghost-org cannot be searched: "
            "it does not exist or the token cannot see it"
        )
        assert q.daemon.last_report.errors == (why,)
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    said = [e for e in events if e["event"] == "search_refused"]
    assert [(e["scope"], e["error"]) for e in said] == [("ghost-org", why)]
