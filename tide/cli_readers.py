"""`tide status` and `tide explain`: ask the running daemon's API, or (`--direct`) compute
the same answer from GitHub with the config alone: one read-only, dry-run sync, no writes."""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TextIO

import aiohttp
from pydantic import TypeAdapter, ValidationError

from tide.clock import RealClock
from tide.config import Config
from tide.github.errors import AuthError, GitHubError
from tide.history import History
from tide.judge import Judge
from tide.logs import configure_logging
from tide.service import connect
from tide.sync import Syncer
from tide.views.answers import Knowledge, PRLookup, explain_pr
from tide.views.explain import Explanation, Presence, parse_pr_ref
from tide.views.overview import Overview, overview
from tide.views.text import explain_text, status_text

OVERVIEW = TypeAdapter(Overview)
EXPLANATION = TypeAdapter(Explanation)
REQUEST_TIMEOUT = 30.0


class CommandError(Exception):
    """A problem to print on one line, with the exit code to leave with."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


async def fetch(url: str, path: str) -> tuple[int, object]:
    target = url.rstrip("/") + path
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(target, headers={"Accept": "application/json"}) as resp,
        ):
            return resp.status, await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise CommandError(
            f"cannot read {target} ({exc.__class__.__name__}): is `tide run` serving there? "
            "Use --url, or --direct to ask GitHub instead"
        ) from None


@asynccontextmanager
async def direct(config: Config) -> AsyncIterator[Knowledge]:
    """One dry-run sync with the config's credentials: the daemon's view, computed here."""
    configure_logging("warning", "console", stream=sys.stderr)
    clock = RealClock()
    try:
        async with AsyncExitStack() as stack:
            clients, _identity = await connect(config, stack, clock)
            syncer = Syncer(clients, clock, History(), dry_run=True)
            report = await syncer.sync(config)
            history = History(path=Path(config.history.path))
            history.load(set_aside=False)
            yield Knowledge(config, report, history, PRLookup(Judge(clients)))
    except AuthError as exc:
        raise CommandError(str(exc)) from None
    except GitHubError as exc:
        raise CommandError(f"GitHub at {config.github.graphql_url}: {exc}") from None


def _show(out: TextIO, answer: object) -> None:
    """The API's JSON (`--json`), or the rendered text."""
    _emit(out, answer if isinstance(answer, str) else json.dumps(answer, indent=2) + "\n")


def _emit(out: TextIO, text: str) -> None:
    out.write(text)
    out.flush()


async def status_command(
    *, url: str, config: Config | None = None, as_json: bool = False, out: TextIO | None = None
) -> int:
    out = out or sys.stdout
    try:
        if config is not None:
            async with direct(config) as know:
                view = overview(
                    know.report,
                    know.history,
                    now=RealClock().now(),
                    sync_period=config.sync_period,
                )
        else:
            status, data = await fetch(url, "/api/v1/pools")
            if status != 200:
                raise CommandError(f"{url} answered HTTP {status}")
            view = OVERVIEW.validate_python(data)
    except CommandError as exc:
        print(f"tide: {exc}", file=sys.stderr)
        return exc.code
    except ValidationError:
        print(f"tide: {url} did not answer with tide's API", file=sys.stderr)
        return 1
    _show(out, OVERVIEW.dump_python(view, mode="json") if as_json else status_text(view))
    return 0


async def explain_command(
    ref: str,
    *,
    url: str,
    config: Config | None = None,
    as_json: bool = False,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    parsed = parse_pr_ref(ref)
    if parsed is None:
        print(f"tide: {ref!r} is not a pull request; write org/repo#123", file=sys.stderr)
        return 2
    org, repo, number = parsed
    try:
        if config is not None:
            async with direct(config) as know:
                answer = await explain_pr(know, org, repo, number, RealClock().now())
        else:
            status, data = await fetch(url, f"/api/v1/prs/{org}/{repo}/{number}")
            if status not in (200, 404):
                raise CommandError(f"{url} answered HTTP {status}")
            answer = EXPLANATION.validate_python(data)
    except CommandError as exc:
        print(f"tide: {exc}", file=sys.stderr)
        return exc.code
    except ValidationError:
        print(f"tide: {url} did not answer with tide's API", file=sys.stderr)
        return 1
    _show(out, EXPLANATION.dump_python(answer, mode="json") if as_json else explain_text(answer))
    return 1 if answer.presence == Presence.UNKNOWN else 0
