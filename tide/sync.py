"""One sync: search GitHub, split the PRs into pools, and give each pool its turn:
read → evaluate (`tide.pool_reader`) → decide (`tide.planner`) → execute
(`tide.executor`) → record (`tide.recorder`).

Everything a decision needs is read fresh from GitHub here; nothing is carried over
from an earlier sync except caches of facts that cannot change (a compare of two SHAs) and
which PRs each query matches (`tide.remembered_search`: every one of them is still read in
full by the sync that judges it).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog

from tide.capacity import RunAllowance, in_flight
from tide.clock import Clock
from tide.config import Config
from tide.criteria import Verdict
from tide.execution import Execution
from tide.executor import Executor
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients
from tide.github.records import (
    RepositoryRead,
    RepositoryState,
    SearchResult,
)
from tide.github.search_query import query_string
from tide.history import History
from tide.instance import Standby, StandbyWatch
from tide.judge import Judge
from tide.model import Blocker, PullRequest, StagingRun, pool_key
from tide.narrator import Narrator
from tide.planner import decide
from tide.policy import Query
from tide.pool import Decision, Halt, PoolState
from tide.pool_reader import PoolReader, PoolUnreadable, judge_pool
from tide.recorder import PoolRecorder
from tide.remembered_search import RememberedSearch
from tide.report import PoolReport, SyncReport, repo_of
from tide.repository_reads import RepositoryReads
from tide.scoped_search import (
    RefusedScopes,
    per_org,
    scope_names,
    search_queries,
    unsearchable_reason,
)
from tide.setaside import SetAsideBook
from tide.staging_reader import StagingReader
from tide.status_writer import StatusWriter

log = structlog.get_logger()

COMPARE_LIMIT = 10  # compare calls per pool per sync when looking for an up-to-date PR
COMPARE_CACHE = 4096  # remembered compare answers, across every pool
HALT_SECONDS = 600.0  # how long a pool rests after an error only an operator can fix


@dataclass(frozen=True, slots=True)
class _Search:
    prs: list[PullRequest]
    errors: list[str]
    complete: bool


class Syncer:
    """Runs syncs against GitHub; holds only caches and the history."""

    def __init__(
        self,
        clients: Clients | GitHub,
        clock: Clock,
        history: History,
        *,
        dry_run: bool = False,
        instance: str = "",
        statuses: StatusWriter | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.clients = clients if isinstance(clients, Clients) else Clients.of(clients)
        self.clock = clock
        self.statuses = statuses or StatusWriter(clock, dry_run=dry_run, pace=self.clients.writes)
        self.judge = judge or Judge(self.clients)  # reads the facts each PR is judged on
        self.history = history
        self.dry_run = dry_run
        self.instance = instance
        self.watch = StandbyWatch(instance)
        self._executors: dict[str, Executor] = {}
        self.repositories = RepositoryReads(self.judge)
        self._halted: dict[str, Halt] = {}  # pool -> the operator error that stopped it
        self.set_aside = SetAsideBook()
        self.reader = PoolReader(self.judge, self.set_aside)
        self.recorder = PoolRecorder(history, clock, dry_run=dry_run)
        self.allowance = RunAllowance()  # CI capacity over every pool
        self._writes_left = 0  # the write budget's room left for staging builds this sync
        self.narrator = Narrator()
        self.refused = RefusedScopes()  # scopes GitHub's search refuses, left out meanwhile
        self._pool_errors: dict[str, str] = {}  # pool -> the error last logged for it
        self._staging = StagingReader(self.clients)
        # Which PRs each query matches; every sync still reads each of them in full.
        self.searched = RememberedSearch()
        self.stopping = asyncio.Event()

    async def sync(self, config: Config, repos: frozenset[str] | None = None) -> SyncReport:
        """A full sync, or with `repos` (`org/repo`) one limited to those repositories."""
        started = self.clock.now()
        self.clients.start_sync()
        found = await self._search(config, repos)
        errors = list(found.errors)
        blockers: tuple[Blocker, ...] = ()
        blocker_error = ""
        if config.blocker_label and found.prs:
            blockers, blocker_error = await self.judge.read_blockers(
                config, repos, self.refused.checked
            )
            if blocker_error:
                errors.append(blocker_error)
        groups: dict[tuple[str, str, str], list[PullRequest]] = defaultdict(list)
        for pr in found.prs:
            groups[(pr.org, pr.repo, pr.base_ref)].append(pr)
        refused = {
            key: why
            for key, why in self.refused.repos().items()
            if repos is None or f"{key[0]}/{key[1]}" in repos
        }
        states = await self.repositories.read(config, groups, repos, refused, started)
        standby = self.watch.check(
            [s for s in states.values() if isinstance(s, RepositoryState)],
            started,
            config.instance.standby_expiry,
        )
        evidence = await self._staging.runs(config, states, started)
        for (org, repo), runs in evidence.items():
            for run in runs:
                groups.setdefault((org, repo, run.branch), [])
        limit = asyncio.Semaphore(config.max_goroutines)
        protection: dict[str, tuple[str, ...]] = {}
        self.allowance.start_sync()
        # The writes this sync's staging builds may send (pools plan concurrently, so each
        # takes its share before it acts); see `tide.write_pace`.
        self._writes_left = self.clients.writes.room(started)

        async def one(key: tuple[str, str, str], prs: list[PullRequest]) -> PoolReport:
            async with limit:
                return await self._pool(
                    config,
                    key,
                    prs,
                    states,
                    blockers,
                    blocker_error,
                    found.complete,
                    protection,
                    evidence.get(key[:2], ()),
                    standby.get(f"{key[0]}/{key[1]}"),
                )

        reports = await asyncio.gather(*(one(k, v) for k, v in sorted(groups.items())))
        if repos is None and found.complete:
            hidden = {k for k in self.set_aside.reasons() if repo_of(k) in refused}
            self.set_aside.forget_missing({pr.key for pr in found.prs} | hidden)
        if repos is None:
            self._prune_history(config)
            self.allowance.forget(pool_key(*k) for k in groups)
        self.history.flush()
        report = SyncReport(
            started_at=started,
            finished_at=self.clock.now(),
            pools=tuple(reports),
            prs=tuple(found.prs),
            blockers=blockers,
            repos={
                f"{s.org}/{s.repo}": s for s in states.values() if isinstance(s, RepositoryState)
            },
            protection=protection,
            errors=tuple(errors),
            standby={repo: s.reason for repo, s in standby.items()},
            graphql_cost=self.clients.spent_this_sync(),
            rate_remaining=self.clients.remaining(),
            set_aside=self.set_aside.reasons(),
            unsearchable=frozenset(self.refused.checked),
        )
        self.narrator.sync(report)
        return report

    def _prune_history(self, config: Config) -> None:
        """Drop the history of pools whose repository no query covers any more."""

        def configured(pool: str) -> bool:
            org, _, rest = pool.partition("/")
            repo = rest.partition(":")[0]
            return bool(config.queries_for_repo(org, repo))

        dropped = self.history.prune(configured)
        if dropped:
            log.info("history_pruned", pools=sorted(dropped), reason="no query covers them")

    # -- reading ---------------------------------------------------------------------------

    async def _search(self, config: Config, repos: frozenset[str] | None) -> _Search:
        # (org, query): with a GitHub App each org's installation searches its own.
        queries: list[tuple[str, Query]] = []
        if repos is not None:
            for full in sorted(repos):
                org, repo = full.split("/", 1)
                queries += [
                    (org, replace(q, orgs=(), repos=(full,), excluded_repos=()))
                    for q in config.queries_for_repo(org, repo)
                ]
        elif self.clients.sharded:
            queries = [pair for q in config.queries for pair in per_org(q)]
        else:
            queries = [("", q) for q in config.queries]
        if repos is None:
            self.refused.forget_unless({n for q in config.queries for n in scope_names(q)})

        now = self.clock.now()

        async def search(org: str, query: Query) -> SearchResult[PullRequest]:
            gh = await self.clients.for_org(org)
            if repos is None:  # a full sync: only what changed since the last one
                return await self.searched.pull_requests(gh, org, query_string(query), now)
            return await gh.search.pull_requests(query_string(query))

        if repos is None:
            self.searched.start_sync()
        found = await search_queries(queries, search, self.refused, now, recheck=repos is None)
        if repos is None:
            self.searched.finish_sync()
        errors = [f"search: {error}" for error in found.errors]
        for error in errors:
            log.error("search_failed", error=error)
        # A refused organization hides which repositories it holds: never act on that gap.
        errors += [unsearchable_reason(org) for org in self.refused.orgs()]
        prs = sorted(found.prs.values(), key=lambda p: (p.org, p.repo, p.number))
        return _Search(prs, errors, not errors)

    async def _executor(self, org: str) -> Executor:
        executor = self._executors.get(org)
        if executor is None:
            gh = await self.clients.for_org(org)
            executor = Executor(
                gh,
                self.clock,
                dry_run=self.dry_run,
                instance=self.instance,
                statuses=self.statuses,
            )
            self._executors[org] = executor
        return executor

    # -- one pool ----------------------------------------------------------------------------

    async def _pool(
        self,
        config: Config,
        key: tuple[str, str, str],
        prs: list[PullRequest],
        repos: dict[tuple[str, str], RepositoryRead],
        blockers: Sequence[Blocker],
        blocker_error: str,
        complete: bool,
        protection_cache: dict[str, tuple[str, ...]],
        staged: Sequence[StagingRun] = (),
        standby: Standby | None = None,
    ) -> PoolReport:
        """Read → evaluate → decide → execute → record; `decide` alone says what happens."""
        org, repo, branch = key
        policy = config.branch_policy(org, repo, branch)
        now = self.clock.now()
        try:
            # The default branch's head came with the repository's state, in this sync.
            base = self.repositories.heads.get(key)
            read = await self.reader.read(key, policy, prs, repos.get((org, repo)), base)
        except (GitHubError, PoolUnreadable) as exc:
            why = str(exc) or repr(exc)  # never empty: an empty reason would read as none
            unread = PoolState(org, repo, branch, "", policy, now, unreadable=why)
            return self._failed(unread)
        if policy.context_policy.from_branch_protection:
            protection_cache[pool_key(org, repo, branch)] = read.protection
        if self._pool_errors.pop(pool_key(org, repo, branch), None) is not None:
            log.info("pool_recovered", pool=pool_key(org, repo, branch))
        aside = {
            pr.number: entry
            for pr in read.prs
            if (entry := self.set_aside.review(pr, policy, read.digest, now)) is not None
        }
        state, verdicts = judge_pool(read, key, policy, blockers, aside, staged, now)
        state = replace(
            state,
            standby=standby.reason if standby is not None else "",
            blocker_error=blocker_error,
            search_complete=complete,
            stopping=self.stopping.is_set(),
            halt=self._halted.get(state.key),
        )
        if standby is not None:
            # Another instance acts here: judge (for the status API), write nothing.
            return PoolReport(state, decide(state), verdicts)
        self.recorder.failed_runs(state, self.narrator.runs_finished(state), read.prs)
        if not blocker_error:  # otherwise the pool waits whatever these say: not read
            contains = await self.reader.contains_base(read.gh, state)
            cap = config.queue.max_concurrent_runs_total
            room = self.allowance.room(cap, state.key, in_flight(state.runs))
            writes = min(self._writes_left, self.clients.writes.room(self.clock.now()))
            state = replace(state, contains_base=contains, run_room=room, write_room=writes)
        decision = decide(state)
        if decision.error:
            return PoolReport(state, decision, verdicts, error=decision.error)
        execution = await self._execute(state, decision, verdicts)
        if execution.refused:
            await self._set_aside(read.gh, state, execution, read.digest)
        if execution.operator_error:
            until = now + timedelta(seconds=HALT_SECONDS)
            self._halted[state.key] = Halt(until, execution.operator_error)
        self.recorder.record(state, decision, execution)
        self.narrator.pool(state, decision, execution, now)
        return PoolReport(state, decision, verdicts, execution, execution.operator_error)

    async def _execute(
        self, state: PoolState, decision: Decision, verdicts: Sequence[Verdict]
    ) -> Execution:
        if not self.dry_run:
            # Taken now, before any await lets another pool ask, and whether or not each
            # start succeeds: the cap errs on the safe side.
            self.allowance.started(state.key, sum(t.runs for t in decision.triggers))
            self._writes_left -= sum(t.writes for t in decision.triggers)
            if decision.triggers:
                self.repositories.staging_started(state.org, state.repo)
        try:
            executor = await self._executor(state.org)
            return await executor.execute(state, decision, {v.pr.number: v for v in verdicts})
        except GitHubError as exc:
            return Execution(errors=[str(exc)])

    async def _set_aside(
        self, gh: GitHub, state: PoolState, execution: Execution, digest: str
    ) -> None:
        """GitHub refused these merges: leave the PRs out until something changes."""
        if not digest:
            try:
                digest = await gh.rest.branch_protection_digest(state.org, state.repo, state.branch)
            except GitHubError as exc:
                log.warning("protection_unread", pool=state.key, error=str(exc))
        for pr, reason in execution.refused:
            self.set_aside.refuse(pr, reason, self.clock.now(), digest)

    def clear_halts(self) -> None:
        """A config change may be the fix an operator made: try stopped pools again."""
        self._halted.clear()

    def _failed(self, state: PoolState) -> PoolReport:
        """A pool that could not be read: said once in the log, then waits (`decide`)."""
        error = state.unreadable
        said = error in self.repositories.unreachable.values()  # `repository_unreachable` said it
        if self._pool_errors.get(state.key) != error and not said:
            log.error("pool_failed", pool=state.key, error=error)
        self._pool_errors[state.key] = error
        return PoolReport(state, decide(state), (), error=error)
