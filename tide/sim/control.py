"""`/_sim/...`: a tiny unauthenticated control API for manual play (tick, list PRs)."""

from __future__ import annotations

from aiohttp import web

from tide.clock import VirtualClock
from tide.sim.middleware import WORLD, json_response
from tide.sim.world.entities import iso


async def tick(request: web.Request) -> web.Response:
    """Apply due events; with a virtual clock, `?seconds=N` first moves time forward."""
    world = request.app[WORLD]
    seconds = float(request.query.get("seconds", "0") or 0)
    if seconds and isinstance(world.clock, VirtualClock):
        world.clock.advance(seconds)
    ran = world.tick()
    return json_response({"now": iso(world.now()), "events_applied": ran})


async def list_prs(request: web.Request) -> web.Response:
    world = request.app[WORLD]
    out = []
    for repo in world.repos.values():
        for pr in repo.pulls.values():
            out.append(
                {
                    "repo": repo.full_name,
                    "number": pr.number,
                    "title": pr.title,
                    "state": pr.state,
                    "labels": list(pr.labels),
                    "head_sha": pr.head_sha,
                    "mergeable": world.mergeable(pr),
                    "merge_state_status": world.merge_state_status(pr),
                    "updated_at": iso(pr.updated_at),
                }
            )
    return json_response(out)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/_sim/tick", tick)
    app.router.add_get("/_sim/prs", list_prs)
