"""`StatusServer`: the daemon's HTTP side: health, metrics, Tide's JSON, our API, the dashboard.

    async with StatusServer(daemon, host="127.0.0.1", port=8888) as server:
        print(server.url + "/ui")

It only reads what the daemon already decided, except for a PR outside every pool, which it
looks up on GitHub (see `tide.views.answers`).
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Awaitable, Callable
from datetime import datetime
from types import TracebackType

import structlog
from aiohttp import web
from pydantic import TypeAdapter

from tide.daemon import Daemon
from tide.github.errors import GitHubError
from tide.report import SyncReport
from tide.server.access import Access, exposed_without_protection
from tide.server.health import liveness, readiness
from tide.server.metrics import CONTENT_TYPE, Metrics
from tide.server.webhook_endpoint import WebhookEndpoint
from tide.status_pass import StatusPass
from tide.views.answers import Knowledge, PRLookup, explain_pr
from tide.views.explain import Explanation, Presence, parse_pr_ref
from tide.views.html import Markup, path
from tide.views.overview import Overview, overview
from tide.views.pages import error_page, history_page, overview_page
from tide.views.pr_page import pr_page
from tide.views.prow import prow_pools
from tide.views.throttle import LookupThrottled

log = structlog.get_logger()

OVERVIEW = TypeAdapter(Overview)
EXPLANATION = TypeAdapter(Explanation)
SERVER: web.AppKey[StatusServer] = web.AppKey("server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# The pages run no script at all; styles come from our own stylesheet only.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class StatusServer:
    """Serves one daemon; metrics follow its syncs and status passes from `attach()` on."""

    def __init__(self, daemon: Daemon, *, host: str = "127.0.0.1", port: int = 8888) -> None:
        self.daemon = daemon
        self.host = host
        self.port = port
        self.metrics = Metrics(daemon.gh.counters, daemon.gh.budget)
        self.lookup = PRLookup(daemon.judge)
        self.webhooks = WebhookEndpoint(daemon)
        self.access = Access()
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._webhook_runner: web.AppRunner | None = None
        self.webhook_url = ""
        self._attached = False

    # -- following the daemon ----------------------------------------------------------------

    def attach(self) -> None:
        """Start observing syncs and status passes (idempotent)."""
        if self._attached:
            return
        self._attached = True
        self.daemon.listeners.append(self.on_sync)
        self.daemon.status_listeners.append(self.on_status_pass)

    def detach(self) -> None:
        if not self._attached:
            return
        self._attached = False
        if self.on_sync in self.daemon.listeners:
            self.daemon.listeners.remove(self.on_sync)
        if self.on_status_pass in self.daemon.status_listeners:
            self.daemon.status_listeners.remove(self.on_status_pass)

    def on_sync(self, report: SyncReport) -> None:
        self.metrics.observe_sync(report, len(self.daemon.config.queries))
        self.metrics.config_valid.set(0 if self.daemon.holder.last_error else 1)

    def on_status_pass(self, result: StatusPass, seconds: float) -> None:
        self.metrics.observe_status_pass(seconds)

    # -- answers -----------------------------------------------------------------------------

    def now(self) -> datetime:
        return self.daemon.clock.now()

    def overview(self) -> Overview:
        d = self.daemon
        return overview(
            d.last_report,
            d.history,
            now=self.now(),
            sync_period=d.config.sync_period,
            config_problems=d.holder.last_error,
            instance=d.instance,
        )

    def knowledge(self, client: str = "") -> Knowledge:
        d = self.daemon
        return Knowledge(
            config=d.config,
            report=d.last_report,
            history=d.history,
            lookup=self.lookup,
            expected=d.statuses.expected,
            eligible_since=self.metrics.eligible.get,
            client=client,
        )

    async def explain(self, org: str, repo: str, number: int, client: str = "") -> Explanation:
        """`client` (the reader's address) is charged for any look-up that asks GitHub."""
        return await explain_pr(self.knowledge(client), org, repo, number, self.now())

    # -- serving -----------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_headers, _access])
        app[SERVER] = self
        app.router.add_get("/", _prow_pools)
        app.router.add_get("/history", _prow_history)
        app.router.add_get("/healthz", _healthz)
        app.router.add_get("/readyz", _readyz)
        app.router.add_get("/metrics", _metrics)
        app.router.add_get("/api/v1/pools", _api_pools)
        app.router.add_get("/api/v1/prs/{org}/{repo}/{number:\\d+}", _api_pr)
        app.router.add_get("/api/v1/history", _prow_history)
        app.router.add_get("/ui", _ui)
        app.router.add_get("/ui/", _ui)
        app.router.add_get("/ui/history", _ui_history)
        app.router.add_get("/ui/pr", _ui_find_pr)
        app.router.add_get("/ui/pr/{org}/{repo}/{number:\\d+}", _ui_pr)
        app.router.add_get("/ui/static/tide.css", _css)
        # Registered always; answers 404 unless `webhooks.enabled` (it can change on reload),
        # or when deliveries have a port of their own (`webhooks.port`).
        app.router.add_post(self.daemon.config.webhooks.path, self._shared_webhook)
        return app

    async def _shared_webhook(self, request: web.Request) -> web.StreamResponse:
        if self._webhook_runner is not None:
            return web.Response(status=404, text="webhooks are served on their own port\n")
        return await self.webhooks.handle(request)

    def webhook_app(self) -> web.Application:
        """Only the webhook endpoint (and a liveness answer): what GitHub must reach."""
        app = web.Application(middlewares=[_headers])
        app[SERVER] = self
        app.router.add_post(self.daemon.config.webhooks.path, self.webhooks.handle)
        app.router.add_get("/healthz", _healthz)
        return app

    async def _start_webhook_port(self) -> None:
        settings = self.daemon.config.webhooks
        if settings.port is None:
            return
        host = settings.address or self.host
        runner = web.AppRunner(self.webhook_app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, settings.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._webhook_runner = runner
        bound, port = runner.addresses[0][:2]
        shown = f"[{bound}]" if ":" in str(bound) else bound
        self.webhook_url = f"http://{shown}:{port}{settings.path}"
        log.info("webhook_server_started", url=self.webhook_url)

    async def start(self) -> None:
        """Listen on host:port (port 0: any free one, see `url`); OSError when it cannot."""
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        try:
            await self._start_webhook_port()
        except OSError:
            await self.stop()
            raise
        self.attach()
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in str(host) else host
        self.url = f"http://{shown}:{port}"
        log.info("server_started", url=self.url, dashboard=f"{self.url}/ui")
        if exposed_without_protection(self.daemon.config.server):
            log.warning(
                "server_unprotected",
                address=self.daemon.config.server.address,
                advice="set server.auth_token_env or server.allowed_hosts",
            )

    async def stop(self) -> None:
        self.detach()
        if self._webhook_runner is not None:
            await self._webhook_runner.cleanup()
            self._webhook_runner = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> StatusServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


# -- handlers ------------------------------------------------------------------------------


@web.middleware
async def _headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    if request.path.startswith(("/ui", "/api", "/history", "/readyz")) or request.path == "/":
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@web.middleware
async def _access(request: web.Request, handler: Handler) -> web.StreamResponse:
    server = request.app[SERVER]
    refused = server.access.refusal(server.daemon.config.server, request)
    return refused if refused is not None else await handler(request)


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


def _server(request: web.Request) -> StatusServer:
    return request.app[SERVER]


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


async def _prow_pools(request: web.Request) -> web.Response:
    return _json(prow_pools(_server(request).daemon.last_report))


async def _prow_history(request: web.Request) -> web.Response:
    return _json(_server(request).daemon.history.to_json())


async def _healthz(request: web.Request) -> web.Response:
    alive, reason = liveness(_server(request).daemon)
    if not alive:
        return web.Response(text=f"stuck: {reason}\n", status=503)
    return web.Response(text="ok\n")


async def _readyz(request: web.Request) -> web.Response:
    daemon = _server(request).daemon
    ready, reason = readiness(daemon)
    # A replica standing by is healthy (it takes over when the other stops): it says so.
    body = {"ready": ready, "reason": reason, "instance": daemon.instance}
    body["standby"] = daemon.standby()
    return _json(body, 200 if ready else 503)


async def _metrics(request: web.Request) -> web.Response:
    body = _server(request).metrics.exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})


