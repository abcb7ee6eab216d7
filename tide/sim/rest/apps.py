"""The simulator's GitHub App endpoints (`GET /app`, `GET /app/installations[/{id}]`,
`POST /app/installations/{id}/access_tokens`), authenticated by a JWT the App signed, and
the middlewares that expire installation tokens and scope each request to its installation.
"""

from __future__ import annotations

import math
from typing import Any, TypeGuard

import jwt
from aiohttp import web

from tide.sim.middleware import (
    FAULTS,
    TOKEN,
    WORLD,
    Handler,
    drop_connection,
    endpoint_of,
    error_response,
    fault_response,
    json_response,
    read_json,
    refusal_response,
    token_of,
)
from tide.sim.rest.api import paginate
from tide.sim.rest.bodies import user_json
from tide.sim.world.entities import Refusal, iso
from tide.sim.world.github_apps import SimApp, SimInstallation, scoped_to
from tide.sim.world.journal import RequestRecord
from tide.sim.world.world import World

# GitHub's own words for a JWT it will not accept (all 401).
JWT_UNDECODABLE = "A JSON web token could not be decoded"
JWT_EXPIRED = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time "
    "at which the assertion expires"
)
JWT_TOO_LONG = "'Expiration time' claim ('exp') is too far in the future"
JWT_ISSUED_LATER = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion "
    "was issued"
)
MAX_JWT_SECONDS = 600
SUSPENDED = "This installation has been suspended"

APP = web.RequestKey("github_app", SimApp)


def verify_jwt(world: World, token: str | None) -> SimApp:
    """The App that signed `token`, as GitHub checks it: RS256 with the App's key, `exp` in
    the future but at most ten minutes away, `iat` not in the future (the world's clock)."""
    if not token:
        raise Refusal(401, "Requires authentication")
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.PyJWTError:
        raise Refusal(401, JWT_UNDECODABLE) from None
    app = world.apps.apps.get(_int(claims.get("iss")) or 0)
    if app is None or algorithm != "RS256":
        raise Refusal(401, JWT_UNDECODABLE)
    try:
        jwt.decode(
            token,
            app.public_key,
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
        )
    except jwt.PyJWTError:
        raise Refusal(401, JWT_UNDECODABLE) from None
    now = world.now().timestamp()
    exp, iat = claims.get("exp"), claims.get("iat")
    if not _number(exp) or exp <= now:
        raise Refusal(401, JWT_EXPIRED)
    if exp > now + MAX_JWT_SECONDS:
        raise Refusal(401, JWT_TOO_LONG)
    if not isinstance(iat, int) or iat > now:
        raise Refusal(401, JWT_ISSUED_LATER)
    return app


def _int(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def installation_json(request: web.Request, installation: SimInstallation) -> dict[str, Any]:
    world = request.app[WORLD]
    app = world.apps.apps[installation.app_id]
    account = world.user(installation.account)
    base = f"{request.scheme}://{request.host}"
    return {
        "id": installation.id,
        "client_id": f"Iv1.sim{app.id:09d}",
        "account": user_json(account),
        "repository_selection": installation.repository_selection,
        "access_tokens_url": f"{base}/app/installations/{installation.id}/access_tokens",
        "repositories_url": f"{base}/installation/repositories",
        "html_url": f"https://github.com/organizations/{account.login}/settings/installations/"
        f"{installation.id}",
        "app_id": app.id,
        "app_slug": app.slug,
        "target_id": account.id,
        "target_type": installation.account_type,
        "permissions": dict(installation.permissions),
        "events": [],
        "created_at": iso(installation.created_at),
        "updated_at": iso(installation.created_at),
        "single_file_name": None,
        "has_multiple_single_files": False,
        "single_file_paths": [],
        "suspended_by": None,
        "suspended_at": iso(installation.suspended_at),
    }


def _installation(request: web.Request) -> SimInstallation:
    world = request.app[WORLD]
    try:
        number = int(request.match_info["installation_id"])
    except ValueError:
        raise Refusal(404, "Not Found") from None
    found = world.apps.installations.get(number)
    if found is None or found.app_id != request[APP].id:
        raise Refusal(404, "Not Found")
    return found


async def get_app(request: web.Request) -> web.Response:
    app = request[APP]
    world = request.app[WORLD]
    return json_response(
        {
            "id": app.id,
            "slug": app.slug,
            "name": app.name,
            "owner": user_json(world.user(app.owner)),
            "permissions": {},
            "events": [],
            "installations_count": len(world.apps.of_app(app.id)),
        }
    )


async def list_installations(request: web.Request) -> web.Response:
    found = [installation_json(request, i) for i in request.app[WORLD].apps.of_app(request[APP].id)]
    page, headers = paginate(request, found)
    return json_response(page, headers=headers)


async def get_installation(request: web.Request) -> web.Response:
    return json_response(installation_json(request, _installation(request)))


async def create_access_token(request: web.Request) -> web.Response:
    await read_json(request)  # narrowing by repositories/permissions is not simulated
    installation = _installation(request)
    if installation.suspended_at is not None:
        raise Refusal(403, SUSPENDED)
    value, minted = request.app[WORLD].apps.mint(installation)
    body = {
        "token": value,
        "expires_at": iso(minted.expires_at),
        "permissions": dict(installation.permissions),
        "repository_selection": installation.repository_selection,
    }
    return json_response(body, status=201)


@web.middleware
async def app_endpoints(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: `/app/...` is served here with JWT auth (a JWT is no token for the
    rest of the API); every other request first loses the installation tokens that expired."""
    world = request.app[WORLD]
    if request.path != "/app" and not request.path.startswith("/app/"):
        world.apps.expire()
        return await handler(request)
    world.tick()
    endpoint = endpoint_of(request, None)
    fault = request.app[FAULTS].pick(request.method, request.path)
    if fault is not None and fault.delay:
        await world.clock.sleep(fault.delay)
    if fault is not None and (fault.drop or fault.status):
        _journal(world, request, endpoint, 0 if fault.drop else fault.status, None)
        if fault.drop:
            drop_connection(request)
        return fault_response(fault)
    app: SimApp | None = None
    try:
        app = verify_jwt(world, token_of(request))
        request[APP] = app
        response = await request.match_info.handler(request)
    except Refusal as refusal:
        response = refusal_response(refusal)
    except web.HTTPException:
        response = error_response(404, "Not Found")
    _journal(world, request, endpoint, response.status, app.slug if app else None)
    return response


@web.middleware
async def installation_scope(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Innermost: a request made with an installation token sees only its installation's repos."""
    token = request.get(TOKEN)
    installation = request.app[WORLD].apps.installation_of(token) if token else None
    if installation is None:
        return await handler(request)
    with scoped_to(installation):
        return await handler(request)


def _journal(
    world: World, request: web.Request, endpoint: str, status: int, login: str | None
) -> None:
    world.journal.record_request(
        RequestRecord(world.now(), request.method, request.path, endpoint, status, login)
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get("/app", get_app)
    app.router.add_get("/app/installations", list_installations)
    app.router.add_get("/app/installations/{installation_id}", get_installation)
    app.router.add_post("/app/installations/{installation_id}/access_tokens", create_access_token)
