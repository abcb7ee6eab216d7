"""A loopback stand-in for the Kubernetes API's Lease endpoints (`coordination.k8s.io/v1`),
answering as the API server does: 404 NotFound, 409 AlreadyExists on a second create,
409 Conflict on a write with a stale resourceVersion, 400 for a malformed MicroTime."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

BASE = "/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases"
MICRO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}(Z|[+-]\d{2}:\d{2})$")


def _status(code: int, reason: str, message: str) -> web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


class LeaseAPI:
    """Holds Leases by (namespace, name); `before_write` runs before each PUT is judged."""

    def __init__(self) -> None:
        self.leases: dict[tuple[str, str], dict[str, Any]] = {}
        self.version = 0
        self.requests: list[tuple[str, str]] = []
        self.before_write: Callable[[], None] | None = None
        self.down = False
        self.url = ""

    def _stamp(self, lease: dict[str, Any], namespace: str) -> dict[str, Any]:
        self.version += 1
        meta = lease.setdefault("metadata", {})
        meta["namespace"] = namespace
        meta["resourceVersion"] = str(self.version)
        meta.setdefault("uid", f"uid-{meta.get('name')}")
        lease["apiVersion"] = "coordination.k8s.io/v1"
        lease["kind"] = "Lease"
        return lease

    def _bad_time(self, lease: dict[str, Any]) -> str | None:
        spec = lease.get("spec") or {}
        for key in ("acquireTime", "renewTime"):
            value = spec.get(key)
            if value is not None and not MICRO_TIME.match(value):
                return f'spec.{key}: Invalid value: "{value}": not a MicroTime'
        return None

    def set_holder(self, namespace: str, name: str, holder: str, renew: str, seconds: int) -> None:
        """Someone else writes the Lease (another replica)."""
        lease = self.leases.get((namespace, name)) or {"metadata": {"name": name}, "spec": {}}
        lease["spec"].update(
            holderIdentity=holder, renewTime=renew, acquireTime=renew, leaseDurationSeconds=seconds
        )
        self.leases[(namespace, name)] = self._stamp(lease, namespace)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append((request.method, request.path))
        if self.down:
            return _status(503, "ServiceUnavailable", "the server is currently unable to handle")
        namespace = request.match_info["namespace"]
        name = request.match_info.get("name")
        key = (namespace, name or "")
        if request.method == "GET":
            if key not in self.leases:
                return _status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
            return web.json_response(self.leases[key])
        body = await request.json()
        bad = self._bad_time(body)
        if bad:
            return _status(400, "BadRequest", bad)
        if request.method == "POST":
            key = (namespace, body["metadata"]["name"])
            if key in self.leases:
                return _status(
                    409, "AlreadyExists", f'leases.coordination.k8s.io "{key[1]}" already exists'
                )
            self.leases[key] = self._stamp(body, namespace)
            return web.json_response(self.leases[key], status=201)
        if self.before_write is not None:
            self.before_write()
        current = self.leases.get(key)
        if current is None:
            return _status(404, "NotFound", f'leases.coordination.k8s.io "{name}" not found')
        sent = (body.get("metadata") or {}).get("resourceVersion")
        if sent != current["metadata"]["resourceVersion"]:
            return _status(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on leases.coordination.k8s.io "{name}": the '
                "object has been modified; please apply your changes to the latest version",
            )
        self.leases[key] = self._stamp(body, namespace)
        return web.json_response(self.leases[key])

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", BASE, self.handle)
        app.router.add_route("*", BASE + "/{name}", self.handle)
        return app


@asynccontextmanager
async def lease_api() -> AsyncIterator[LeaseAPI]:
    api = LeaseAPI()
    runner = web.AppRunner(api.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    api.url = f"http://127.0.0.1:{port}"
    try:
        yield api
    finally:
        await runner.cleanup()
