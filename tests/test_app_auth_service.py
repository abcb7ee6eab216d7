"""`tide run` as a GitHub App, and GitHub Enterprise Server: the configured URLs, exactly."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tide.cli import main
from tide.clock import RealClock
from tide.config import parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.app_auth import GitHubApp, InstallationToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.errors import AuthError
from tide.history import History
from tide.server.app import StatusServer
from tide.service import connect, run_service, token_source
from tide.sim import FakeCI, Job, SimServer, World

APP_ID = 4242


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_key(tmp_path: Path) -> Path:
    pem = tmp_path / "github-app.pem"
    pem.write_bytes(
        rsa_key().private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pem


def public_pem() -> str:
    return (
        rsa_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def app_world() -> World:
    """The wall clock (a JWT carries real time), acme/widgets with one ready PR, the App on acme."""
    world = World(RealClock())
    world.create_repo("acme/widgets", ci=FakeCI([Job("ci/test", duration=0)]))
    pr = world.open_pr("acme/widgets", {"feature.txt": "new\n"}, labels=["lgtm"])
    world.set_status("acme/widgets", pr.head_sha, "ci/test", "success")
    world.apps.register(APP_ID, public_pem())
    world.apps.install(APP_ID, "acme")
    return world


def app_config(tmp_path: Path, graphql_url: str, api_url: str, installation: str = "") -> str:
    return textwrap.dedent(
        f"""
        github:
          graphql_url: {graphql_url}
          api_url: {api_url}
          app:
            app_id: {APP_ID}
            private_key_file: {write_key(tmp_path)}
            {installation}
        tide:
          queries:
          - repos: [acme/widgets]
            labels: [lgtm]
        history:
          path: {tmp_path / "history.json"}
        log:
          format: json
        """
    )


def test_app_config_gives_an_installation_token_source(tmp_path: Path):
    pinned = parse_config(
        app_config(
            tmp_path,
            "https://ghe.example/api/graphql",
            "https://ghe.example/api/v3",
            "installation_id: 77",
        )
    )
    discovered = parse_config(
        app_config(tmp_path, "https://ghe.example/api/graphql", "https://ghe.example/api/v3")
    )

    assert isinstance(token_source(pinned), InstallationToken)
    assert token_source(pinned).installation_id == 77
    assert token_source(discovered).installation_id is None


def test_an_unreadable_app_key_stops_start_up_with_one_line(tmp_path: Path):
    config = parse_config(app_config(tmp_path, "https://h/api/graphql", "https://h/api/v3"))
    Path(config.github.app.private_key_file).write_text("not a key\n")

    with pytest.raises(AuthError, match=r"is not an unencrypted PEM private key"):
        token_source(config)


async def test_tide_run_once_authenticates_as_the_app(
    tmp_path: Path, schema: Any, capsys: pytest.CaptureFixture[str]
):
    world = app_world()
    async with SimServer(world) as sim:
        config = parse_config(app_config(tmp_path, sim.graphql_url, sim.api_url))

        code = await run_service(config, None, once=True)

    out = capsys.readouterr().out
    events = {line["event"]: line for line in map(json.loads, out.splitlines())}
    assert code == 0
    assert events["self_check"]["identity"] == f"tide-merge-queue[bot] (GitHub App {APP_ID})"
    assert events["sync"]["open_prs"] == 1
    assert [m.number for m in world.journal.merges] == [1]
    assert world.journal.merges[0].actor == "tide-merge-queue[bot]"
    assert not [t for t in world.apps.tokens if t in out]


# -- GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql ------------------


class EnterpriseFront:
    """A GitHub Enterprise-shaped front for the simulator: REST under `/api/v3`, GraphQL at
    `/api/graphql`; any other path is a 404, and every path asked for is recorded."""

    def __init__(self, sim: SimServer) -> None:
        self.sim = sim
        self.paths: list[str] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def forward(self, request: web.Request) -> web.StreamResponse:
        self.paths.append(request.path)
        if request.path == "/api/graphql":
            target = "/graphql"
        elif request.path.startswith("/api/v3/"):
            target = request.path.removeprefix("/api/v3")
        else:
            return web.json_response({"message": "Not Found"}, status=404)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() in ("authorization",)}
        async with self._session.request(
            request.method,
            f"{self.sim.url}{target}",
            params=request.query,
            data=await request.read(),
            headers={**headers, "Content-Type": "application/json"},
        ) as resp:
            passed = {k: v for k, v in resp.headers.items() if k.lower().startswith("x-ratelimit")}
            return web.Response(
                body=await resp.read(),
                status=resp.status,
                headers=passed,
                content_type="application/json",
            )

    async def __aenter__(self) -> EnterpriseFront:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._session is not None and self._runner is not None
        await self._session.close()
        await self._runner.cleanup()


@pytest.fixture
async def enterprise(schema: Any) -> AsyncIterator[EnterpriseFront]:
    async with SimServer(app_world()) as sim, EnterpriseFront(sim) as front:
        yield front


async def test_enterprise_urls_are_used_exactly(enterprise: EnterpriseFront):
    api_url, graphql_url = f"{enterprise.url}/api/v3", f"{enterprise.url}/api/graphql"
    app = GitHubApp(APP_ID, rsa_key(), api_url=api_url)

    async with GitHub(GitHubEndpoint(graphql_url, api_url), app.for_org("acme")) as gh:
        login = await gh.viewer()
        head = await gh.rest.get_ref("acme", "widgets", "heads/main")
        found = await gh.search.pull_requests('is:pr repo:"acme/widgets"')

    assert login == "tide-merge-queue"
    assert head is not None
    assert [pr.number for pr in found.items] == [1]
    assert {p for p in enterprise.paths if not p.startswith("/api/v3/")} == {"/api/graphql"}
    assert "/api/v3/app/installations" in enterprise.paths
    assert any(p.endswith("/access_tokens") for p in enterprise.paths)
    assert "/api/v3/repos/acme/widgets/git/ref/heads/main" in enterprise.paths


async def test_tide_run_once_against_enterprise_urls(
    enterprise: EnterpriseFront, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    config = parse_config(
        app_config(tmp_path, f"{enterprise.url}/api/graphql", f"{enterprise.url}/api/v3")
    )

    code = await run_service(config, None, once=True)

    capsys.readouterr()
    assert code == 0
    assert [m.number for m in enterprise.sim.world.journal.merges] == [1]
    assert all(p == "/api/graphql" or p.startswith("/api/v3/") for p in enterprise.paths)


async def test_an_app_on_two_orgs_searches_and_merges_each_with_its_own_installation(
    tmp_path: Path, schema: Any, capsys: pytest.CaptureFixture[str]
):
    world = app_world()
    world.create_repo("umbrella/tools", ci=FakeCI([Job("ci/test", duration=0)]))
    other = world.open_pr("umbrella/tools", {"tool.txt": "new\n"}, labels=["lgtm"])
    world.set_status("umbrella/tools", other.head_sha, "ci/test", "success")
    world.apps.install(APP_ID, "umbrella")
    async with SimServer(world) as sim:
        text = app_config(tmp_path, sim.graphql_url, sim.api_url).replace(
            "- repos: [acme/widgets]", "- orgs: [acme, umbrella]"
        )
        code = await run_service(parse_config(text), None, once=True)
    out = capsys.readouterr().out
    assert code == 0
    assert sorted((m.repo, m.number) for m in world.journal.merges) == [
        ("acme/widgets", 1),
        ("umbrella/tools", 1),
    ]
    # An installation token only sees its own org, so both merges prove that each org was
    # searched and merged with its own installation's token (Tide's OrgQueries).
    searches = [r for r in world.journal.requests if r.endpoint.endswith("SearchPullRequestIds")]
    assert len(searches) == 4  # the sync and the status pass, once per org
    assert not [t for t in world.apps.tokens if t in out]


def two_org_world() -> World:
    """acme/widgets as in `app_world`; umbrella/tools, the App's second installation, holds
    one PR whose check passes but which lacks its label, so no pool holds it."""
    world = app_world()
    world.create_repo("umbrella/tools", ci=FakeCI([Job("ci/test", duration=0)]))
    world.open_pr("umbrella/tools", {"tool.txt": "new\n"}, title="Unlabelled")
    world.apps.install(APP_ID, "umbrella")
    return world


def two_org_config(tmp_path: Path, sim: SimServer) -> str:
    return app_config(tmp_path, sim.graphql_url, sim.api_url).replace(
        "- repos: [acme/widgets]", "- orgs: [acme, umbrella]"
    )


async def test_explain_of_a_pr_in_the_apps_second_installation_gives_its_verdict(
    tmp_path: Path, schema: Any, capsys: pytest.CaptureFixture[str]
):
    """`tide explain --direct` reads a PR outside every pool through its own org's
    installation; the first installation cannot see it at all."""
    world = two_org_world()
    async with SimServer(world) as sim:
        path = tmp_path / "config.yaml"
        path.write_text(two_org_config(tmp_path, sim))

        code = await asyncio.to_thread(
            main, ["explain", "umbrella/tools#1", "--direct", "--config", str(path)]
        )

    out = capsys.readouterr().out
    assert code == 0, out
    assert "Not found" not in out
    assert "Not eligible: Needs lgtm label." in out
    assert "passed: ci/test" in out


async def test_the_api_explains_a_pr_in_the_apps_second_installation(tmp_path: Path, schema: Any):
    world = two_org_world()
    async with SimServer(world) as sim, AsyncExitStack() as stack:
        config = parse_config(two_org_config(tmp_path, sim))
        clients, _identity = await connect(config, stack, RealClock())
        daemon = Daemon(ConfigHolder(config, None), clients, history=History())
        await daemon.sync_once()
        async with (
            StatusServer(daemon, port=0) as server,
            aiohttp.ClientSession(server.url) as http,
            http.get("/api/v1/prs/umbrella/tools/1") as resp,
        ):
            status, answer = resp.status, await resp.json()

    assert status == 200, answer
    assert answer["presence"] == "outside the pool"
    assert answer["title"] == "Unlabelled"
    unmet = {c["name"]: c["detail"] for c in answer["criteria"] if not c["met"]}
    assert unmet["labels"] == "Needs lgtm label."


async def test_the_self_check_names_identity_permissions_and_an_unreachable_repo(
    tmp_path: Path, schema: Any, capsys: pytest.CaptureFixture[str]
):
    """acme/missing cannot be read: the check names it, and the daemon still merges in
    acme/widgets; the missing one is an errored pool (exit 1 from --once says so)."""
    world = app_world()
    async with SimServer(world) as sim:
        text = app_config(tmp_path, sim.graphql_url, sim.api_url).replace(
            "- repos: [acme/widgets]", "- repos: [acme/widgets, acme/missing]"
        )
        code = await run_service(parse_config(text), None, once=True)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    check = next(e for e in events if e["event"] == "self_check")
    report = "\n".join(check["report"])
    assert "tide self-check" in report
    assert f"tide-merge-queue[bot] (GitHub App {APP_ID})" in report
    assert "repo acme/widgets: permission" in report
    assert "repo acme/missing: UNREACHABLE" in report
    assert code == 1
    assert [m.number for m in world.journal.merges] == [1]
    problems = [e["problem"] for e in events if e["event"] == "sync_problem"]
    # GitHub refuses a search naming it: the sync searches the others and says why.
    assert problems == [
        "acme/missing:*: repository acme/missing cannot be searched: "
        "it does not exist or the token cannot see it"
    ]


async def test_start_up_refuses_when_no_repository_is_reachable(
    tmp_path: Path, schema: Any, capsys: pytest.CaptureFixture[str]
):
    world = app_world()
    async with SimServer(world) as sim:
        text = app_config(tmp_path, sim.graphql_url, sim.api_url).replace(
            "- repos: [acme/widgets]", "- repos: [acme/missing]"
        )
        code = await run_service(parse_config(text), None, once=True)
    events = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    fatal = [e["reason"] for e in events if e["event"] == "fatal"]
    assert len(fatal) == 1
    assert fatal[0].startswith("no configured repository is reachable: cannot reach repository")
