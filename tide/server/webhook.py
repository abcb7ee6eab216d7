"""The webhook endpoint: a verified delivery about a repository in scope wakes a sync of it.

Nothing in a payload is trusted beyond "which repository": the sync re-reads GitHub. The
body of a refused delivery is never logged.
"""

from __future__ import annotations

import json

import structlog
from aiohttp import web

from tide.config import Config
from tide.daemon import Daemon
from tide.webhooks import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    WebhookSecretError,
    load_secret,
    repository_of,
    verify_signature,
)

log = structlog.get_logger()

MAX_BODY = 25 * 1024 * 1024  # GitHub caps deliveries at 25 MB


class WebhookEndpoint:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self._secret: tuple[tuple[str | None, str | None], bytes] | None = None

    def _secret_for(self, config: Config) -> bytes:
        """The secret, read again when the config points elsewhere (hot reload)."""
        hooks = config.webhooks
        key = (hooks.secret_env, hooks.secret_file)
        if self._secret is None or self._secret[0] != key:
            self._secret = (key, load_secret(hooks.secret_env, hooks.secret_file))
        return self._secret[1]

    async def handle(self, request: web.Request) -> web.Response:
        config = self.daemon.config
        if not config.webhooks.enabled or request.path != config.webhooks.path:
            raise web.HTTPNotFound()
        event = request.headers.get(EVENT_HEADER, "")
        delivery = request.headers.get(DELIVERY_HEADER, "")
        body = await request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return _answer(413, "the delivery is larger than GitHub sends")
        try:
            secret = self._secret_for(config)
        except WebhookSecretError as exc:
            log.error("webhook_secret_missing", error=str(exc))
            return _answer(503, "the webhook secret is not configured")
        if not verify_signature(secret, body, request.headers.get(SIGNATURE_HEADER)):
            why = "unsigned" if not request.headers.get(SIGNATURE_HEADER) else "bad signature"
            log.warning("webhook_rejected", reason=why, github_event=event, delivery=delivery)
            return _answer(401, f"rejected: {why}")
        if event == "ping":
            return _answer(200, "pong")
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


def _answer(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
