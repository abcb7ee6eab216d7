"""The webhook endpoint against hostile or unlucky deliveries, over real HTTP: big and chunked
bodies, replays, bursts, odd headers and a rotated secret."""

from __future__ import annotations

import asyncio
import json
import socket

import aiohttp
from test_webhook_endpoint import (
    SECRET,
    TOKEN,
    example_body,
    real_world,
    start,
    stop,
    wait_for,
)

from tide.sim import SimServer
from tide.webhook_delivery import sign


async def post_raw(
    url: str, body, headers: dict[str, str], *, event: str = "pull_request"
) -> tuple[int, dict]:
    headers = {"X-GitHub-Event": event, **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.json()


def numbered_body(n: int) -> bytes:
    """A distinct delivery each time (GitHub's differ at least in ids and times)."""
    payload = json.loads(example_body())
    payload["number"] = n
    return json.dumps(payload).encode()


def signed(body: bytes, delivery: str, secret: bytes = SECRET.encode()) -> dict[str, str]:
    return {"X-GitHub-Delivery": delivery, "X-Hub-Signature-256": sign(secret, body)}


def padded_body(size: int) -> bytes:
    """A real pull_request delivery grown to `size` bytes by a long PR body."""
    payload = json.loads(example_body())
    payload["pull_request"]["body"] = ""
    base = len(json.dumps(payload).encode())
    payload["pull_request"]["body"] = "x" * (size - base)
    body = json.dumps(payload).encode()
    assert len(body) == size
    return body


async def test_a_60_kb_delivery_streamed_in_chunks_and_a_1_mb_one_verify(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            body = padded_body(60_000)

            async def chunks():
                for i in range(0, len(body), 4096):
                    yield body[i : i + 4096]
                    await asyncio.sleep(0.001)

            status, answer = await post_raw(running.hook_url, chunks(), signed(body, "c-1"))
            assert (status, answer["message"]) == (202, "sync of org/repo queued")
            big = padded_body(1_000_000)
            status, answer = await post_raw(running.hook_url, big, signed(big, "c-2"))
            assert (status, answer["message"]) == (202, "sync of org/repo queued")
        finally:
            await stop(gh, running)


async def test_a_delivery_past_25_mb_gets_413_even_without_a_content_length(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            chunk = b"x" * (1024 * 1024)

            async def endless():
                for _ in range(26):
                    yield chunk

            status, answer = await post_raw(running.hook_url, endless(), signed(b"", "big"))
            assert (status, answer["message"]) == (413, "the delivery is larger than GitHub sends")
        finally:
            await stop(gh, running)


async def test_a_replayed_delivery_is_accepted_once(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            body = example_body()
            first = await post_raw(running.hook_url, body, signed(body, "same-id"))
            again = await post_raw(running.hook_url, body, signed(body, "same-id"))
            again_new_id = await post_raw(running.hook_url, body, signed(body, "other-id"))
            assert first[0] == 202
            assert again == (200, {"message": "ignored: delivery same-id was already received"})
            assert again_new_id == (
                200,
                {"message": "ignored: delivery other-id was already received"},
            )
        finally:
            await stop(gh, running)


async def test_a_burst_of_deliveries_is_coalesced_into_a_few_syncs(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            assert await wait_for(lambda: running.daemon.last_report is not None, 10)
            # No debounce at all: the pacing alone must keep the burst to a few syncs.
            config = running.daemon.config
            hooks = config.webhooks.model_copy(update={"debounce": 0.0})
            running.daemon.holder.config = config.model_copy(update={"webhooks": hooks})
            syncs = []
            running.daemon.listeners.append(syncs.append)
            loop = asyncio.get_running_loop()
            started = loop.time()
            async with aiohttp.ClientSession() as session:
                for n in range(376):
                    body = numbered_body(n)
                    headers = {"X-GitHub-Event": "pull_request", **signed(body, f"burst-{n}")}
                    async with session.post(running.hook_url, data=body, headers=headers) as r:
                        assert r.status == 202
            elapsed = loop.time() - started
            await asyncio.sleep(1.5)
            # One sync per second at most while deliveries keep coming, plus the trailing one.
            assert 1 <= len(syncs) <= int(elapsed) + 3, (len(syncs), elapsed)
        finally:
            await stop(gh, running)


async def test_webhook_syncs_wait_when_the_budget_would_run_dry(schema, monkeypatch):
    world = real_world()
    async with SimServer(world) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            assert await wait_for(lambda: running.daemon.last_report is not None, 10)
            # Spend the hour's points but a handful: at this pace one more sync an hour is
            # what the budget affords, so deliveries must not each buy one.
            # Spent on GitHub's side too, or the next answer's `rateLimit` would refill it.
            for budget in running.daemon.clients.budgets():
                budget.remaining = budget.cost_per_sync * 2 + int(
                    (budget.limit or 5000) * budget.reserve_fraction
                )
                world.budgets.set_remaining(TOKEN, world.now(), graphql=budget.remaining)
            syncs = []
            running.daemon.listeners.append(syncs.append)
            for n in range(20):
                body = numbered_body(n)
                await post_raw(running.hook_url, body, signed(body, f"dry-{n}"))
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
            assert len(syncs) <= 1
        finally:
            await stop(gh, running)


def raw_request(port: int, head: bytes, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    return data


async def test_a_non_ascii_signature_header_is_refused_with_401(schema, monkeypatch):
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            body = example_body()
            head = (
                b"POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                b"X-GitHub-Event: pull_request\r\nX-GitHub-Delivery: n-1\r\n"
                + "X-Hub-Signature-256: sha256=\u00e9\u00e9\r\n".encode()
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
            )
            port = int(running.server.url.rsplit(":", 1)[1])
            answer = await asyncio.to_thread(raw_request, port, head, body)
            assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
        finally:
            await stop(gh, running)


async def test_a_rotated_secret_file_is_picked_up_without_a_restart(schema, monkeypatch, tmp_path):
    secret_file = tmp_path / "hook-secret"
    secret_file.write_text("first-secret\n")
    async with SimServer(real_world()) as sim:
        gh, running = await start(sim, "1h", monkeypatch)
        try:
            config = running.daemon.config
            hooks = config.webhooks.model_copy(
                update={"secret_env": None, "secret_file": str(secret_file)}
            )
            running.daemon.holder.config = config.model_copy(update={"webhooks": hooks})
            body = numbered_body(1)
            ok = await post_raw(running.hook_url, body, signed(body, "r-1", b"first-secret"))
            assert ok[0] == 202
            # Kubernetes swaps the file under a mounted Secret; operators rewrite it in place.
            replacement = tmp_path / "hook-secret.new"
            replacement.write_text("second-secret\n")
            replacement.replace(secret_file)
            body = numbered_body(2)
            new = await post_raw(running.hook_url, body, signed(body, "r-2", b"second-secret"))
            body = numbered_body(3)
            old = await post_raw(running.hook_url, body, signed(body, "r-3", b"first-secret"))
            assert (new[0], old[0]) == (202, 401)
        finally:
            await stop(gh, running)
