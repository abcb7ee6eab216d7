"""What wraps every simulator request: due events, faults, auth, REST budget, journal.

`Refusal` raised by a handler becomes GitHub's JSON error body."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tide.sim.faults import Fault, Faults
from tide.sim.world.entities import Refusal
from tide.sim.world.journal import RequestRecord
from tide.sim.world.world import World

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

WORLD = web.AppKey("world", World)
FAULTS = web.AppKey("faults", Faults)
LOGIN = web.RequestKey("login", str)
TOKEN = web.RequestKey("token", str)
OPERATION: web.RequestKey[str | None] = web.RequestKey("operation")
DOCS = "https://docs.github.com/rest"
_OPERATION = re.compile(r"\b(?:query|mutation|subscription)\s+([_A-Za-z]\w*)")


def json_response(
    data: object, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    return web.Response(
        text=json.dumps(data),
        status=status,
        headers=headers,
        content_type="application/json",
        charset="utf-8",
    )


def error_response(
    status: int, message: str, documentation_url: str = DOCS, **extra: Any
) -> web.Response:
    body: dict[str, Any] = {"message": message, "documentation_url": documentation_url}
    if "field" in extra:
        error = {"resource": extra.pop("resource", "Resource"), "field": extra.pop("field")}
        error["code"] = extra.pop("code", "invalid")
        if "detail" in extra:
            error["message"] = extra.pop("detail")
        body["errors"] = [error]
    body.update(extra)
    return json_response(body, status)


def refusal_response(refusal: Refusal) -> web.Response:
    extra = dict(refusal.extra)
    docs = str(extra.pop("documentation_url", DOCS))
    return error_response(refusal.status, refusal.message, docs, **extra)


def token_of(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


async def operation_name(request: web.Request) -> str | None:
    """The GraphQL operation a request runs (None for REST or an unreadable body)."""
    if request.path != "/graphql" or request.method != "POST":
        return None
    try:
        payload = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(payload, dict):
        return None
    if isinstance(payload.get("operationName"), str):
        return payload["operationName"]
    match = _OPERATION.search(str(payload.get("query", "")))
    return match.group(1) if match else None


def endpoint_of(request: web.Request, operation: str | None) -> str:
    if request.path == "/graphql":
        return f"POST /graphql {operation or '(anonymous)'}"
    info = request.match_info
    route = info.route if info is not None else None
    resource = route.resource if route is not None else None
    template = resource.canonical if resource is not None else request.path
    return f"{request.method} {template}"


def fault_response(fault: Fault) -> web.Response:
    return web.Response(
        text=fault.body,
        status=fault.status,
        headers=dict(fault.headers),
        content_type=fault.content_type,
        charset="utf-8",
    )


def drop_connection(request: web.Request) -> None:
    if request.transport is not None:
        request.transport.close()
    raise asyncio.CancelledError


@web.middleware
async def github_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    world = request.app[WORLD]
    world.tick()
    if request.path.startswith("/_sim/"):
        return await handler(request)
    operation = await operation_name(request)
    request[OPERATION] = operation
    endpoint = endpoint_of(request, operation)
    fault = request.app[FAULTS].pick(request.method, request.path, operation)
    if fault is not None and fault.delay:
        await world.clock.sleep(fault.delay)
        world.tick()
    replaces = fault is not None and (fault.drop or bool(fault.status))
    if fault is not None and replaces and not fault.after:
        return _answer_with(fault, world, request, endpoint)
    response = await _authenticated(request, handler, world)
    if fault is not None and replaces:
        return _answer_with(fault, world, request, endpoint)
    _journal(world, request, endpoint, response.status)
    return response


def _answer_with(fault: Fault, world: World, request: web.Request, endpoint: str) -> web.Response:
    _journal(world, request, endpoint, 0 if fault.drop else fault.status)
    if fault.drop:
        drop_connection(request)
    return fault_response(fault)


async def _authenticated(
    request: web.Request, handler: Handler, world: World
) -> web.StreamResponse:
    token = token_of(request)
    if token is None:
        return error_response(401, "Requires authentication")
    login = world.tokens.get(token)
    if login is None:
        return error_response(401, "Bad credentials")
    request[TOKEN] = token
    request[LOGIN] = login
    if request.path == "/graphql" or request.path == "/rate_limit":
        return await _handle(request, handler)
    window = world.budgets.rest(token, world.now())
    response: web.StreamResponse
    if request.method == "GET" and request.headers.get("If-None-Match") and window.remaining:
        # GitHub: a conditional request answered 304 does not count against the rate limit
        # (with none left, the simulator refuses it like any other: the stricter reading).
        # A GET changes nothing, so it may be served before deciding what it costs.
        response = await _handle(request, handler)
        if isinstance(response, web.Response) and _etag_matches(request, response):
            response = web.Response(status=304, headers={"ETag": _etag_of(response)})
        elif not window.charge(1):
            response = _rate_limited(world, login)
    elif not window.charge(1):
        response = _rate_limited(world, login)
    else:
        response = await _handle(request, handler)
    if request.method == "GET" and response.status == 200 and isinstance(response, web.Response):
        response.headers.setdefault("ETag", _etag_of(response))
    response.headers.update(window.headers("core"))
    return response


def _rate_limited(world: World, login: str) -> web.Response:
    user = world.users[login]
    return error_response(
        403,
        f"API rate limit exceeded for user ID {user.id}.",
        "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    )


def _etag_of(response: web.Response) -> str:
    """A weak validator of the body and its page links, as GitHub sends on GET answers."""
    digest = hashlib.sha256(response.headers.get("Link", "").encode())
    body = response.body
    digest.update(bytes(body) if isinstance(body, bytes | bytearray) else b"")
    return 'W/"' + digest.hexdigest()[:40] + '"'


def _etag_matches(request: web.Request, response: web.Response) -> bool:
    if response.status != 200:
        return False
    sent = {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}
    return _etag_of(response) in sent


async def _handle(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except Refusal as refusal:
        return refusal_response(refusal)
    except web.HTTPNotFound:
        return error_response(404, "Not Found")
    except web.HTTPMethodNotAllowed:
        return error_response(404, "Not Found")


def _journal(world: World, request: web.Request, endpoint: str, status: int) -> None:
    record = RequestRecord(
        world.now(), request.method, request.path, endpoint, status, request.get(LOGIN)
    )
    world.journal.record_request(record)


async def read_json(request: web.Request) -> dict[str, Any]:
    """The JSON object body of a request, or GitHub's 400."""
    try:
        data = json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "Problems parsing JSON") from None
    if not isinstance(data, dict):
        raise Refusal(400, "Problems parsing JSON")
    return data
