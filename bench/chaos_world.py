"""One chaos run: a small seeded repository, the real daemon against the simulator on a
virtual clock, and one kind of trouble thrown at it, so `bench/chaos_oracle.py` can judge
whether the base branch ever moved to something no passed run tested.

Every run opens a handful of PRs of mixed kinds (good, breaking with the base, conflicting
in pairs, and three that must never merge: unlabelled, held, failing their own check),
moves the base on so they need staging runs, then lets the daemon sync once a minute for a
short virtual horizon while the fault kind does its worst.
"""

from __future__ import annotations

import asyncio
import math
import random
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tide.clock import VirtualClock
from tide.config import Config, parse_config
from tide.daemon import ConfigHolder, Daemon
from tide.github.auth import StaticToken
from tide.github.client import GitHub, GitHubEndpoint
from tide.github.retry import RetryPolicy
from tide.history import History
from tide.sim import FakeCI, Job, SimServer, World, fail_if_all_present, fail_if_present
from tide.sim.world.journal import RequestRecord

TOKEN = "chaos-token"
BOT = "tide-bot"
REPO = "org/repo"
BASE = "main"
CONTEXT = "ci/test"
MARKER = "MARKER"  # on the base from the start: a "bad" PR breaks the build together with it
BREAK = "BREAK"  # a file that fails every build that contains it
READY, HOLD = "lgtm", "do-not-merge/hold"
IDLE_SKIP = 6  # at most this many idle minutes are skipped (over the 5m start timeout)


class Kind(StrEnum):
    NONE = "none"
    SERVER_ERRORS = "5xx"
    RATE_LIMITS = "secondary-rate-limit"
    LOST_ANSWERS = "lost-answers"
    BASE_MODIFIED = "base-modified"
    PUSHES = "pushes"
    CI_LATE_NEVER = "ci-late-or-never"
    FORGED = "forged-staging"
    SECOND_INSTANCE = "second-instance"
    RESTARTS = "restarts"
    MIXED = "mixed"


KINDS = tuple(Kind)
# The PR kinds: which of them may ever merge is the oracle's business, not the daemon's.
ELIGIBLE_KINDS = ("good", "bad", "pair")
INELIGIBLE_KINDS = ("unlabelled", "held", "self-failing")


@dataclass
class Plan:
    """What one run does: drawn from its seed alone."""

    kind: Kind
    seed: int
    minutes: int
    ci_seconds: float
    prs: list[str]
    batch_size: int
    fast_forward: bool
    method: str
    kinds: frozenset[Kind] = frozenset()  # what is thrown at it (MIXED: three kinds at once)
    events: dict[int, list[str]] = field(default_factory=dict)  # minute -> chaos actions
    trips: list[tuple[int, str]] = field(default_factory=list)  # (request count, action)


def plan(kind: Kind, seed: int, *, minutes: int = 25) -> Plan:
    rng = random.Random(f"{kind}:{seed}")
    count = rng.randint(2, 4)
    prs = [rng.choice(("good", "good", "bad", "pair")) for _ in range(count)]
    prs.append(rng.choice(INELIGIBLE_KINDS))
    p = Plan(
        kind=kind,
        seed=seed,
        minutes=minutes,
        ci_seconds=rng.choice((60.0, 120.0, 180.0)),
        prs=prs,
        batch_size=rng.choice((0, 1, 2, 3)),
        fast_forward=rng.random() < 0.4,
        method=rng.choice(("merge", "squash", "rebase")),
    )
    kinds = {kind} if kind != Kind.MIXED else set(rng.sample(KINDS[1:-1], 3))
    p.kinds = frozenset(kinds)
    if Kind.PUSHES in kinds:
        for _ in range(rng.randint(2, 5)):
            action = rng.choice(("push-pr", "push-pr", "push-pr-break", "push-base"))
            if rng.random() < 0.5:
                p.events.setdefault(rng.randint(1, minutes - 5), []).append(action)
            else:  # in the middle of a sync
                p.trips.append((rng.randint(5, 80), action))
    if Kind.FORGED in kinds:
        for _ in range(rng.randint(2, 4)):
            forgery = rng.choice(("forge-pass", "forge-pass", "forge-fail", "forge-partial"))
            p.events.setdefault(rng.randint(2, minutes - 5), []).append(forgery)
    if Kind.RESTARTS in kinds:
        for _ in range(rng.randint(1, 4)):
            p.trips.append((rng.randint(3, 90), "restart"))
    if Kind.BASE_MODIFIED in kinds:
        for _ in range(rng.randint(2, 5)):
            p.events.setdefault(rng.randint(1, minutes - 5), []).append("base-modified")
    p.trips.sort()
    return p