async def _api_pools(request: web.Request) -> web.Response:
    return _json(OVERVIEW.dump_python(_server(request).overview(), mode="json"))


def _pr_args(request: web.Request) -> tuple[str, str, int]:
    info = request.match_info
    return info["org"], info["repo"], int(info["number"])


async def _api_pr(request: web.Request) -> web.Response:
    try:
        answer = await _server(request).explain(*_pr_args(request), client=_client(request))
    except LookupThrottled as exc:
        return web.json_response(
            {"error": str(exc)},
            status=429,
            headers={"Retry-After": str(max(1, round(exc.retry_after)))},
        )
    except GitHubError as exc:
        return _json({"error": f"could not ask GitHub: {exc}"}, 502)
    status = 404 if answer.presence == Presence.UNKNOWN else 200
    return _json(EXPLANATION.dump_python(answer, mode="json"), status)


def _html(markup: Markup, status: int = 200) -> web.Response:
    return web.Response(text=markup, status=status, content_type="text/html", charset="utf-8")


async def _ui(request: web.Request) -> web.Response:
    return _html(overview_page(_server(request).overview()))


async def _ui_history(request: web.Request) -> web.Response:
    daemon = _server(request).daemon
    return _html(history_page(daemon.history, daemon.config.sync_period))


async def _ui_pr(request: web.Request) -> web.Response:
    server = _server(request)
    try:
        answer = await server.explain(*_pr_args(request), client=_client(request))
    except LookupThrottled as exc:
        page = error_page(f"Too many look-ups from your address; {exc}.")
        return _html(page, 429)
    except GitHubError as exc:
        return _html(error_page(f"Could not ask GitHub about this pull request: {exc}"), 502)
    status = 404 if answer.presence == Presence.UNKNOWN else 200
    return _html(pr_page(answer, server.daemon.config.sync_period, server.now()), status)


async def _ui_find_pr(request: web.Request) -> web.Response:
    ref = parse_pr_ref(request.query.get("pr", ""))
    if ref is None:
        raise web.HTTPFound("/ui")
    raise web.HTTPFound(path("ui", "pr", *ref))


async def _css(request: web.Request) -> web.Response:
    css = importlib.resources.files("tide.server").joinpath("static/tide.css").read_text("utf-8")
    return web.Response(text=css, content_type="text/css", headers={"Cache-Control": "max-age=300"})
