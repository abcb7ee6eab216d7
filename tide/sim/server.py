"""`SimServer`: the simulated GitHub on 127.0.0.1 for tests and the demo
(`async with SimServer(world) as sim:` then use `sim.graphql_url`, `sim.api_url`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from types import TracebackType

import aiohttp
from aiohttp import web

from tide.sim import control
from tide.sim.faults import Faults
from tide.sim.graphql import api as graphql_api
from tide.sim.middleware import FAULTS, WORLD, github_middleware
from tide.sim.rest import api as rest_api
from tide.sim.rest import apps as rest_apps
from tide.sim.rest import git as rest_git
from tide.sim.world.world import World


def build_app(world: World, faults: Faults) -> web.Application:
    middlewares = [rest_apps.app_endpoints, github_middleware, rest_apps.installation_scope]
    app = web.Application(middlewares=middlewares, client_max_size=16 * 1024**2)
    app[WORLD] = world
    app[FAULTS] = faults
    for module in (graphql_api, rest_api, rest_git, rest_apps, control):
        module.add_routes(app)
    return app


class SimServer:
    def __init__(
        self,
        world: World,
        *,
        tokens: Mapping[str, str] | Iterable[str] = (),
        faults: Faults | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.world = world
        self.faults = faults or Faults(seed=world.seed)
        pairs = tokens.items() if isinstance(tokens, Mapping) else ((t, "tide-bot") for t in tokens)
        for token, login in pairs:
            world.add_token(token, login)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._hook_task: asyncio.Task[None] | None = None
        self.url = ""

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    @property
    def api_url(self) -> str:
        return self.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1]) if self.url else 0

    async def start(self) -> None:
        app = build_app(self.world, self.faults)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://{self._host}:{port}"
        self._hook_wake = asyncio.Event()
        self.world.hooks.on_emit = self._hook_wake.set
        self._hook_task = asyncio.create_task(self._deliver_hooks())

    async def _deliver_hooks(self) -> None:
        """Post queued webhook deliveries, as GitHub does, one at a time in order."""
        hooks = self.world.hooks
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            while True:
                await self._hook_wake.wait()
                self._hook_wake.clear()
                while hooks.outbox:
                    delivery = hooks.outbox.pop(0)
                    try:
                        async with session.post(
                            delivery.url, data=delivery.body, headers=dict(delivery.headers)
                        ) as resp:
                            hooks.delivered.append((delivery, resp.status))
                    except (aiohttp.ClientError, TimeoutError) as exc:
                        hooks.delivered.append((delivery, type(exc).__name__))

    async def stop(self) -> None:
        if self._hook_task is not None:
            self._hook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._hook_task
            self._hook_task = None
            self.world.hooks.on_emit = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SimServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def __repr__(self) -> str:
        return f"SimServer({self.url or 'not started'}, repos={len(self.world.repos)})"
