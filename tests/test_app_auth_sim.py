"""The simulator's GitHub App endpoints over HTTP: JWT checks with GitHub's own messages,
installation tokens that expire after an hour and see only their installation's repos."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import cache
from typing import Any

import aiohttp
import jwt
import pytest
from conftest import SIM_TOKEN, Reply, SimHTTP
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tide.clock import VirtualClock
from tide.sim import SimServer, World

APP_ID = 4242


@cache
def rsa_key(which: str = "app") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def app_jwt(
    clock: VirtualClock,
    *,
    key: rsa.RSAPrivateKey | None = None,
    iat: int = -60,
    exp: int = 540,
    iss: object = str(APP_ID),
) -> str:
    now = int(clock.now().timestamp())
    claims = {"iat": now + iat, "exp": now + exp, "iss": iss}
    return jwt.encode(claims, key or rsa_key(), algorithm="RS256")


class AppHTTP(SimHTTP):
    async def as_app(self, method: str, path: str, token: str) -> Reply:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"}
        async with self.session.request(
            method, f"{self.server.api_url}{path}", headers=headers
        ) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            return Reply(resp.status, body, resp.headers)


@pytest.fixture
def app_world(virtual_world: World) -> World:
    """acme/widgets and globex/gadgets with one open PR each; App 4242 installed on both."""
    world = virtual_world
    for name in ("acme/widgets", "globex/gadgets"):
        world.create_repo(name)
        world.open_pr(name, {"change.txt": "x\n"}, labels=["lgtm"])
    world.apps.register(APP_ID, public_pem(rsa_key()))
    world.apps.install(APP_ID, "acme")
    world.apps.install(APP_ID, "globex")
    return world


@pytest.fixture
async def app_http(app_world: World, schema: Any) -> AsyncIterator[AppHTTP]:
    async with SimServer(app_world) as server, aiohttp.ClientSession() as session:
        yield AppHTTP(server, session)


def installation_id(world: World, account: str) -> int:
    return next(i.id for i in world.apps.installations.values() if i.account == account)


async def mint(app_http: AppHTTP, clock: VirtualClock, account: str) -> str:
    world = app_http.server.world
    reply = await app_http.as_app(
        "POST",
        f"/app/installations/{installation_id(world, account)}/access_tokens",
        app_jwt(clock),
    )
    assert reply.status == 201, reply.body
    return reply.body["token"]


async def test_installations_are_listed_for_the_app_that_signed_the_jwt(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    other = rsa_key("other")
    app_http.server.world.apps.register(7, public_pem(other), slug="someone-else")
    app_http.server.world.apps.install(7, "initech")

    mine = await app_http.as_app("GET", "/app/installations", app_jwt(virtual_clock))
    theirs = await app_http.as_app(
        "GET", "/app/installations", app_jwt(virtual_clock, key=other, iss="7")
    )

    assert mine.status == 200
    assert [(i["account"]["login"], i["app_id"]) for i in mine.body] == [
        ("acme", APP_ID),
        ("globex", APP_ID),
    ]
    assert mine.body[0]["target_type"] == "Organization"
    assert mine.body[0]["repository_selection"] == "all"
    assert [i["account"]["login"] for i in theirs.body] == ["initech"]


async def test_access_token_is_created_with_github_shape(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    world = app_http.server.world
    number = installation_id(world, "acme")

    reply = await app_http.as_app(
        "POST", f"/app/installations/{number}/access_tokens", app_jwt(virtual_clock)
    )

    assert reply.status == 201
    assert reply.body["token"].startswith("ghs_")
    assert reply.body["expires_at"] == "2026-01-05T10:00:00Z"  # one hour after 09:00
    assert reply.body["permissions"]["pull_requests"] == "write"
    assert reply.body["repository_selection"] == "all"


@pytest.mark.parametrize(
    ("jwt_args", "message"),
    [
        ({"key": rsa_key("other")}, "A JSON web token could not be decoded"),
        ({"iss": "999"}, "A JSON web token could not be decoded"),
        (
            {"iat": -700, "exp": -60},
            "'Expiration time' claim ('exp') must be a numeric value representing the future "
            "time at which the assertion expires",
        ),
        ({"exp": 660}, "'Expiration time' claim ('exp') is too far in the future"),
        (
            {"iat": 120},
            "'Issued at' claim ('iat') must be an Integer representing the time that the "
            "assertion was issued",
        ),
    ],
    ids=["wrong-key", "unknown-app", "expired", "too-long", "issued-later"],
)
async def test_a_bad_jwt_gets_401_with_github_message(
    app_http: AppHTTP, virtual_clock: VirtualClock, jwt_args: dict[str, Any], message: str
):
    reply = await app_http.as_app("GET", "/app/installations", app_jwt(virtual_clock, **jwt_args))

    assert reply.status == 401
    assert reply.body["message"] == message


async def test_a_personal_token_is_no_jwt(app_http: AppHTTP):
    reply = await app_http.as_app("GET", "/app/installations", SIM_TOKEN)

    assert reply.status == 401
    assert reply.body["message"] == "A JSON web token could not be decoded"


async def test_another_apps_installation_is_not_found(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    world = app_http.server.world
    world.apps.register(7, public_pem(rsa_key("other")), slug="someone-else")
    foreign = world.apps.install(7, "initech")

    reply = await app_http.as_app(
        "POST", f"/app/installations/{foreign.id}/access_tokens", app_jwt(virtual_clock)
    )

    assert reply.status == 404
    assert reply.body["message"] == "Not Found"


async def test_a_suspended_installation_gets_no_token(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    world = app_http.server.world
    world.apps.suspend(installation_id(world, "acme"))

    reply = await app_http.as_app(
        "POST",
        f"/app/installations/{installation_id(world, 'acme')}/access_tokens",
        app_jwt(virtual_clock),
    )

    assert reply.status == 403
    assert reply.body["message"] == "This installation has been suspended"


async def test_installation_token_is_bad_credentials_after_an_hour(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    token = await mint(app_http, virtual_clock, "acme")

    virtual_clock.advance(3599)
    still = await app_http.rest("GET", "/repos/acme/widgets", token=token)
    virtual_clock.advance(1)
    expired = await app_http.rest("GET", "/repos/acme/widgets", token=token)

    assert still.status == 200
    assert expired.status == 401
    assert expired.body["message"] == "Bad credentials"


async def test_installation_token_sees_only_its_orgs_repositories(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    token = await mint(app_http, virtual_clock, "acme")
    search = """query { search(type: ISSUE, query: "is:pr label:lgtm", first: 10) {
        issueCount nodes { ... on PullRequest { repository { nameWithOwner } } } } }"""
    lookup = """query { repository(owner: "globex", name: "gadgets") { name } }"""

    own = await app_http.rest("GET", "/repos/acme/widgets/pulls/1", token=token)
    foreign = await app_http.rest("GET", "/repos/globex/gadgets/pulls/1", token=token)
    found = await app_http.graphql(search, token=token)
    hidden = await app_http.graphql(lookup, token=token)
    everything = await app_http.graphql(search)  # a user token that sees both orgs

    assert own.status == 200
    assert foreign.status == 404
    nodes = found.body["data"]["search"]["nodes"]
    assert [n["repository"]["nameWithOwner"] for n in nodes] == ["acme/widgets"]
    assert hidden.body["errors"][0]["type"] == "NOT_FOUND"
    assert everything.body["data"]["search"]["issueCount"] == 2


async def test_installation_on_selected_repositories_sees_only_those(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    world = app_http.server.world
    world.create_repo("acme/secret")
    world.apps.register(8, public_pem(rsa_key("other")), slug="narrow")
    narrow = world.apps.install(8, "acme", repositories=["acme/widgets"])
    reply = await app_http.as_app(
        "POST",
        f"/app/installations/{narrow.id}/access_tokens",
        app_jwt(virtual_clock, key=rsa_key("other"), iss="8"),
    )
    token = reply.body["token"]

    listed = await app_http.rest("GET", "/repos/acme/widgets", token=token)
    unlisted = await app_http.rest("GET", "/repos/acme/secret", token=token)

    assert reply.body["repository_selection"] == "selected"
    assert (listed.status, unlisted.status) == (200, 404)


async def test_installation_token_acts_as_the_apps_bot(
    app_http: AppHTTP, virtual_clock: VirtualClock
):
    token = await mint(app_http, virtual_clock, "acme")

    reply = await app_http.graphql("query { viewer { login } }", token=token)

    assert reply.body["data"]["viewer"]["login"] == "tide-merge-queue"


async def test_app_requests_are_journaled_by_route(app_http: AppHTTP, virtual_clock: VirtualClock):
    await mint(app_http, virtual_clock, "acme")
    await app_http.as_app("GET", "/app/installations", app_jwt(virtual_clock, key=rsa_key("x")))

    journal = app_http.server.world.journal
    assert journal.count("POST /app/installations/{installation_id}/access_tokens", 201) == 1
    assert journal.count("GET /app/installations", 401) == 1
