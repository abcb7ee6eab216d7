"""The webhook endpoint: a verified delivery about a repository in scope wakes a sync of it.

Nothing in a payload is trusted beyond "which repository": the sync re-reads GitHub. The
body of a refused delivery is never logged.
"""

from __future__ import annotations

import hashlib
import json

import structlog
from aiohttp import web

from tide.config import Config
from tide.daemon import Daemon
from tide.webhook_delivery import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Deliveries,
    WebhookSecretError,
    load_secret,
    repository_of,
    secret_source,
    verify_signature,
)

log = structlog.get_logger()

MAX_BODY = 25 * 1024 * 1024  # GitHub caps deliveries at 25 MB


class WebhookEndpoint:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._secret: tuple[tuple[object, ...], bytes] | None = None
        self.deliveries = Deliveries()

    def _secret_for(self, config: Config) -> bytes:
        """The secret, read again when the config points elsewhere (hot reload) or the file
        changed (a rotated Kubernetes Secret swaps the file under its mount)."""
        hooks = config.webhooks
        key = secret_source(hooks.secret_env, hooks.secret_file)
        if self._secret is None or self._secret[0] != key:
            self._secret = (key, load_secret(hooks.secret_env, hooks.secret_file))
        return self._secret[1]

    async def handle(self, request: web.Request) -> web.Response:
        config = self.daemon.config
        if not config.webhooks.enabled or request.path != config.webhooks.path:
            raise web.HTTPNotFound()
        event = request.headers.get(EVENT_HEADER, "")
        delivery = request.headers.get(DELIVERY_HEADER, "")
        body = await read_body(request, MAX_BODY)
        if body is None:
            return _answer(413, "the delivery is larger than GitHub sends")
        try:
            secret = self._secret_for(config)
        except WebhookSecretError as exc:
            log.error("webhook_secret_missing", error=str(exc))
            return _answer(503, "the webhook secret is not configured")
        if not verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
            why = "unsigned" if not request.headers.get(SIGNATURE_HEADER) else "bad signature"
            log.warning(
                "webhook_rejected", reason=why, github_event=event[:100], delivery=delivery[:100]
            )
            return _answer(401, f"rejected: {why}")
        if event == "ping":
            return _answer(200, "pong")
        # The delivery id is not signed: a replay under a fresh id is caught by its body.
        fresh_id = self.deliveries.first_time(delivery[:100])
        fresh_body = self.deliveries.first_time("sha256:" + hashlib.sha256(body).hexdigest())
        if not (fresh_id and fresh_body):
            log.info("webhook_replayed", github_event=event, delivery=delivery[:100])
            return _answer(200, f"ignored: delivery {delivery[:100]} was already received")
        try:
            payload = json.loads(body)
        except ValueError:
            return _answer(400, "the body is not JSON")
        if not isinstance(payload, dict):
            return _answer(400, "the body is not a JSON object")
        repo = repository_of(event, payload)
        if repo is None:
            return _answer(200, f"ignored: {event or 'no'} event")
        org, _, name = repo.partition("/")
        if not config.queries_for_repo(org, name):
            return _answer(200, f"ignored: no query covers {repo}")
        self.daemon.request_sync(repo)
        log.info("webhook", github_event=event, delivery=delivery, repo=repo)
        return _answer(202, f"sync of {repo} queued")


async def read_body(request: web.Request, cap: int) -> bytes | None:
    """The whole body, however it is chunked; None once it grows past `cap` bytes (the rest
    is not read: the connection is closed after the answer)."""
    declared = request.content_length
    if declared is not None and declared > cap:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.readany():
        size += len(chunk)
        if size > cap:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
