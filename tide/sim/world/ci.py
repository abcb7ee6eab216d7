"""A fake CI: runs contexts on new heads of PRs and staging branches, verdicts from the tree.

Pass/fail is a pure function of the files (plus seeded flakes): see `FakeCI.verdict`."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase
from functools import partial

from tide.sim.world.entities import CheckRunRecord, CIWorld, SimRepo

CI_LOGIN = "ci-bot"


@dataclass(frozen=True, slots=True)
class Job:
    """One CI context: a commit status or a check run, taking `duration` clock seconds."""

    name: str
    kind: str = "status"  # "status" or "check_run"
    duration: float = 60.0
    never_starts: bool = False  # e.g. a job that was renamed: its context never appears
    flake_rate: float | None = None  # overrides the CI's rate

    def __post_init__(self) -> None:
        if self.kind not in ("status", "check_run"):
            raise ValueError(f"job kind must be status or check_run, not {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Rule:
    """Fails a build when all of `paths` are present in the tree (one path: that file)."""

    paths: tuple[str, ...]
    contexts: tuple[str, ...] = ()  # empty: every context

    def failure(self, tree: Mapping[str, str], context: str | None) -> str | None:
        if self.contexts and context is not None and context not in self.contexts:
            return None
        if all(p in tree for p in self.paths):
            if len(self.paths) == 1:
                return f"{self.paths[0]} breaks the build"
            return f"{' and '.join(self.paths)} conflict"
        return None


def fail_if_present(path: str, *, contexts: Iterable[str] = ()) -> Rule:
    return Rule((path,), tuple(contexts))


def fail_if_all_present(*paths: str, contexts: Iterable[str] = ()) -> Rule:
    """A semantic conflict: each file alone passes, together they fail."""
    if len(paths) < 2:
        raise ValueError("a semantic conflict needs at least two paths")
    return Rule(tuple(paths), tuple(contexts))


@dataclass
class CIRun:
    repo: str
    sha: str
    context: str
    ref: str
    attempt: int
    started_at: datetime
    ended_at: datetime | None = None
    result: str | None = None  # success, failure, cancelled
    flaked: bool = False
    check_run: CheckRunRecord | None = field(default=None, repr=False)

    @property
    def done(self) -> bool:
        return self.result is not None


class FakeCI:
    def __init__(
        self,
        jobs: Iterable[Job | str] = ("ci/test",),
        *,
        branches: Iterable[str] = ("tide/*",),
        pull_requests: bool = True,
        rules: Iterable[Rule] = (),
        flake_rate: float = 0.0,
        seed: int = 0,
        cancel_superseded: bool = True,
        queue_delay: float = 0.0,
        target_url: str = "https://ci.example/{repo}/{sha}/{context}",
        late: float = 0.0,
        silent_rate: float = 0.0,
    ) -> None:
        self.jobs = tuple(j if isinstance(j, Job) else Job(j) for j in jobs)
        self.branches = tuple(branches)
        self.pull_requests = pull_requests
        self.rules = list(rules)
        self.flake_rate = flake_rate
        self.seed = seed
        self.cancel_superseded = cancel_superseded
        self.queue_delay = queue_delay
        self.target_url = target_url
        # Chaos: up to `late` extra seconds before a result, and a share of jobs that never
        # report anything at all (a lost webhook, a stuck runner), both seeded per commit.
        self.late = late
        self.silent_rate = silent_rate
        self.runs: list[CIRun] = []
        self._by_sha: dict[str, list[CIRun]] = {}

    # -- verdicts -------------------------------------------------------------------------

    def failure(self, tree: Mapping[str, str], context: str | None = None) -> str | None:
        for rule in self.rules:
            reason = rule.failure(tree, context)
            if reason:
                return reason
        return None

    def verdict(self, tree: Mapping[str, str], context: str | None = None) -> bool:
        """True when the tree passes (flakes aside); `context=None` asks about every rule."""
        return self.failure(tree, context) is None

    def flakes(self, repo: str, sha: str, context: str, attempt: int) -> bool:
        job = next((j for j in self.jobs if j.name == context), None)
        rate = self.flake_rate if job is None or job.flake_rate is None else job.flake_rate
        if rate <= 0:
            return False
        return self._draw("flake", repo, sha, context, attempt) < rate

    def _draw(self, what: str, repo: str, sha: str, context: str, attempt: int) -> float:
        """A seeded number in [0, 1) for this job on this commit."""
        key = f"{self.seed}:{what}:{repo}:{sha}:{context}:{attempt}"
        if what == "flake":  # the draw flakes have always used, kept for stable benchmarks
            key = f"{self.seed}:{repo}:{sha}:{context}:{attempt}"
        digest = hashlib.sha256(key.encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    # -- triggering -----------------------------------------------------------------------

    def triggered_by(self, repo: SimRepo, branch: str) -> bool:
        if any(fnmatchcase(branch, pattern) for pattern in self.branches):
            return True
        return self.pull_requests and any(pr.head_ref == branch for pr in repo.open_on_ref(branch))

    def on_branch_moved(
        self, world: CIWorld, repo: SimRepo, branch: str, old: str | None, new: str
    ) -> None:
        if not self.triggered_by(repo, branch):
            return
        if self.cancel_superseded and old is not None:
            self._cancel(world, repo, old, branch)
        self.start(world, repo, new, ref=branch, again=False)

    def start(
        self, world: CIWorld, repo: SimRepo, sha: str, *, ref: str = "", again: bool = True
    ) -> list[CIRun]:
        """Start every job on `sha` (`again=False` skips jobs already run or running there)."""
        started: list[CIRun] = []
        for job in self.jobs:
            if job.never_starts:
                continue
            previous = [r for r in self._by_sha.get(sha, ()) if r.context == job.name]
            if not again and any(r.result != "cancelled" for r in previous):
                continue
            attempt = len(previous) + 1
            if self.silent_rate and (
                self._draw("silent", repo.full_name, sha, job.name, attempt) < self.silent_rate
            ):
                continue
            run = CIRun(repo.full_name, sha, job.name, ref, attempt, world.now())
            self.runs.append(run)
            self._by_sha.setdefault(sha, []).append(run)
            started.append(run)
            url = self._url(repo, sha, job.name)
            if job.kind == "status":
                world.set_status(
                    repo,
                    sha,
                    job.name,
                    "pending",
                    description="Running",
                    target_url=url,
                    creator=CI_LOGIN,
                )
            else:
                run.check_run = world.add_check_run(
                    repo, sha, job.name, status="queued", conclusion=None, details_url=url
                )
                world.schedule(self.queue_delay, partial(self._begin, world, repo, run))
            duration = job.duration
            if self.late:
                duration += self.late * self._draw("late", repo.full_name, sha, job.name, attempt)
            world.schedule(duration, partial(self._finish, world, repo, run, job))
        return started

    def runs_on(self, sha: str) -> list[CIRun]:
        return list(self._by_sha.get(sha, ()))

    def _begin(self, world: CIWorld, repo: SimRepo, run: CIRun) -> None:
        if run.check_run is not None and not run.done:
            world.update_check_run(repo, run.check_run, status="in_progress")

    def _finish(self, world: CIWorld, repo: SimRepo, run: CIRun, job: Job) -> None:
        if run.done:
            return
        reason = self.failure(repo.git.commits[run.sha].tree, run.context)
        if reason is None and self.flakes(repo.full_name, run.sha, run.context, run.attempt):
            run.flaked = True
            reason = "flaky failure"
        run.result = "failure" if reason else "success"
        run.ended_at = world.now()
        if job.kind == "status":
            world.set_status(
                repo,
                run.sha,
                run.context,
                run.result,
                description=(reason or "Passed")[:140],
                target_url=self._url(repo, run.sha, run.context),
                creator=CI_LOGIN,
            )
        elif run.check_run is not None:
            world.update_check_run(repo, run.check_run, status="completed", conclusion=run.result)

    def _cancel(self, world: CIWorld, repo: SimRepo, sha: str, branch: str) -> None:
        still_head = any(
            head == sha and name != branch and self.triggered_by(repo, name)
            for name, head in repo.git.branches.items()
        )
        if still_head:
            return
        for run in self._by_sha.get(sha, ()):
            if run.done or run.ref != branch:
                continue
            run.result = "cancelled"
            run.ended_at = world.now()
            if run.check_run is not None:
                world.update_check_run(
                    repo, run.check_run, status="completed", conclusion="cancelled"
                )
            else:
                world.set_status(
                    repo,
                    sha,
                    run.context,
                    "error",
                    description="Cancelled: superseded by a newer push",
                    target_url=self._url(repo, sha, run.context),
                    creator=CI_LOGIN,
                )

    def _url(self, repo: SimRepo, sha: str, context: str) -> str:
        return self.target_url.format(repo=repo.full_name, sha=sha, context=context)