def _config(sim: SimServer, p: Plan) -> Config:
    ff = "true" if p.fast_forward else "false"
    text = f"""
    github:
      graphql_url: {sim.graphql_url}
      api_url: {sim.api_url}
    tide:
      sync_period: 1m
      queries:
      - repos: [{REPO}]
        labels: [{READY}]
        missingLabels: [{HOLD}]
      merge_method: {{{REPO}: {p.method}}}
      batch_size_limit: {{"*": {p.batch_size}}}
    queue:
      fast_forward: {{"*": {ff}}}
      context_start_timeout: 5m
      run_timeout: 20m
    instance:
      standby_expiry: 10m
    """
    return parse_config(textwrap.dedent(text), source=f"chaos:{p.kind}:{p.seed}")


def build_world(p: Plan, clock: VirtualClock) -> tuple[World, dict[int, str]]:
    """The repository, its CI and PRs; PR number -> PR kind."""
    rng = random.Random(f"world:{p.kind}:{p.seed}")
    kinds = p.kinds
    world = World(clock, tokens={TOKEN: BOT}, seed=p.seed)
    late = silent = 0.0
    pull_requests = True
    if Kind.CI_LATE_NEVER in kinds:
        late = rng.choice((300.0, 900.0, 1800.0))
        silent = rng.choice((0.1, 0.3, 0.5))
        pull_requests = rng.random() < 0.8
    ci = FakeCI(
        [Job(CONTEXT, duration=p.ci_seconds)],
        branches=["tide/*"],
        pull_requests=pull_requests,
        rules=[fail_if_present(BREAK)],
        seed=p.seed,
        late=late,
        silent_rate=silent,
    )
    world.create_repo(REPO, files={"README.md": "# chaos\n"}, ci=ci)
    initial = world.repo(REPO).git.branches[BASE]
    world.push_branch(REPO, BASE, {MARKER: "on the base\n"}, message="Marker")
    numbers: dict[int, str] = {}
    partner: str | None = None
    for i, what in enumerate(p.prs):
        path = f"src/change{i}.txt"
        files = {path: f"change {i}\n"}
        labels = [READY]
        if what == "bad":
            ci.rules.append(fail_if_all_present(MARKER, path))
        elif what == "pair":
            if partner is not None:
                ci.rules.append(fail_if_all_present(partner, path))
            partner = path
        elif what == "unlabelled":
            labels = []
        elif what == "held":
            labels = [READY, HOLD]
        elif what == "self-failing":
            files[BREAK] = "broken\n"
        pr = world.open_pr(
            REPO,
            files=files,
            labels=labels,
            title=f"{what} change {i}",
            from_sha=initial if what == "bad" else None,
        )
        numbers[pr.number] = what
    # The base moves on after the PRs branched: every PR needs a staging run.
    world.push_branch(REPO, BASE, {"base.txt": "moved\n"}, message="unrelated", author="carol")
    clock.advance(p.ci_seconds + 5)
    world.tick()
    return world, numbers


