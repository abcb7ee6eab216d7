"""GitHub App authentication against the simulator over real HTTP: installations found per org,
JWTs exchanged for installation tokens, tokens refreshed before they expire, and no secret
ever shown."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import AsyncIterator, Iterator
from functools import cache
from typing import Any

import jwt
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tide.clock import VirtualClock
from tide.github.app_auth import GitHubApp, load_private_key
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.errors import AuthError
from tide.github.retry import RetryPolicy
from tide.github.search_query import query_string
from tide.logs import configure_logging
from tide.policy import Query
from tide.scoped_search import per_org
from tide.sim import SimServer, World

APP_ID = 4242
MINTS = "POST /app/installations/{installation_id}/access_tokens"
LISTS = "GET /app/installations"
FAST_RETRY = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


@cache
def rsa_key(which: str = "app") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def app_world(virtual_world: World) -> World:
    """acme/widgets and globex/gadgets with one labelled PR each; App 4242 on both orgs."""
    for name in ("acme/widgets", "globex/gadgets"):
        virtual_world.create_repo(name)
        virtual_world.open_pr(name, {"change.txt": "x\n"}, labels=["lgtm"])
    virtual_world.apps.register(APP_ID, public_pem(rsa_key()))
    virtual_world.apps.install(APP_ID, "acme")
    virtual_world.apps.install(APP_ID, "globex")
    return virtual_world


@pytest.fixture
async def sim(app_world: World, schema: Any) -> AsyncIterator[SimServer]:
    async with SimServer(app_world) as server:
        yield server


def make_app(
    sim: SimServer, clock: VirtualClock, key: rsa.RSAPrivateKey | None = None
) -> GitHubApp:
    return GitHubApp(APP_ID, key or rsa_key(), api_url=sim.api_url, clock=clock, retry=FAST_RETRY)


def installation_id(world: World, account: str) -> int:
    return next(i.id for i in world.apps.installations.values() if i.account == account)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Every log line written while the test runs, as the daemon writes them (JSON)."""
    out = io.StringIO()
    configure_logging("debug", "json", stream=out)
    yield out
    structlog.reset_defaults()


# -- discovery and exchange ---------------------------------------------------------------


async def test_installations_are_discovered_with_their_accounts(
    sim: SimServer, virtual_clock: VirtualClock
):
    app = make_app(sim, virtual_clock)

    found = await app.installations()

    assert [(i.account, i.account_type, i.id) for i in found] == [
        ("acme", "Organization", installation_id(sim.world, "acme")),
        ("globex", "Organization", installation_id(sim.world, "globex")),
    ]
    assert found[0].permissions["contents"] == "write"


async def test_each_org_searches_with_its_own_installation_token(
    sim: SimServer, virtual_clock: VirtualClock
):
    # Tide's OrgQueries: one search per org, each with that org's installation token.
    app = make_app(sim, virtual_clock)
    query = Query(orgs=("acme", "globex"), labels=("lgtm",))
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)

    found: dict[str, list[str]] = {}
    org_queries = {org: query_string(scoped) for org, scoped in per_org(query)}
    for org, text in org_queries.items():
        async with GitHub(endpoint, app.for_org(org), clock=virtual_clock) as gh:
            result = await gh.search.pull_requests(text)
            found[org] = sorted(pr.key for pr in result.items)
    async with GitHub(endpoint, app.for_org("acme"), clock=virtual_clock) as gh:
        across = await gh.search.pull_requests(" ".join(org_queries.values()))

    assert found == {"acme": ["acme/widgets#1"], "globex": ["globex/gadgets#1"]}
    assert sorted(pr.key for pr in across.items) == ["acme/widgets#1"]


async def test_for_org_returns_one_source_per_org(sim: SimServer, virtual_clock: VirtualClock):
    app = make_app(sim, virtual_clock)

    assert app.for_org("acme") is app.for_org("ACME")
    assert app.for_org("acme") is not app.for_org("globex")


async def test_the_jwt_is_what_github_requires(sim: SimServer, virtual_clock: VirtualClock):
    app = make_app(sim, virtual_clock)
    now = int(virtual_clock.now().timestamp())

    token = app.sign_jwt()
    claims = jwt.decode(
        token, public_pem(rsa_key()), algorithms=["RS256"], options={"verify_exp": False}
    )

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert claims["iss"] == str(APP_ID)
    assert claims["iat"] == now - 60
    assert now < claims["exp"] <= now + 600


async def test_installation_id_skips_discovery(sim: SimServer, virtual_clock: VirtualClock):
    app = make_app(sim, virtual_clock)
    source = app.for_installation(installation_id(sim.world, "globex"))

    token = await source.token()

    assert sim.world.apps.installation_of(token).account == "globex"
    assert sim.world.journal.count(LISTS) == 0
    assert sim.world.journal.count(MINTS, 201) == 1


