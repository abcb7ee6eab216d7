"""One sync: search GitHub, split the PRs into pools, judge them, plan, act, record.

Everything a decision needs is read fresh from GitHub here; nothing is carried over
from an earlier sync except caches of facts that cannot change (a compare of two SHAs).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from tide import happenings
from tide.bounded import Lru
from tide.capacity import RunAllowance, in_flight
from tide.clock import Clock
from tide.config import Config
from tide.criteria import Code, effective_context_policy, evaluate
from tide.culprit import broken_status
from tide.executor import Execution, Executor
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients
from tide.github.records import (
    RepositoryRead,
    RepositoryState,
    RepositoryUnreadable,
    SearchResult,
)
from tide.github.repo_states import RepositoryStates
from tide.github.search_query import blocker_org_queries, blocker_query, query_string
from tide.history import History, Record, targets
from tide.instance import Standby, StandbyWatch
from tide.model import Blocker, PullRequest, StagedPR, StagingRun, pool_key
from tide.narrator import Narrator
from tide.planner import decide
from tide.policy import BranchPolicy, ContextPolicy, FailureStrategy, Query
from tide.pool import RECORDED, Action, Decision, Halt, PoolState
from tide.report import PoolReport, SyncReport, repo_of
from tide.scoped_search import (
    RefusedScopes,
    narrowed,
    scope_names,
    search_queries,
    unsearchable_reason,
)
from tide.setaside import SetAsideBook
from tide.staging import RunResult, evaluate_run, expected_contexts
from tide.staging_reader import StagingReader
from tide.strategies.steps import heads_to_compare

log = structlog.get_logger()

COMPARE_LIMIT = 10  # compare calls per pool per sync when looking for an up-to-date PR
COMPARE_CACHE = 4096  # remembered compare answers, across every pool
HALT_SECONDS = 600.0  # how long a pool rests after an error only an operator can fix
PROBE_EVERY = timedelta(minutes=5)  # how often every named repository is read, PRs or not
UNREACHABLE_BRANCH = "*"  # the pool that stands for a repository that cannot be read


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
    ) -> None:
        self.clients = clients if isinstance(clients, Clients) else Clients.of(clients)
        self.clock = clock
        self.history = history
        self.dry_run = dry_run
        self.instance = instance
        self.watch = StandbyWatch(instance)
        self._executors: dict[str, Executor] = {}
        # (org, repo, base sha, head sha) -> whether the head contains the base; a new base
        # sha makes every old entry useless, so the oldest are simply forgotten.
        self._compare: Lru[tuple[str, str, str, str], bool] = Lru(COMPARE_CACHE)
        self._last_wait: dict[str, str] = {}
        self._staging_repos: set[tuple[str, str]] = set()
        self._repo_states = RepositoryStates()  # keeps only repositories' node ids
        self._heads: dict[tuple[str, str, str], str] = {}  # this sync's default branch heads
        self._halted: dict[str, Halt] = {}  # pool -> the operator error that stopped it
        self.set_aside = SetAsideBook()
        self.allowance = RunAllowance()  # CI capacity over every pool
        self.narrator = Narrator()
        # Repositories that could not be read, with why: each sync reads them again and
        # shows them as errored pools until they answer; the others run meanwhile.
        self.unreachable: dict[tuple[str, str], str] = {}
        self.refused = RefusedScopes()  # scopes GitHub's search refuses, left out meanwhile
        self._pool_errors: dict[str, str] = {}  # pool -> the error last logged for it
        self._probed_at: datetime | None = None
        self._staging = StagingReader(self.clients)
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
            blockers, blocker_error = await self._blockers(config, repos)
            if blocker_error:
                errors.append(blocker_error)
        groups: dict[tuple[str, str, str], list[PullRequest]] = defaultdict(list)
        for pr in found.prs:
            groups[(pr.org, pr.repo, pr.base_ref)].append(pr)
        wanted = {(org, repo) for org, repo, _ in groups}
        wanted |= {r for r in self._staging_repos if repos is None or f"{r[0]}/{r[1]}" in repos}
        if repos is None:
            self._forget_unconfigured(config)
            if self._probe_due(started):
                # A named repository that vanished (renamed, access revoked) shows no PRs in
                # the search: read every named one now and then so its pool reports why.
                _, named = config.org_exceptions_and_repos()
                wanted |= {(r.split("/", 1)[0], r.split("/", 1)[1]) for r in named}
        wanted |= {r for r in self.unreachable if repos is None or f"{r[0]}/{r[1]}" in repos}
        refused = {
            key: why
            for key, why in self.refused.repos().items()
            if repos is None or f"{key[0]}/{key[1]}" in repos
        }
        states = await self._repositories(config, wanted - refused.keys())
        # Errored pools, staging branches kept, until search sees them.
        states.update({key: RepositoryUnreadable(why) for key, why in refused.items()})
        self._note_reachability(states, groups)
        standby = self.watch.check(
            [s for s in states.values() if isinstance(s, RepositoryState)],
            started,
            config.instance.standby_expiry,
        )
        # Staging branches of pools that no longer have PRs still need cleaning up.
        for (org, repo), state in states.items():
            if not isinstance(state, RepositoryState):
                continue
            if state.staging_refs:
                self._staging_repos.add((org, repo))
            else:
                self._staging_repos.discard((org, repo))
        evidence = await self._staging.runs(config, states, started)
        for (org, repo), runs in evidence.items():
            for run in runs:
                groups.setdefault((org, repo, run.branch), [])
        limit = asyncio.Semaphore(config.max_goroutines)
        protection: dict[str, tuple[str, ...]] = {}
        self.allowance.start_sync()

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
            for q in config.queries:
                for org in sorted({n.split("/", 1)[0] for n in scope_names(q)}):
                    names = [n for n in scope_names(q) if n.split("/", 1)[0] == org]
                    queries.append((org, narrowed(q, names)))
        else:
            queries = [("", q) for q in config.queries]
        if repos is None:
            self.refused.forget_unless({n for q in config.queries for n in scope_names(q)})

        async def search(org: str, query: Query) -> SearchResult[PullRequest]:
            gh = await self.clients.for_org(org)
            return await gh.search.pull_requests(query_string(query))

        now = self.clock.now()
        found = await search_queries(queries, search, self.refused, now, recheck=repos is None)
        errors = [f"search: {error}" for error in found.errors]
        for error in errors:
            log.error("search_failed", error=error)
        # A refused organization hides which repositories it holds: never act on that gap.
        errors += [unsearchable_reason(org) for org in self.refused.orgs()]
        prs = sorted(found.prs.values(), key=lambda p: (p.org, p.repo, p.number))
        return _Search(prs, errors, not errors)

    async def _blockers(
        self, config: Config, only: frozenset[str] | None
    ) -> tuple[tuple[Blocker, ...], str]:
        orgs, repos = config.org_exceptions_and_repos()
        if only is not None:
            orgs, repos = {}, only
        # A name the search refuses would make GitHub refuse the whole blocker search too.
        orgs = {o: e for o, e in orgs.items() if o not in self.refused.checked}
        repos = frozenset(r for r in repos if r not in self.refused.checked)
        label = config.blocker_label
        if self.clients.sharded:
            queries = list(blocker_org_queries(label, orgs, repos).items())
        else:
            queries = [("", blocker_query(label, orgs, repos))]
        found: list[Blocker] = []
        for org, text in queries:
            try:
                result = await (await self.clients.for_org(org)).search.issues(text)
            except GitHubError as exc:
                return (), f"could not read blocker issues: {exc}"
            if result.error is not None:
                return (), f"could not read blocker issues: {result.error}"
            found += result.items
        return tuple(found), ""

    async def _repositories(
        self, config: Config, repos: Iterable[tuple[str, str]]
    ) -> dict[tuple[str, str], RepositoryRead]:
        """Every repository's state, 100 a request (`tide.github.repo_states`); the default
        branch heads read with them serve this sync's pools on those branches."""
        by_org: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        for org, repo in sorted(set(repos)):
            by_org[org][(org, repo)] = config.queue.options_for(org, repo).staging_prefix
        states: dict[tuple[str, str], RepositoryRead] = {}
        self._heads = {}
        for org, wanted in by_org.items():
            try:
                gh = await self.clients.for_org(org)
            except GitHubError as exc:
                for o, r in wanted:
                    states[(o, r)] = RepositoryUnreadable(f"cannot reach repository {o}/{r}: {exc}")
                continue
            reads = await self._repo_states.read(gh, wanted)
            states.update(reads.states)
            self._heads.update(reads.heads)
        return states

    def mark_unreachable(self, repos: dict[str, str]) -> None:
        """Repositories the start-up check could not read (`org/repo` -> why)."""
        for full, why in repos.items():
            org, _, repo = full.partition("/")
            self.unreachable[(org, repo)] = why

    def _probe_due(self, now: datetime) -> bool:
        if self._probed_at is not None and now - self._probed_at < PROBE_EVERY:
            return False
        self._probed_at = now
        return True

    def _forget_unconfigured(self, config: Config) -> None:
        """A repository taken out of the config is no longer an errored pool."""
        orgs, named = config.org_exceptions_and_repos()
        for org, repo in list(self.unreachable):
            if f"{org}/{repo}" not in named and org not in orgs:
                del self.unreachable[(org, repo)]

    def _note_reachability(
        self,
        repos: dict[tuple[str, str], RepositoryRead],
        groups: dict[tuple[str, str, str], list[PullRequest]],
    ) -> None:
        """Keep unreachable repositories visible as errored pools; log each change once."""
        for (org, repo), state in repos.items():
            if isinstance(state, RepositoryUnreadable):
                if self.unreachable.get((org, repo)) != state.reason:
                    log.error("repository_unreachable", repo=f"{org}/{repo}", error=state.reason)
                self.unreachable[(org, repo)] = state.reason
                if not any(k[:2] == (org, repo) for k in groups):
                    groups[(org, repo, UNREACHABLE_BRANCH)] = []
            elif self.unreachable.pop((org, repo), None) is not None:
                log.info("repository_reachable", repo=f"{org}/{repo}")

    async def _executor(self, org: str) -> Executor:
        executor = self._executors.get(org)
        if executor is None:
            gh = await self.clients.for_org(org)
            executor = Executor(gh, self.clock, dry_run=self.dry_run, instance=self.instance)
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
        repo_state = repos.get((org, repo))
        empty = PoolState(org, repo, branch, "", policy, now)
        try:
            if not isinstance(repo_state, RepositoryState):
                why = repo_state.reason if repo_state else f"no data for {org}/{repo}"
                raise _PoolError(why)
            gh = await self.clients.for_org(org)
            # The default branch's head came with the repository's state, in this sync;
            # `lanes` also needs its tree (a stacked run lands only on the tree it was built on).
            base = self._heads.get(key)
            base_tree = ""
            if base is None or policy.queue.batch_failure_strategy == FailureStrategy.LANES:
                head = await gh.branch_commit(org, repo, branch)
                base, base_tree = head if head is not None else (None, "")
            if base is None:
                raise _PoolError(f"base branch {branch} does not exist")
            protection: tuple[str, ...] = ()
            if policy.context_policy.from_branch_protection:
                found = await gh.rest.branch_protection_contexts(org, repo, branch)
                protection = tuple(found or ())
                protection_cache[pool_key(org, repo, branch)] = protection
            prs = await gh.complete_head_contexts(prs)
            digest = ""
            if self.set_aside.needs_protection(prs, policy):
                digest = await gh.rest.branch_protection_digest(org, repo, branch)
        except (GitHubError, _PoolError) as exc:
            return self._failed(empty, prs, f"{exc}")
        if self._pool_errors.pop(pool_key(org, repo, branch), None) is not None:
            log.info("pool_recovered", pool=pool_key(org, repo, branch))
        pool_blockers = tuple(b for b in blockers if b.applies_to(org, repo, branch))
        aside = {
            pr.number: entry
            for pr in prs
            if (entry := self.set_aside.review(pr, policy, digest, now)) is not None
        }
        verdicts = tuple(
            evaluate(
                pr,
                policy,
                repo_state.settings,
                protection,
                pool_blockers,
                refused=aside[pr.number].reason if pr.number in aside else None,
            )
            for pr in prs
        )
        cp = effective_context_policy(policy, protection)
        halt = self._halted.get(pool_key(org, repo, branch))
        state = PoolState(
            org=org,
            repo=repo,
            branch=branch,
            base_sha=base,
            base_tree=base_tree,
            policy=policy,
            now=now,
            eligible=tuple(v.pr for v in verdicts if v.eligible),
            broken=frozenset(
                StagedPR(v.pr.number, v.pr.head_sha)
                for v in verdicts
                if any(r.code == Code.BROKEN for r in v.blocking)
            ),
            runs=self._runs(staged, branch, prs, cp, policy, now),
            blockers=pool_blockers,
            set_aside=frozenset(StagedPR(n, e.head_sha) for n, e in aside.items()),
            merge_methods={v.pr.number: v.method for v in verdicts if v.method is not None},
            protection=protection,
            standby=standby.reason if standby is not None else "",
            blocker_error=blocker_error,
            search_complete=complete,
            stopping=self.stopping.is_set(),
            halt=halt,
        )
        if standby is not None:
            # Another instance acts here: judge (for the status API), write nothing.
            return PoolReport(state, decide(state), verdicts)
        by_number = {pr.number: pr for pr in prs}
        for failed in self.narrator.runs_finished(state):
            record = happenings.failed_run(failed, by_number, now)
            self.history.record(state.key, record)
        if not blocker_error:  # otherwise the pool waits whatever these say: not read
            state = replace(state, contains_base=await self._contains_base(gh, state))
            room = self.allowance.room(
                config.queue.max_concurrent_runs_total, state.key, in_flight(state.runs)
            )
            state = replace(state, run_room=room)
        decision = decide(state)
        if decision.error:
            return PoolReport(state, decision, verdicts, error=decision.error)
        if not self.dry_run:
            # Taken now, before any await lets another pool ask, and whether or not each
            # start succeeds: the cap errs on the safe side.
            self.allowance.started(state.key, len(decision.triggers))
            if decision.triggers:
                # The repository now holds staging branches, even if its PRs leave every
                # query before the next sync: keep reading it so they are cleaned up.
                self._staging_repos.add((org, repo))
        try:
            executor = await self._executor(org)
            execution = await executor.execute(state, decision, {v.pr.number: v for v in verdicts})
        except GitHubError as exc:
            execution = Execution(errors=[str(exc)])
        if execution.refused:
            await self._set_aside(gh, state, execution, digest)
        if execution.operator_error:
            self._halted[state.key] = Halt(
                now + timedelta(seconds=HALT_SECONDS), execution.operator_error
            )
        self._record(state, decision, execution)
        self.narrator.pool(state, decision, execution, now)
        return PoolReport(state, decision, verdicts, execution, execution.operator_error)

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

    def _failed(self, state: PoolState, prs: list[PullRequest], error: str) -> PoolReport:
        said = error in self.unreachable.values()  # `repository_unreachable` said it
        if self._pool_errors.get(state.key) != error and not said:
            log.error("pool_failed", pool=state.key, error=error)
        self._pool_errors[state.key] = error
        return PoolReport(state, Decision(Action.WAIT, error), (), error=error)

    def _runs(
        self,
        staged: Sequence[StagingRun],
        branch: str,
        prs: Sequence[PullRequest],
        cp: ContextPolicy,
        policy: BranchPolicy,
        now: datetime,
    ) -> tuple[RunResult, ...]:
        by_number = {pr.number: pr for pr in prs}
        results = []
        for run in staged:
            if run.branch != branch:
                continue
            members = [by_number[p.number] for p in run.prs if p.number in by_number]
            expected = expected_contexts(members, cp, policy.status_context)
            results.append(
                evaluate_run(run, expected, cp, policy.queue, now, policy.status_context)
            )
        return tuple(results)

    async def _contains_base(self, gh: GitHub, state: PoolState) -> dict[str, bool]:
        """Whether each head that could merge directly contains the base commit, in the
        planner's order (`heads_to_compare`) until one does; at most `COMPARE_LIMIT` calls.
        What could not be read stays unknown, and the planner does not merge on it."""
        known: dict[str, bool] = {}
        calls = 0
        for pr in heads_to_compare(state):
            key = (state.org, state.repo, state.base_sha, pr.head_sha)
            if key not in self._compare:
                if calls >= COMPARE_LIMIT:
                    break
                calls += 1
                try:
                    status = await gh.rest.compare(
                        state.org, state.repo, state.base_sha, pr.head_sha
                    )
                except GitHubError as exc:
                    log.warning("compare_failed", pool=state.key, error=str(exc))
                    break
                self._compare[key] = status in ("ahead", "identical")
            known[pr.head_sha] = self._compare[key]
            if known[pr.head_sha]:
                break
        return known

    # -- recording ---------------------------------------------------------------------------

    def _record(self, state: PoolState, decision: Decision, execution: Execution) -> None:
        fields = {
            "pool": state.key,
            "action": decision.action.value,
            "prs": [pr.key for pr in decision.prs],
            "base": state.base_sha,
            "reason": decision.reason,
        }
        if decision.action == Action.WAIT:
            if self._last_wait.get(state.key) != decision.reason:
                log.info("pool", **fields)
            self._last_wait[state.key] = decision.reason
        else:
            self._last_wait.pop(state.key, None)
            log.info(
                "pool",
                **fields,
                merged=[p.key for p in execution.merged],
                dropped=[str(d) for d in execution.dropped],
                err=execution.err,
            )
        if execution.operator_error:
            log.error("operator_action_needed", pool=state.key, error=execution.operator_error)
        now = self.clock.now()
        for found in decision.culprits:
            status = broken_status(state, found)
            self.history.record(state.key, happenings.culprit(found, state.base_sha, status, now))
        for pr, why in execution.refused:
            self.history.record(state.key, happenings.set_aside(pr, why, state.base_sha, now))
        if decision.action not in RECORDED:
            return
        reason = decision.reason if not self.dry_run else f"dry-run: {decision.reason}"
        if execution.refused:
            reason += "; set aside " + "; ".join(
                f"#{pr.number}: GitHub refused the merge: {why}" for pr, why in execution.refused
            )
        if execution.dropped:
            reason += "; left out " + "; ".join(str(d) for d in execution.dropped)
        self.history.record(
            state.key,
            Record(
                time=self.clock.now(),
                action=decision.action.value,
                base_sha=state.base_sha,
                target=targets(decision.prs),
                err=execution.err,
                reason=reason,
                failed=tuple(execution.failed),
            ),
        )


class _PoolError(Exception):
    pass