class Chaos:
    """Applies a plan's actions to the world: pushes, forgeries, scripted refusals."""

    def __init__(self, world: World, sim: SimServer, p: Plan) -> None:
        self.world = world
        self.sim = sim
        self.plan = p
        self.rng = random.Random(f"chaos:{p.kind}:{p.seed}")
        self.forged = 0

    @property
    def repo(self):
        return self.world.repo(REPO)

    def apply(self, action: str) -> None:
        if action.startswith("push"):
            self._push(action)
        elif action.startswith("forge"):
            self._forge(action)
        elif action == "base-modified":
            self.sim.faults.base_branch_modified(times=self.rng.randint(1, 3))

    def _push(self, action: str) -> None:
        if action == "push-base":
            n = self.rng.randint(0, 10**6)
            self.world.push_branch(REPO, BASE, {f"base{n}.txt": "x\n"}, author="carol")
            return
        open_prs = [pr for pr in self.repo.pulls.values() if pr.state == "OPEN"]
        if not open_prs:
            return
        pr = self.rng.choice(open_prs)
        files = {f"more{self.rng.randint(0, 10**6)}.txt": "more\n"}
        if action == "push-pr-break":
            files[BREAK] = "now broken\n"
        self.world.push_branch(REPO, pr.head_ref, files, author=pr.author)

    def _forge(self, action: str) -> None:
        """A sibling branch under the staging prefix with a real run's message, someone
        else's tree: the base alone (passes), a failure, or only the first PR's change."""
        git = self.repo.git
        real = [b for b in git.branches if b.startswith("tide/") and "forged" not in b]
        if not real:
            return
        source = git.commits[git.branches[self.rng.choice(real)]]
        base = git.branches[BASE]
        files: dict[str, str] = {}
        if action == "forge-fail":
            files = {BREAK: "forged failure\n"}
        elif action == "forge-partial":
            first = next(iter(source.parents[1:]), None)
            if first is not None:
                files = {k: v for k, v in git.commits[first].tree.items() if k.startswith("src/")}
        commit = self.world.commit(self.repo, [base], files, message=source.message, author="eve")
        self.forged += 1
        self.world.move_branch(self.repo, f"tide/forged-{self.forged}", commit.sha, actor="eve")


class Restart(Exception):
    """The daemon was dropped in the middle of a sync."""


class Tripwire:
    """Fires a plan's mid-sync actions when the simulator has served N requests."""

    def __init__(self, world: World, p: Plan, on_fire: Callable[[str], None]) -> None:
        self.trips = list(p.trips)
        self.on_fire = on_fire
        self.count = 0
        self.quiet_since: int | None = None  # the minute the world last looked settled
        journal = world.journal
        original = journal.record_request

        def record(request: RequestRecord) -> None:
            original(request)
            self.count += 1
            while self.trips and self.trips[0][0] <= self.count:
                self.on_fire(self.trips.pop(0)[1])

        journal.record_request = record  # type: ignore[method-assign]


@dataclass
class Outcome:
    world: World
    numbers: dict[int, str]
    plan: Plan
    restarts: int = 0
    standby_syncs: int = 0
    crashes: list[str] = field(default_factory=list)


class Instance:
    """One daemon process: dropped and rebuilt (same identity, nothing else kept) on restart."""

    def __init__(
        self, sim: SimServer, clock: VirtualClock, config: Config, name: str, seed: int
    ) -> None:
        self.sim, self.clock, self.config, self.name = sim, clock, config, name
        self.seed = seed
        self.gh: GitHub | None = None
        self.daemon: Daemon | None = None
        self.task: asyncio.Task | None = None
        self.starts = 0

    async def start(self) -> None:
        endpoint = GitHubEndpoint(self.sim.graphql_url, self.sim.api_url)
        retry = RetryPolicy(attempts=3, base_delay=1.0, max_delay=8.0)
        # Seeded back-off jitter: a run is the same run every time it is replayed.
        self.starts += 1
        rng = random.Random(f"{self.seed}:{self.name}:{self.starts}")
        self.gh = GitHub(endpoint, StaticToken(TOKEN), clock=self.clock, retry=retry, rng=rng)
        await self.gh.__aenter__()
        self.daemon = Daemon(
            ConfigHolder(self.config),
            self.gh,
            clock=self.clock,
            history=History(),
            instance=self.name,
        )

    async def stop(self) -> None:
        if self.gh is not None:
            await self.gh.__aexit__(None, None, None)
        self.gh = self.daemon = None

    async def sync(self) -> bool:
        """One sync; False when it was cut short by a restart."""
        assert self.daemon is not None
        self.task = asyncio.create_task(self.daemon.sync_once())
        try:
            report = await self.task
        except asyncio.CancelledError:
            return False
        finally:
            self.task = None
        return not report.standby

    def cut(self) -> None:
        if self.task is not None:
            self.task.cancel()


