"""Wiring for `tide run`: logging, credentials, the start-up check, then the daemon.

Start-up problems (no token, a rejected token, GitHub unreachable) are one readable
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import structlog

from tide.clock import Clock, RealClock
from tide.config import Config
from tide.daemon import ConfigHolder, Daemon
from tide.github.app_auth import app_token_source
from tide.github.auth import TokenSource, static_token
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.errors import AuthError, GitHubError
from tide.history import History
from tide.logs import configure_logging
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
    print(f"tide: {message}", file=sys.stderr)
    return 1


async def run_service(
    config: Config,
    path: Path | None,
    *,
    once: bool = False,
    dry_run: bool = False,
    clock: Clock | None = None,
    serve: bool = True,
) -> int:
    configure_logging(config.log.level, config.log.format)
    try:
        tokens = token_source(config)
    except AuthError as exc:
        return fail(str(exc))
    endpoint = GitHubEndpoint(config.github.graphql_url, config.github.api_url)
    history = History(path=Path(config.history.path))
    history.load()
    async with GitHub(endpoint, tokens, clock=clock or RealClock()) as gh:
        try:
            login = await gh.viewer()
        except AuthError as exc:
            return fail(str(exc))
        except GitHubError as exc:
            return fail(f"cannot reach GitHub at {endpoint.graphql_url}: {exc}")
        log.info(
            "github_identity",
            login=login,
            graphql=endpoint.graphql_url,
            rate_remaining=gh.budget.remaining,
            dry_run=dry_run,
        )
        daemon = Daemon(
            ConfigHolder(config, path), gh, clock=clock, dry_run=dry_run, history=history
        )
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
                "set server.port, or run with --no-server"
            )
        try:
            return await daemon.run()
        finally:
            await server.stop()


async def run_once(daemon: Daemon) -> int:
    report = await daemon.sync_once()
    statuses = await daemon.statuses_once()
    daemon.history.flush()
    problems = [*report.errors, *(f"{p.key}: {p.error}" for p in report.pools if p.error)]
    problems += statuses.errors
    for problem in problems:
        print(f"tide: {problem}", file=sys.stderr)
    return 1 if problems else 0