async def test_a_sole_installation_needs_no_id(sim: SimServer, virtual_clock: VirtualClock):
    del sim.world.apps.installations[installation_id(sim.world, "globex")]
    source = make_app(sim, virtual_clock).for_sole_installation()

    token = await source.token()

    assert sim.world.apps.installation_of(token).account == "acme"


async def test_several_installations_ask_for_an_installation_id(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_sole_installation()

    with pytest.raises(AuthError) as caught:
        await source.token()

    acme, globex = installation_id(sim.world, "acme"), installation_id(sim.world, "globex")
    assert str(caught.value) == (
        f"GitHub App {APP_ID} is installed on 2 accounts: acme ({acme}), globex ({globex}); "
        "set github.app.installation_id to the one to use"
    )


async def test_an_org_without_the_app_is_named_with_where_it_is_installed(
    sim: SimServer, virtual_clock: VirtualClock
):
    with pytest.raises(AuthError) as caught:
        await make_app(sim, virtual_clock).for_org("initech").token()

    assert str(caught.value) == (
        f"GitHub App {APP_ID} is not installed on initech (installed on: acme, globex); "
        "install it on initech with the permissions in docs/operations.md"
    )


async def test_an_org_that_installs_the_app_later_is_found_without_a_restart(
    sim: SimServer, virtual_clock: VirtualClock
):
    app = make_app(sim, virtual_clock)
    await app.for_org("acme").token()
    sim.world.create_repo("initech/tps")
    sim.world.apps.install(APP_ID, "initech")

    token = await app.for_org("initech").token()

    assert sim.world.apps.installation_of(token).account == "initech"
    assert sim.world.journal.count(LISTS) == 2


async def test_a_reinstalled_app_is_found_under_its_new_id(
    sim: SimServer, virtual_clock: VirtualClock
):
    app = make_app(sim, virtual_clock)
    source = app.for_org("acme")
    await source.token()
    del sim.world.apps.installations[installation_id(sim.world, "acme")]
    sim.world.apps.install(APP_ID, "acme")

    virtual_clock.advance(3600)
    token = await source.token()

    assert source.installation_id == installation_id(sim.world, "acme")
    assert sim.world.apps.installation_of(token).account == "acme"


async def test_an_unknown_installation_id_is_an_auth_error(
    sim: SimServer, virtual_clock: VirtualClock
):
    with pytest.raises(AuthError) as caught:
        await make_app(sim, virtual_clock).for_installation(99).token()

    assert str(caught.value) == (
        f"GitHub App {APP_ID} has no installation 99: check github.app.installation_id"
    )


async def test_a_bad_gateway_during_the_exchange_is_retried(
    sim: SimServer, virtual_clock: VirtualClock
):
    sim.faults.script("/app/installations/*/access_tokens", 502, method="POST")

    token = await make_app(sim, virtual_clock).for_org("acme").token()

    assert token.startswith("ghs_")
    assert sim.world.journal.count(MINTS, 502) == 1
    assert sim.world.journal.count(MINTS, 201) == 1


# -- expiry and refresh --------------------------------------------------------------------


async def test_a_token_is_reused_until_five_minutes_before_it_expires(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_org("acme")
    first = await source.token()

    virtual_clock.advance(55 * 60 - 1)
    reused = await source.token()
    virtual_clock.advance(1)
    renewed = await source.token()

    assert reused == first
    assert renewed != first
    assert sim.world.journal.count(MINTS, 201) == 2
    assert source.expires_at == virtual_clock.now() + (sim.world.apps.token_lifetime)


async def test_a_client_keeps_working_across_token_expiries(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_org("acme")
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)

    logins = []
    async with GitHub(endpoint, source, clock=virtual_clock, retry=FAST_RETRY) as gh:
        for _ in range(13):  # a call every ten minutes for two hours
            logins.append(await gh.viewer())
            virtual_clock.advance(600)

    assert set(logins) == {"tide-merge-queue"}
    assert sim.world.journal.count("POST /graphql Viewer", 401) == 0
    assert sim.world.journal.count(MINTS, 201) == 3  # at 0, 60 and 120 minutes


async def test_an_expired_token_is_refused_while_the_renewed_one_works(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_org("acme")
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
    old = await source.token()
    virtual_clock.advance(3600)

    async with GitHub(endpoint, source, clock=virtual_clock) as gh:
        login = await gh.viewer()
    async with GitHub(endpoint, _Fixed(old), clock=virtual_clock) as gh:
        with pytest.raises(AuthError):
            await gh.viewer()

    assert login == "tide-merge-queue"


async def test_concurrent_first_requests_share_one_exchange(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_org("acme")

    tokens = await asyncio.gather(*(source.token() for _ in range(5)))

    assert len(set(tokens)) == 1
    assert sim.world.journal.count(MINTS) == 1
    assert sim.world.journal.count(LISTS) == 1


# -- failures, and secrets that never show -------------------------------------------------


async def test_a_key_of_another_app_is_one_clear_auth_error(
    sim: SimServer, virtual_clock: VirtualClock
):
    app = make_app(sim, virtual_clock, key=rsa_key("stranger"))

    with pytest.raises(AuthError) as caught:
        await app.for_org("acme").token()

    assert str(caught.value) == (
        "GET /app/installations: GitHub rejected the JWT of GitHub App 4242: check that "
        "github.app.app_id and private_key_file belong to the same App, and that this "
        "host's clock is right"
    )


async def test_no_token_jwt_or_key_material_is_logged_or_shown(
    sim: SimServer, virtual_clock: VirtualClock, log_lines: io.StringIO
):
    app = make_app(sim, virtual_clock)
    source = app.for_org("acme")
    first = await source.token()
    virtual_clock.advance(3600)
    second = await source.token()
    jwt_now = app.sign_jwt()
    stranger = make_app(sim, virtual_clock, key=rsa_key("stranger"))
    with pytest.raises(AuthError) as caught:
        await stranger.for_org("acme").token()
    sim.faults.script("/app/installations/*/access_tokens", 502, method="POST")
    virtual_clock.advance(3600)
    await source.token()

    events = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    shown = log_lines.getvalue() + str(caught.value) + repr(app) + repr(source) + repr(stranger)
    secrets = [first, second, jwt_now, *private_pem(rsa_key()).splitlines()[1:-1]]
    assert [e["event"] for e in events if e["event"].startswith("github_app.token")] == [
        "github_app.token_minted"
    ] * 3
    assert any(e["event"] == "github.retry" for e in events)
    assert not [s for s in secrets if s in shown]
    assert "eyJ" not in shown  # the start of every JWT


def test_key_file_problems_name_the_file_and_never_quote_it(tmp_path):
    absent = tmp_path / "absent.pem"
    garbage = tmp_path / "garbage.pem"
    garbage.write_text(
        "-----BEGIN RSA PRIVATE KEY-----\nc2VjcmV0c2VjcmV0\n-----END RSA PRIVATE KEY-----\n"
    )

    with pytest.raises(AuthError) as missing:
        load_private_key(absent)
    with pytest.raises(AuthError) as unreadable:
        load_private_key(garbage)

    assert str(missing.value) == (
        f"cannot read github.app.private_key_file {absent}: No such file or directory"
    )
    assert str(unreadable.value) == (
        f"github.app.private_key_file {garbage} is not an unencrypted PEM private key "
        "(use the .pem file GitHub generates for the App)"
    )


def test_a_key_file_written_by_github_loads(tmp_path):
    pem = tmp_path / "tide.2026-01-05.private-key.pem"
    pem.write_text(private_pem(rsa_key()))

    key = load_private_key(pem)

    assert key.public_key().public_numbers() == rsa_key().public_key().public_numbers()


class _Fixed:
    def __init__(self, value: str) -> None:
        self.value = value

    async def token(self) -> str:
        return self.value


async def test_a_revoked_installation_token_is_reminted_at_once(
    sim: SimServer, virtual_clock: VirtualClock
):
    source = make_app(sim, virtual_clock).for_org("acme")
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)

    async with GitHub(endpoint, source, clock=virtual_clock, retry=FAST_RETRY) as gh:
        assert await gh.viewer() == "tide-merge-queue"
        sim.world.apps.revoke(await source.token())
        virtual_clock.advance(60)  # long before the scheduled renewal, 55 minutes in
        login_after = await gh.viewer()
        rest_login = await gh.rest.viewer_login()

    assert (login_after, rest_login) == ("tide-merge-queue", "tide-merge-queue[bot]")
    assert sim.world.journal.count("POST /graphql Viewer", 401) == 1
    assert sim.world.journal.count(MINTS, 201) == 2


async def test_a_personal_token_rejected_with_401_is_not_retried(
    sim: SimServer, virtual_clock: VirtualClock
):
    endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
    async with GitHub(endpoint, _Fixed("ghp_revoked"), clock=virtual_clock) as gh:
        with pytest.raises(AuthError):
            await gh.viewer()
    assert sim.world.journal.count("POST /graphql Viewer", 401) == 1
