"""The webhook endpoint on the daemon's server, over real HTTP: refused when unsigned or
wrongly signed, a signed delivery wakes a sync of its repository within a second, and
polling stays the safety net when every delivery is lost."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import structlog
from e2e import TOKEN, config_text

from tide.clock import RealClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, SimServer, World
from tide.webhook_delivery import sign

SECRET = "hook-secret"
EXAMPLE = Path(__file__).parent / "fixtures" / "webhooks" / "pull_request.opened.json"

TIDE = """
tide:
  sync_period: {period}
  status_update_period: 1h
  queries:
  - repos: [org/repo]
    labels: [lgtm]
webhooks:
  enabled: true
  secret_env: TIDE_HOOK_SECRET
  debounce: 0.2s
"""


def real_world() -> World:
    world = World(RealClock(), tokens={TOKEN: "tide-bot"})
    world.create_repo(
        "org/repo", files={"README.md": "x\n"}, ci=FakeCI([Job("ci/test", duration=1.0)])
    )
    return world


class Running:
    def __init__(self, daemon: Daemon, server: StatusServer, task: asyncio.Task[int]) -> None:
        self.daemon, self.server, self.task = daemon, server, task

    @property
    def hook_url(self) -> str:
        return f"{self.server.url}/webhook"


async def start(sim: SimServer, period: str, monkeypatch) -> tuple[GitHub, Running]:
    monkeypatch.setenv("TIDE_HOOK_SECRET", SECRET)
    config = parse_config(config_text(sim, TIDE.format(period=period)))
    gh = GitHub(GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken(TOKEN))
    await gh.__aenter__()
    daemon = Daemon(ConfigHolder(config), gh)
    server = StatusServer(daemon, port=0)
    await server.start()
    task = asyncio.create_task(daemon.run(install_signals=False))
    return gh, Running(daemon, server, task)


async def stop(gh: GitHub, running: Running) -> None:
    running.daemon.stop()
    await asyncio.wait_for(running.task, 30)
    await running.server.stop()
    await gh.close()


async def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return predicate()


def example_body(repo: str = "org/repo") -> bytes:
    payload = json.loads(EXAMPLE.read_text())
    payload["repository"]["full_name"] = repo
    return json.dumps(payload).encode()


async def post(url: str, body: bytes, signature: str | None, event: str = "pull_request"):
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": "d-1"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


async def test_unsigned_and_wrongly_signed_deliveries_get_401_and_are_logged_without_body(
    schema, monkeypatch
):
    captured = []
    structlog.configure(processors=[lambda _l, _m, e: captured.append(e) or ""])
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            body = example_body()
            assert (await post(running.hook_url, body, None))[0] == 401
            assert (await post(running.hook_url, body, sign(b"wrong", body)))[0] == 401
            assert (await post(running.hook_url, body, sign(SECRET.encode(), body)))[0] == 202
        finally:
            await stop(gh, running)
    rejected = [e for e in captured if e.get("event") == "webhook_rejected"]
    assert [e["reason"] for e in rejected] == ["unsigned", "bad signature"]
    assert all("opened" not in json.dumps(e, default=str) for e in rejected)
    assert not any(SECRET in json.dumps(e, default=str) for e in captured)


async def test_a_signed_delivery_wakes_a_sync_within_a_second(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            assert await wait_for(lambda: running.daemon.last_report is not None, 10)
            first = running.daemon.last_report
            body = example_body()
            sent = time.monotonic()
            status, answer = await post(running.hook_url, body, sign(SECRET.encode(), body))
            assert (status, answer["message"]) == (202, "sync of org/repo queued")
            assert await wait_for(lambda: running.daemon.last_report is not first, 1.0)
            assert time.monotonic() - sent < 1.0
        finally:
            await stop(gh, running)


async def test_repositories_outside_the_queries_are_ignored(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            body = example_body("someone/else")
            status, answer = await post(running.hook_url, body, sign(SECRET.encode(), body))
            assert (status, answer["message"]) == (200, "ignored: no query covers someone/else")
            status, answer = await post(
                running.hook_url, b"{}", sign(SECRET.encode(), b"{}"), "ping"
            )
            assert (status, answer["message"]) == (200, "pong")
        finally:
            await stop(gh, running)


async def test_ci_turning_green_is_merged_within_seconds_by_webhook_with_polling_hourly(
    schema, monkeypatch
):
    world = real_world()
    async with SimServer(world) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        world.hooks.add(running.hook_url, SECRET.encode())
        try:
            pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
            assert await wait_for(lambda: pr.state == "MERGED", 15)
        finally:
            await stop(gh, running)
    assert all(code == 202 or code == 200 for _, code in world.hooks.delivered)


async def test_losing_every_webhook_loses_nothing_polling_still_merges(schema, monkeypatch):
    world = real_world()
    async with SimServer(world) as sim:
        gh, running = await start(sim, "1s", monkeypatch)
        world.hooks.add(running.hook_url, SECRET.encode())
        world.hooks.paused = True
        try:
            pr = world.open_pr("org/repo", files={"a.txt": "1\n"}, labels=["lgtm"])
            assert await wait_for(lambda: pr.state == "MERGED", 20)
        finally:
            await stop(gh, running)
    assert world.hooks.delivered == []


async def test_webhooks_on_their_own_port_keep_the_dashboard_private(schema, monkeypatch):
    """`webhooks.port`: GitHub reaches only the webhook endpoint; the dashboard's port no
    longer takes deliveries, and the webhook port serves nothing else."""
    monkeypatch.setenv("TIDE_HOOK_SECRET", SECRET)
    async with SimServer(real_world()) as sim:
        text = config_text(sim, TIDE.format(period="1h")).replace(
            "  debounce: 0.2s\n", "  debounce: 0.2s\n  port: 0\n"
        )
        config = parse_config(text)
        async with GitHub(GitHubEndpoint(sim.graphql_url, sim.api_url), StaticToken(TOKEN)) as gh:
            daemon = Daemon(ConfigHolder(config), gh)
            async with StatusServer(daemon, port=0) as server:
                assert server.webhook_url and server.webhook_url != f"{server.url}/webhook"
                body = example_body()
                signature = sign(SECRET.encode(), body)
                assert (await post(server.webhook_url, body, signature))[0] == 202
                async with aiohttp.ClientSession() as session:
                    async with session.post(f"{server.url}/webhook", data=body) as resp:
                        assert resp.status == 404
                    hook_root = server.webhook_url.removesuffix("/webhook")
                    async with session.get(f"{hook_root}/ui") as resp:
                        assert resp.status == 404
                    async with session.get(f"{hook_root}/api/v1/pools") as resp:
                        assert resp.status == 404
                    async with session.get(f"{server.url}/ui") as resp:
                        assert resp.status == 200