def _wrote(world: World, since: int) -> bool:
    return any(
        r.method not in ("GET", "HEAD") and r.path != "/graphql"
        for r in world.journal.requests[since:]
    )


def _next_minute(
    minute: int, busy: bool, world: World, p: Plan, start: datetime, trips: Tripwire
) -> int | None:
    """After a sync that changed nothing, the syncs before the next CI result or planned
    action would see the same world: skip them, but never more than IDLE_SKIP minutes (a
    timeout or a stand-by expiry may be what the daemon is waiting for). None: the world
    is settled (idle again after such a wait, nothing due, nothing planned): stop early."""
    if busy:
        return minute + 1
    due = world.next_event_at()
    settled = due is None and not trips.trips and not [m for m in p.events if m > minute]
    if settled and trips.quiet_since is not None and minute - trips.quiet_since > IDLE_SKIP:
        return None
    if settled and trips.quiet_since is None:
        trips.quiet_since = minute
    wake = minute + 1 + IDLE_SKIP
    if due is not None:
        wake = min(wake, max(minute + 1, math.ceil((due - start).total_seconds() / 60) - 1))
    planned = [m for m in p.events if m > minute]
    if planned:
        wake = min(wake, min(planned))
    return wake


async def run_chaos(kind: Kind, seed: int, *, minutes: int = 25) -> Outcome:
    p = plan(kind, seed, minutes=minutes)
    clock = VirtualClock()
    world, numbers = build_world(p, clock)
    kinds = p.kinds
    out = Outcome(world, numbers, p)
    rng = random.Random(f"run:{kind}:{seed}")
    async with SimServer(world) as sim:
        faults = sim.faults
        faults.seed = seed
        if Kind.SERVER_ERRORS in kinds:
            faults.error_rate = rng.uniform(0.03, 0.15)
        if Kind.RATE_LIMITS in kinds:
            faults.secondary_rate_limit_rate = rng.uniform(0.03, 0.15)
        if Kind.LOST_ANSWERS in kinds:
            faults.lost_rate = rng.uniform(0.05, 0.25)
            faults.drop_rate = rng.uniform(0.0, 0.03)
        config = _config(sim, p)
        chaos = Chaos(world, sim, p)
        instances = [Instance(sim, clock, config, "tide-a", seed)]
        if Kind.SECOND_INSTANCE in kinds:
            other = rng.choice(("tide-0", "tide-z"))  # smaller or larger than the first
            instances.append(Instance(sim, clock, config, other, seed))
        for instance in instances:
            await instance.start()
        restarting: list[Instance] = []

        def fire(action: str) -> None:
            if action == "restart":
                for instance in instances:
                    if instance.task is not None:
                        instance.cut()
                        restarting.append(instance)
                return
            chaos.apply(action)

        wire = Tripwire(world, p, fire)
        start = clock.now()
        minute = 0
        try:
            while minute < p.minutes:
                clock.advance(max(0.0, 60 * minute + 60 - (clock.now() - start).total_seconds()))
                world.tick()
                for action in p.events.get(minute, ()):
                    chaos.apply(action)
                before = len(world.journal.requests)
                order = list(instances)
                rng.shuffle(order)
                for instance in order:
                    try:
                        acted = await instance.sync()
                    except Exception as exc:  # a crash is a finding too: keep it
                        out.crashes.append(f"{type(exc).__name__}: {exc}")
                        acted = True
                    if not acted and instance not in restarting:
                        out.standby_syncs += 1
                for instance in restarting:
                    await instance.stop()
                    await instance.start()
                    out.restarts += 1
                busy = bool(restarting) or _wrote(world, before)
                if busy:
                    wire.quiet_since = None
                restarting.clear()
                following = _next_minute(minute, busy, world, p, start, wire)
                if following is None:
                    break
                minute = following
        finally:
            for instance in instances:
                await instance.stop()
    return out
