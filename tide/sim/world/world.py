"""The in-memory GitHub: repositories, pull requests, issues, statuses and time, with a
Python API to build worlds and act as users do; the HTTP layers share its objects."""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta

from tide.clock import Clock, RealClock
from tide.sim.world import mergeability, merges
from tide.sim.world.budget import RateBudgets
from tide.sim.world.ci import FakeCI
from tide.sim.world.contexts import CHECK_CONCLUSIONS, STATUS_STATES
from tide.sim.world.entities import (
    CheckRunRecord,
    Protection,
    Refusal,
    SimIssue,
    SimPR,
    SimRepo,
    SimUser,
    StatusRecord,
)
from tide.sim.world.git import Commit, GitStore, apply_changes
from tide.sim.world.github_apps import Apps, visible
from tide.sim.world.hooks import Hooks
from tide.sim.world.items import DEFAULT_LOGIN, ItemActions
from tide.sim.world.journal import Journal, PushRecord

MAX_DESCRIPTION = 140


class World(ItemActions):
    """Everything the simulated GitHub knows; time-driven changes apply on `tick()`."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        tokens: Mapping[str, str] | Iterable[str] = (),
        seed: int = 0,
        mergeable_delay: float = 0.0,
        graphql_points_per_hour: int = 5000,
        rest_requests_per_hour: int = 5000,
    ) -> None:
        self.clock: Clock = clock or RealClock()
        self.seed = seed
        self.mergeable_delay = mergeable_delay
        self.users: dict[str, SimUser] = {}
        self.tokens: dict[str, str] = {}
        self._repos: dict[str, SimRepo] = {}
        self.apps = Apps(self)
        self.journal = Journal()
        self.hooks = Hooks()
        self.budgets = RateBudgets(graphql_points_per_hour, rest_requests_per_hour)
        self._ids = itertools.count(1001)
        self._events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self._event_time: datetime | None = None
        pairs = (
            tokens.items() if isinstance(tokens, Mapping) else ((t, DEFAULT_LOGIN) for t in tokens)
        )
        for token, login in pairs:
            self.add_token(token, login)

    # -- time ---------------------------------------------------------------------------

    def now(self) -> datetime:
        """Now, in whole seconds as GitHub reports time (an event's own time while it runs)."""
        return (self._event_time or self.clock.now()).replace(microsecond=0)

    def mergeable_known_at(self) -> datetime:
        """When GitHub will have computed `mergeable` for a push happening now."""
        return (self._event_time or self.clock.now()) + timedelta(seconds=self.mergeable_delay)

    def schedule(self, delay: float, action: Callable[[], None]) -> None:
        due = (self._event_time or self.clock.now()) + timedelta(seconds=max(0.0, delay))
        heapq.heappush(self._events, (due, next(self._seq), action))

    def next_event_at(self) -> datetime | None:
        return self._events[0][0] if self._events else None

    def tick(self) -> int:
        """Apply every event that is due (CI runs finishing, ...); returns how many ran."""
        ran = 0
        now = self.clock.now()
        while self._events and self._events[0][0] <= now:
            due, _, action = heapq.heappop(self._events)
            self._event_time = due
            try:
                action()
            finally:
                self._event_time = None
            ran += 1
        return ran

    def new_id(self) -> int:
        return next(self._ids)

    @property
    def repos(self) -> dict[str, SimRepo]:
        """Every repository by full name; while serving a request made with an App
        installation token, only those the installation may see (others are not found)."""
        return visible(self._repos)

    # -- users and tokens ---------------------------------------------------------------

    def user(self, login: str, *, is_bot: bool = False) -> SimUser:
        found = self.users.get(login)
        if found is None:
            bot = is_bot or login.endswith("[bot]")
            found = SimUser(login=login, id=self.new_id(), is_bot=bot)
            self.users[login] = found
        return found

    def add_token(self, token: str, login: str = DEFAULT_LOGIN, *, is_bot: bool = False) -> None:
        self.user(login, is_bot=is_bot)
        self.tokens[token] = login

    # -- repositories ---------------------------------------------------------------------

    def create_repo(
        self,
        full_name: str,
        files: Mapping[str, str] | None = None,
        *,
        default_branch: str = "main",
        allow_merge: bool = True,
        allow_squash: bool = True,
        allow_rebase: bool = True,
        archived: bool = False,
        ci: FakeCI | None = None,
    ) -> SimRepo:
        owner, _, name = full_name.partition("/")
        if not owner or not name or "/" in name:
            raise ValueError(f"repository name must be owner/name: {full_name!r}")
        if full_name in self._repos:
            raise ValueError(f"repository {full_name} exists")
        org = self.user(owner)
        org.is_org = True
        repo = SimRepo(
            owner=owner,
            name=name,
            id=self.new_id(),
            git=GitStore(),
            default_branch=default_branch,
            archived=archived,
            allow_merge=allow_merge,
            allow_squash=allow_squash,
            allow_rebase=allow_rebase,
            created_at=self.now(),
            ci=ci,
        )
        self._repos[full_name] = repo
        tree = dict(files) if files is not None else {"README.md": f"# {name}\n"}
        root = repo.git.make_commit(tree, (), "Initial commit", owner, self.now())
        self.move_branch(repo, default_branch, root.sha, actor=owner)
        return repo

    def repo(self, full_name: str | SimRepo) -> SimRepo:
        if isinstance(full_name, SimRepo):
            return full_name
        try:
            return self.repos[full_name]
        except KeyError:
            raise KeyError(f"no repository {full_name}") from None

    def set_ci(self, repo: str | SimRepo, ci: FakeCI | None) -> None:
        self.repo(repo).ci = ci

    def protect(
        self,
        repo: str | SimRepo,
        branch: str,
        *,
        contexts: Iterable[str] = (),
        strict: bool = False,
        allow_direct_push: bool = True,
        allow_force_push: bool = False,
        allow_deletion: bool = False,
        required_approving_reviews: int = 0,
    ) -> Protection:
        """Protect a branch (or an fnmatch pattern), replacing any rule with that pattern."""
        r = self.repo(repo)
        rule = Protection(
            pattern=branch,
            id=self.new_id(),
            contexts=tuple(contexts),
            strict=strict,
            allow_direct_push=allow_direct_push,
            allow_force_push=allow_force_push,
            allow_deletion=allow_deletion,
            required_approving_reviews=required_approving_reviews,
        )
        r.protections = [p for p in r.protections if p.pattern != branch] + [rule]
        return rule

    # -- commits and branches ---------------------------------------------------------------

    def commit(
        self,
        repo: str | SimRepo,
        parents: Iterable[str],
        files: Mapping[str, str] | None = None,
        *,
        deleted: Iterable[str] = (),
        message: str = "Change",
        author: str = "alice",
    ) -> Commit:
        """A new commit whose tree is the first parent's tree with `files` changed."""
        r = self.repo(repo)
        parents = tuple(parents)
        base = r.git.commits[parents[0]].tree if parents else {}
        tree = apply_changes(base, files, deleted)
        return r.git.make_commit(tree, parents, message, author, self.now())

    def push_branch(
        self,
        repo: str | SimRepo,
        branch: str,
        files: Mapping[str, str] | None = None,
        *,
        deleted: Iterable[str] = (),
        message: str = "Change",
        author: str = "alice",
        from_sha: str | None = None,
    ) -> Commit:
        """Commit on top of a branch (created from `from_sha` or the default branch) and push.

        Acts as a repository admin: branch protection does not apply here.
        """
        r = self.repo(repo)
        parent = from_sha or r.git.branches.get(branch) or r.git.branches[r.default_branch]
        commit = self.commit(r, [parent], files, deleted=deleted, message=message, author=author)
        self.move_branch(r, branch, commit.sha, actor=author)
        return commit

    def move_branch(self, repo: SimRepo, branch: str, sha: str | None, *, actor: str) -> None:
        """Point a branch at a commit (None deletes it) and apply what GitHub does on a push."""
        old = repo.git.branches.get(branch)
        if sha is None:
            if old is not None:
                repo.git.delete_branch(branch)
        else:
            repo.git.set_branch(branch, sha)
        if old == sha:
            return
        now = self.now()
        self.journal.pushes.append(PushRecord(now, repo.full_name, branch, old, sha, actor))
        affected = repo.open_on_ref(branch)
        onto_base = sha is not None and any(pr.base_ref == branch for pr in affected)
        contained = repo.git.ancestors(sha) if onto_base and sha else frozenset()
        for pr in affected:
            if pr.head_ref == branch:
                if sha is None:
                    self._close(pr)
                    continue
                repo.set_head(pr, sha)
                self._touch(pr)
                pr.mergeable_after = self.mergeable_known_at()
            elif pr.base_ref == branch:
                if sha is None:
                    self._close(pr)
                elif pr.head_sha in contained:
                    # GitHub marks a PR merged once its head is pushed onto its base.
                    merges.mark_merged(pr, now, base_before=old, merge_sha=pr.head_sha, actor=actor)
                else:
                    pr.mergeable_after = self.mergeable_known_at()
        if repo.ci is not None and sha is not None:
            repo.ci.on_branch_moved(self, repo, branch, old, sha)
        self.hooks.emit("push", repo, {"ref": f"refs/heads/{branch}", "before": old, "after": sha})

    # -- statuses and check runs -------------------------------------------------------------

    def set_status(
        self,
        repo: str | SimRepo,
        sha: str,
        context: str,
        state: str,
        *,
        description: str = "",
        target_url: str = "",
        creator: str = "ci-bot",
    ) -> StatusRecord:
        r = self.repo(repo)
        state = state.lower()
        if state not in STATUS_STATES:
            raise Refusal(422, "Validation Failed", field="state", code="invalid")
        if len(description) > MAX_DESCRIPTION:
            raise Refusal(
                422,
                "Validation Failed",
                field="description",
                code="custom",
                detail="description is too long (maximum is 140 characters)",
            )
        if sha not in r.git.commits:
            raise Refusal(422, f"No commit found for SHA: {sha}")
        record = StatusRecord(
            id=self.new_id(),
            sha=sha,
            context=context,
            state=state,
            description=description,
            target_url=target_url,
            creator=self.user(creator).login,
            created_at=self.now(),
        )
        r.statuses.setdefault(sha, []).append(record)
        # A status belongs to the commit, not the PR: GitHub leaves the PR's `updatedAt` (and
        # so `updated:` searches) alone; only the `status` event says CI changed.
        self.hooks.emit("status", r, {"sha": sha, "state": state, "context": context})
        return record

    def add_check_run(
        self,
        repo: str | SimRepo,
        sha: str,
        name: str,
        *,
        status: str = "completed",
        conclusion: str | None = "success",
        details_url: str = "",
    ) -> CheckRunRecord:
        r = self.repo(repo)
        if sha not in r.git.commits:
            raise KeyError(f"no commit {sha} in {r.full_name}")
        now = self.now()
        run = CheckRunRecord(
            id=self.new_id(),
            sha=sha,
            name=name,
            status="queued",
            conclusion=None,
            details_url=details_url,
            started_at=now,
        )
        r.check_runs.setdefault(sha, []).append(run)
        self.update_check_run(r, run, status=status, conclusion=conclusion)
        return run

    def update_check_run(
        self,
        repo: str | SimRepo,
        run: CheckRunRecord,
        *,
        status: str,
        conclusion: str | None = None,
    ) -> None:
        if status not in ("queued", "in_progress", "completed"):
            raise ValueError(f"unknown check run status {status!r}")
        if status == "completed" and conclusion not in CHECK_CONCLUSIONS:
            raise ValueError(f"a completed check run needs a conclusion, got {conclusion!r}")
        run.status = status
        run.conclusion = conclusion if status == "completed" else None
        run.completed_at = self.now() if status == "completed" else None
        # Like a status, a check run does not change its PRs' `updatedAt` on GitHub.
        payload = {"action": status, "check_run": {"name": run.name, "head_sha": run.sha}}
        self.hooks.emit("check_run", self.repo(repo), payload)

    # -- internals ----------------------------------------------------------------------------

    def merge_pr(
        self,
        pr: SimPR,
        *,
        method: str = "merge",
        sha: str | None = None,
        title: str | None = None,
        message: str | None = None,
        actor: str = DEFAULT_LOGIN,
    ) -> Commit:
        """Merge as `PUT /pulls/{n}/merge` does; raises `Refusal` with GitHub's answer."""
        return merges.merge_pull(
            self, pr, method=method, sha=sha, title=title, message=message, actor=actor
        )

    def mergeable(self, pr: SimPR) -> str:
        return mergeability.mergeable(pr, self.clock.now())

    def merge_state_status(self, pr: SimPR) -> str:
        return mergeability.merge_state_status(pr, self.clock.now())

    def _touch(self, item: SimIssue) -> None:
        item.updated_at = self.now()
        event = "pull_request" if item.is_pull else "issues"
        payload = {"action": "edited", event if item.is_pull else "issue": {"number": item.number}}
        self.hooks.emit(event, item.repo, payload)
