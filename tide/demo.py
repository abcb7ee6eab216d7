"""`tide demo`: the real daemon against the built-in GitHub simulator, no token, no network.

Two repositories and a dozen PRs, each stuck (or not) in a telling way; a fake CI that
takes a few seconds; the daemon with a short sync period. It stops by itself once nothing
more can merge and prints every PR's fate: merged, or why not.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tide.clock import RealClock
from tide.config import Config
from tide.config.layout import ConfigFiles
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.history import History
from tide.logs import configure_logging
from tide.report import SyncReport
from tide.server.app import StatusServer
from tide.sim import FakeCI, Job, SimServer, World, fail_if_all_present, fail_if_present
from tide.staging import Outcome

DEMO_TOKEN = "demo-token"
READY = ("lgtm", "approved")
MAX_MINUTES = 10.0
DEMO_PORT = 8888


@dataclass(frozen=True)
class Story:
    repo: str
    title: str
    files: dict[str, str]
    labels: tuple[str, ...] = READY
    draft: bool = False
    stale: bool = False  # branched from the first commit, before the base moved
    expect: str = ""  # what the demo shows with it


STORIES = (
    Story("acme/widgets", "Add the blue widget", {"widgets/blue.txt": "blue\n"}, expect="merges"),
    Story("acme/widgets", "Add the red widget", {"widgets/red.txt": "red\n"}, expect="merges"),
    Story(
        "acme/widgets",
        "Rename the app (branched long ago)",
        {"src/name.txt": "app\n"},
        stale=True,
        expect="behind the base: tested on top of it, then merges",
    ),
    Story(
        "acme/widgets",
        "Needs approval",
        {"widgets/green.txt": "g\n"},
        ("lgtm",),
        expect="needs a label",
    ),
    Story(
        "acme/widgets",
        "On hold",
        {"widgets/grey.txt": "grey\n"},
        (*READY, "do-not-merge/hold"),
        expect="on hold",
    ),
    Story("acme/widgets", "Breaks the build", {"BREAK": "boom\n"}, expect="its own check fails"),
    Story("acme/widgets", "Use port 8080", {"config.txt": "port=8080\n"}, expect="merges"),
    Story(
        "acme/widgets",
        "Use port 9090",
        {"config.txt": "port=9090\n"},
        expect="conflicts once port 8080 lands",
    ),
    Story(
        "acme/widgets",
        "Work in progress",
        {"widgets/wip.txt": "wip\n"},
        draft=True,
        expect="a draft",
    ),
    Story("acme/gadgets", "API v2", {"api/v2.txt": "v2\n"}, expect="merges"),
    Story(
        "acme/gadgets",
        "Client for API v1",
        {"client/v1.txt": "v1\n"},
        expect="breaks only together with API v2: found by bisection",
    ),
    Story("acme/gadgets", "Update the docs", {"docs/index.md": "docs\n"}, expect="merges"),
)


def demo_ci(speed: float) -> FakeCI:
    return FakeCI(
        [
            Job("ci/test", duration=4.0 / speed),
            Job("ci/lint", kind="check_run", duration=2.0 / speed),
        ],
        branches=["tide/*"],
        rules=[fail_if_present("BREAK"), fail_if_all_present("api/v2.txt", "client/v1.txt")],
    )


def demo_world(speed: float = 1.0) -> World:
    world = World(
        RealClock(),
        tokens={DEMO_TOKEN: "tide-bot"},
        mergeable_delay=0.5 / speed,
        graphql_points_per_hour=1_000_000,  # a demo syncs every 2 s; GitHub's 5,000 would not do
        rest_requests_per_hour=1_000_000,
    )
    widgets = world.create_repo(
        "acme/widgets",
        files={"README.md": "# widgets\n", "src/app.txt": "v1\n", "config.txt": "port=80\n"},
        ci=demo_ci(speed),
    )
    world.protect(widgets, "main", contexts=["ci/test"])
    gadgets = world.create_repo(
        "acme/gadgets", files={"README.md": "# gadgets\n"}, allow_merge=False, ci=demo_ci(speed)
    )
    world.protect(gadgets, "main", contexts=["ci/test", "ci/lint"])
    first = {name: r.git.branches["main"] for name, r in world.repos.items()}
    world.push_branch("acme/widgets", "main", {"CHANGELOG.md": "0.2\n"}, message="Start 0.2")
    for story in STORIES:
        world.open_pr(
            story.repo,
            files=story.files,
            title=story.title,
            labels=story.labels,
            draft=story.draft,
            from_sha=first[story.repo] if story.stale else None,
        )
    return world


PROW_CONFIG = """\
# Prow's own config.yaml: tide reads its tide: section; the rest is Prow's.
prowjob_namespace: prow
github:
  link_url: https://github.com
