"""Wiring for `tide run`: logging, credentials, the start-up check, then the daemon.

Start-up problems (no token, a rejected token, GitHub unreachable) are one readable
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from contextlib import AsyncExitStack
from pathlib import Path

import structlog

from tide.clock import Clock, RealClock
from tide.config import Config
from tide.config.instance_section import LeaseSettings
from tide.config.layout import ConfigFiles, describe_source
from tide.daemon import ConfigHolder, Daemon
from tide.github.app_auth import GitHubApp, app_token_source
from tide.github.auth import TokenSource, static_token
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.errors import AuthError, GitHubError
from tide.github.org_clients import Clients
from tide.history import History
from tide.instance import load_instance_id
from tide.lease import KubernetesLease, LeaseUnavailable, incluster_api, lease_identity
from tide.logs import configure_logging, fatal, is_json
from tide.selfcheck import self_check
from tide.server.app import StatusServer

log = structlog.get_logger()


def token_source(config: Config) -> TokenSource:
    gh = config.github
    if gh.app is not None:
        # One client, so one installation: `installation_id`, or the App's only one.
        return app_token_source(gh.app, api_url=gh.api_url)
    if gh.token_file:
        return static_token(token_file=gh.token_file)
    return static_token(token_env=gh.token_env or "GITHUB_TOKEN")


def fail(message: str) -> int:
    fatal(message)
    return 1


async def connect(config: Config, stack: AsyncExitStack, clock: Clock) -> tuple[Clients, str]:
    """The GitHub clients for the config's credentials, and who they act as.

    A token, or an App pinned to `installation_id`: one client. An App without one: a
    client per org installation, found on first use (searches then run per org)."""
    settings = config.github
    endpoint = GitHubEndpoint(settings.graphql_url, settings.api_url)
    if settings.app is not None:
        app = GitHubApp.from_settings(settings.app, api_url=settings.api_url, clock=clock)
        identity = await app.identity()
        if settings.app.installation_id is None:
            if not await app.installations():
                raise AuthError(f"GitHub App {settings.app.app_id} is not installed on any account")
            clients = Clients(app=app, endpoint=endpoint, clock=clock)
            stack.push_async_callback(clients.close)
            orgs, repos = config.org_exceptions_and_repos()
            first = sorted({*orgs, *(r.split("/", 1)[0] for r in repos)})
            for org in first[:1]:
                await clients.for_org(org)  # the metrics' client, and a first token check
            return clients, identity
        tokens: TokenSource = app.for_installation(settings.app.installation_id)
        gh = await stack.enter_async_context(GitHub(endpoint, tokens, clock=clock))
        return Clients.of(gh), identity
    gh = await stack.enter_async_context(GitHub(endpoint, token_source(config), clock=clock))
    return Clients.of(gh), await gh.viewer()


async def run_service(
    config: Config,
    path: Path | ConfigFiles | None,
    *,
    once: bool = False,
    dry_run: bool = False,
    clock: Clock | None = None,
    serve: bool = True,
    log_level: str | None = None,
    log_format: str | None = None,
) -> int:
    """`log_level`/`log_format` (flags or environment) override the config's `log:`."""
    configure_logging(log_level or config.log.level, log_format or config.log.format)
    clock = clock or RealClock()
    history = History(path=Path(config.history.path), read_only=dry_run)
    history.load(set_aside=not dry_run)
    async with AsyncExitStack() as stack:
        try:
            clients, identity = await connect(config, stack, clock)
            check = await self_check(
                config,
                clients,
                identity,
                source=describe_source(path),
                dry_run=dry_run,
            )
        except AuthError as exc:
            return fail(str(exc))
        except GitHubError as exc:
            return fail(f"cannot reach GitHub at {config.github.graphql_url}: {exc}")
        if not is_json():
            print(check.text, file=sys.stderr)
        log.info(
            "self_check",
            identity=identity,
            graphql=config.github.graphql_url,
            rate_remaining=clients.remaining(),
            warnings=check.warnings,
            dry_run=dry_run,
            # In JSON the readable block travels inside the event, one string per line.
            **({"report": check.lines} if is_json() else {}),
        )
        if check.fatal:
            for problem in check.fatal:
                fail(problem)
            return 1
        # A dry run writes nothing, not even its identity: it makes no staging commits.
        instance = load_instance_id(config.instance.id, None if dry_run else history.path)
        lease = None
        if config.instance.lease is not None:
            try:
                lease = await _lease(config.instance.lease, instance, clock, stack)
            except LeaseUnavailable as exc:
                return fail(str(exc))
        log.info("instance", id=instance, coordination="lease" if lease else "staging commits")
        daemon = Daemon(
            ConfigHolder(config, path),
            clients,
            clock=clock,
            dry_run=dry_run,
            history=history,
            instance=instance,
            lease=lease,
        )
        daemon.syncer.repositories.mark_unreachable(check.unreachable)
        if once:
            return await run_once(daemon)
        if not (serve and config.server.enabled):
            return await daemon.run()
        server = StatusServer(daemon, host=config.server.address, port=config.server.port)
        try:
            await server.start()
        except OSError as exc:
            where = f"{config.server.address}:{config.server.port}"
            return fail(
                f"cannot serve HTTP on {where} ({exc.strerror or exc}); "
                "set server.port (and webhooks.port), or run with --no-server"
            )
        try:
            return await daemon.run()
        finally:
            await server.stop()


async def _lease(
    settings: LeaseSettings, instance: str, clock: Clock, stack: AsyncExitStack
) -> KubernetesLease:
    api_client, api, namespace = await incluster_api(settings.namespace)
    stack.push_async_callback(api_client.close)
    return KubernetesLease(
        api,
        namespace=namespace,
        name=settings.name,
        identity=lease_identity(instance),
        duration=settings.duration,
        clock=clock,
    )


async def run_once(daemon: Daemon) -> int:
    report = await daemon.sync_once()
    statuses = await daemon.statuses_once()
    daemon.history.flush()
    if daemon.lease is not None:
        await daemon.lease.release()
    problems = [*report.errors, *(f"{p.key}: {p.error}" for p in report.pools if p.error)]
    problems += statuses.errors
    for problem in problems:
        if is_json():
            log.error("sync_problem", problem=problem)
        else:
            print(f"tide: {problem}", file=sys.stderr)
    return 1 if problems else 0