tide:
  sync_period: {period}s
  status_update_period: {period}s
  queries:
  - orgs: [acme]
    labels: [lgtm, approved]
    missingLabels: [do-not-merge, do-not-merge/hold, do-not-merge/work-in-progress]
  merge_method:
    acme/gadgets: squash
  context_options:
    from-branch-protection: true
  batch_size_limit:
    "*": 5
  blocker_label: tide/merge-blocker
"""
JOB_CONFIG = """\
# Prow's job config: these presubmits' contexts are required, as Prow requires them.
presubmits:
  acme/widgets:
  - {name: ci/test, always_run: true}
  acme/gadgets:
  - {name: ci/test, always_run: true}
  - {name: ci/lint, always_run: true}
"""
TIDE_CONFIG = """\
# tide's own settings, under daemon: where they cannot collide with Prow's keys.
daemon:
  github:
    graphql_url: {graphql_url}
    api_url: {api_url}
  queue:
    merge_pause: 0.5s
    context_start_timeout: 2m
  server:
    port: {port}
"""


def demo_files(root: Path, sim: SimServer, speed: float, port: int = DEMO_PORT) -> ConfigFiles:
    """The demo's config in Prow's layout (config.yaml + job config) beside tide's own file."""
    period = max(1, round(2 / speed))
    (root / "prow" / "jobs").mkdir(parents=True, exist_ok=True)
    (root / "prow" / "config.yaml").write_text(PROW_CONFIG.format(period=period))
    (root / "prow" / "jobs" / "acme-presubmits.yaml").write_text(JOB_CONFIG)
    own = TIDE_CONFIG.format(graphql_url=sim.graphql_url, api_url=sim.api_url, port=port)
    (root / "tide.yaml").write_text(own)
    return ConfigFiles(
        config=root / "tide.yaml",
        prow_config=root / "prow" / "config.yaml",
        job_config=root / "prow" / "jobs",
    )


def prow_command(files: ConfigFiles) -> str:
    """The `tide run` line that reads these files, for the banner."""
    return (
        f"tide run --config {files.config} --config-path {files.prow_config} "
        f"--job-config-path {files.job_config}"
    )


def settled(report: SyncReport | None, world: World) -> bool:
    """Nothing can merge any more: no eligible PR, no staging run, no CI still running."""
    if report is None or world.next_event_at() is not None:
        return False
    for pool in report.pools:
        if pool.state.eligible or pool.error:
            return False
        if any(r.outcome == Outcome.PENDING for r in pool.state.runs):
            return False
    return True


async def _watch(daemon: Daemon, world: World, forever: bool, out: TextIO) -> None:
    """Stop the daemon once three fresh syncs in a row found nothing left to do."""
    period = daemon.config.sync_period
    quiet = 0
    waited = 0.0
    seen: SyncReport | None = None
    while True:
        await asyncio.sleep(period)
        waited += period
        report = daemon.last_report
        if report is not None and report is not seen:
            seen = report
            quiet = quiet + 1 if settled(report, world) else 0
        if forever:
            continue
        if quiet >= 3:
            print("\nNothing more can merge; stopping.", file=out)
            daemon.stop()
            return
        if waited > MAX_MINUTES * 60:
            print("\nThe demo ran out of time; stopping.", file=out)
            daemon.stop()
            return


def stop_note(forever: bool) -> str:
    """How the demo ends: with --forever only Ctrl-C stops it."""
    if forever:
        return "  It keeps running, dashboard and all, until Ctrl-C (--forever)."
    return (
        "  Ctrl-C stops it; it also stops by itself once nothing more can merge "
        "(--forever keeps it and the dashboard up)."
    )


def summary(world: World) -> str:
    """Every PR of the demo: merged, or the `tide` status that says why not."""
    rows = [("PR", "title", "outcome")]
    for repo in world.repos.values():
        for number, pr in sorted(repo.pulls.items()):
            if pr.state == "MERGED":
                outcome = "merged"
            else:
                tide = [s for s in repo.statuses.get(pr.head_sha, []) if s.context == "tide"]
                outcome = tide[-1].description if tide else "no status yet"
            rows.append((f"{repo.full_name}#{number}", pr.title, outcome))
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = []
    for i, (key, title, outcome) in enumerate(rows):
        lines.append(f"{key:<{widths[0]}}  {title:<{widths[1]}}  {outcome}")
        if i == 0:
            lines.append("-" * (widths[0] + widths[1] + 4 + 40))
    return "\n".join(lines)


async def run_demo(
    *,
    forever: bool = False,
    speed: float = 1.0,
    port: int = DEMO_PORT,
    out: TextIO | None = None,
) -> int:
    out = out or sys.stdout
    configure_logging("info", "console", stream=out)
    world = demo_world(speed)
    with tempfile.TemporaryDirectory(prefix="tide-demo-") as scratch:
        return await _run(world, scratch, forever=forever, speed=speed, port=port, out=out)


async def _run(
    world: World, scratch: str, *, forever: bool, speed: float, port: int, out: TextIO
) -> int:
    async with SimServer(world) as sim:
        files = demo_files(Path(scratch), sim, speed, port)
        config = files.load()
        endpoint = GitHubEndpoint(sim.graphql_url, sim.api_url)
        async with GitHub(endpoint, StaticToken(DEMO_TOKEN)) as gh:
            daemon = Daemon(ConfigHolder(config, files), gh, history=History())
            server = await _serve(daemon, config)
            count = sum(len(r.pulls) for r in world.repos.values())
            banner = [
                f"tide demo: the merge queue against a simulated GitHub at {sim.url}",
                f"  {count} pull requests in acme/widgets and acme/gadgets; "
                f"CI takes {4 / speed:g}s.",
                f"  Dashboard: {server.url}/ui  "
                f"(why isn't #4 merging? {server.url}/ui/pr/acme/widgets/4)",
                f"  From a shell: tide status --url {server.url}; "
                f"tide explain acme/widgets#4 --url {server.url}",
                f"  Config in Prow's layout, read as: {prow_command(files)}",
                "  (one tide config.yaml works too: tide run --config config.yaml)",
                f"  Look around: curl -H 'Authorization: token {DEMO_TOKEN}' "
                f"{sim.url}/repos/acme/widgets/pulls/1",
                stop_note(forever),
                "",
            ]
            print("\n".join(banner), file=out)
            watcher = asyncio.create_task(_watch(daemon, world, forever, out))
            try:
                await daemon.run()
            finally:
                watcher.cancel()
                await server.stop()
        print("\n" + summary(world) + "\n", file=out)
    return 0


async def _serve(daemon: Daemon, config: Config) -> StatusServer:
    """The dashboard on the configured port, or on any free one when that is taken."""
    settings = config.server
    server = StatusServer(daemon, host=settings.address, port=settings.port)
    try:
        await server.start()
    except OSError:
        server = StatusServer(daemon, host=settings.address, port=0)
        await server.start()
    return server
