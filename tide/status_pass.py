"""Keeping the `tide` status of every open PR in scope true, on its own schedule.

Like Tide's status controller: search every open PR of the configured orgs and repos
(incrementally, by `updated:`, with a periodic full pass), judge each with the same
criteria as the sync, and write the status only when its state or description changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from tide.clock import Clock
from tide.config import Config
from tide.criteria import Code, Verdict
from tide.github.client import GitHub
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients
from tide.github.pr_details import PullRequestRef
from tide.github.search_query import SEARCH_OVERLAP, open_prs_queries, open_prs_query
from tide.judge import Judge
from tide.model import PullRequest
from tide.report import SyncReport
from tide.status_text import Status, expected_status
from tide.status_writer import StatusWriter, Written
from tide.write_pace import QUEUE_RESERVE

log = structlog.get_logger()

# A PR read this long after its `updatedAt` cannot change again without a newer `updatedAt`
# (GitHub's are whole seconds; a little more for the clocks' difference).
SETTLED = timedelta(seconds=2)
FULL_PASS_EVERY = timedelta(minutes=30)


@dataclass
class StatusPass:
    written: int = 0
    deferred: int = 0  # writes left for a later pass by the write pace
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Write:
    gh: GitHub
    pr: PullRequest
    context: str
    want: Status
    eligible: bool


class StatusUpdater:
    def __init__(
        self,
        clients: Clients | GitHub,
        clock: Clock,
        *,
        dry_run: bool = False,
        judge: Judge | None = None,
        writer: StatusWriter | None = None,
    ) -> None:
        self.clients = clients if isinstance(clients, Clients) else Clients.of(clients)
        self.judge = judge or Judge(self.clients)
        self.writer = writer or StatusWriter(clock, dry_run=dry_run, pace=self.clients.writes)
        self.clock = clock
        self.dry_run = dry_run
        self._latest: dict[str, datetime] = {}  # per search string: newest update seen
        # Per search string, PRs of the overlap already judged at their `updatedAt`: the
        # overlap's re-search is one point a page, and these need no detail read again.
        self._handled: dict[str, dict[str, datetime]] = {}
        self._reading: dict[str, tuple[str, datetime]] = {}  # this pass's: key -> (query, at)
        self._last_full: datetime | None = None
        # By PR key, for the API and the dashboard: what each PR should show, and why.
        self.expected: dict[str, Status] = {}
        self.verdicts: dict[str, Verdict] = {}
        # PRs whose status write did not fit the pace (or failed): written on a later pass,
        # even if the incremental search does not find them again.
        self._deferred: dict[str, PullRequest] = {}
        self._standing_by: set[str] = set()  # repositories another instance acts on

    def force_full_pass(self) -> None:
        """After a config change every status may change, updated or not."""
        self._last_full = None

    async def update(self, config: Config, report: SyncReport | None) -> StatusPass:
        result = StatusPass()
        orgs, repos = config.org_exceptions_and_repos()
        if report is not None and report.unsearchable:
            # One name GitHub's search refuses would make it refuse the whole status search.
            orgs = {o: e for o, e in orgs.items() if o not in report.unsearchable}
            repos = frozenset(r for r in repos if r not in report.unsearchable)
        if not orgs and not repos:
            return result
        if self.clients.sharded:
            searches = list(open_prs_queries(orgs, repos).items())
        else:
            searches = [("", open_prs_query(orgs, repos))]
        # Another instance acts on these repositories: their statuses are its to write.
        standby = set(report.standby) if report is not None else set()
        if self._standing_by - standby:
            self._last_full = None  # taking over: every PR there, not only the updated ones
        self._standing_by = standby
        now = self.clock.now()
        full = self._last_full is None or now - self._last_full > FULL_PASS_EVERY
        found: dict[str, PullRequest] = {}
        self._reading = {}
        for org, query in searches:
            await self._search(org, query, full, found, result)
        if full and not result.errors:
            self._last_full = now
        # PRs the sync just judged are processed too, even if the search missed them;
        # the ones it merged are done (the merge set their status).
        if report is not None:
            for pool in report.pools:
                merged = {pr.key for pr in pool.execution.merged} if pool.execution else set()
                for verdict in pool.verdicts:
                    if verdict.pr.key in merged:
                        found.pop(verdict.pr.key, None)
                        self._deferred.pop(verdict.pr.key, None)
                    else:
                        found.setdefault(verdict.pr.key, verdict.pr)
        if full and not result.errors:
            # A full pass saw every open PR: the ones it did not see closed or left scope.
            self._deferred = {k: v for k, v in self._deferred.items() if k in found}
        for key, waiting in self._deferred.items():
            found.setdefault(key, waiting)  # the search's copy, when there is one, is fresher
        writes: list[_Write] = []
        mine = [pr for pr in found.values() if f"{pr.org}/{pr.repo}" not in standby]
        failed: set[str] = set()
        for pr in sorted(mine, key=lambda p: (p.org, p.repo, p.number)):
            try:
                write = await self._one(config, report, pr)
                if write is not None:
                    writes.append(write)
            except GitHubError as exc:
                result.errors.append(f"{pr.key}: {exc}")
                failed.add(pr.key)
        await self._paced_writes(writes, result)
        self._remember_handled(failed)
        for error in result.errors:
            log.warning("status_pass_error", error=error)
        return result

    async def _search(
        self, org: str, query: str, full: bool, found: dict[str, PullRequest], result: StatusPass
    ) -> None:
        """Every open PR the query covers, or only those updated since the last pass."""
        latest = self._latest.get(query)
        start = None if full or latest is None else latest - SEARCH_OVERLAP
        handled = {} if full else self._handled.get(query, {})
        read_at = self.clock.now()

        def seen(ref: PullRequestRef) -> bool:
            key = f"{ref.org}/{ref.repo}#{ref.number}"
            return ref.updated_at is not None and handled.get(key) == ref.updated_at

        try:
            gh = await self.clients.for_org(org)
            searched = await gh.search.pull_requests(query, start=start, skip=seen)
        except GitHubError as exc:
            result.errors.append(str(exc))
            return
        if searched.error is not None:
            result.errors.append(str(searched.error))
        for pr in searched.items:
            found[pr.key] = pr
            if pr.updated_at is not None and pr.updated_at <= read_at - SETTLED:
                self._reading[pr.key] = (query, pr.updated_at)
        if full:
            self._handled[query] = {}
        newest = max((pr.updated_at for pr in searched.items if pr.updated_at), default=None)
        if newest is not None and searched.error is None:
            self._latest[query] = newest

    def _remember_handled(self, failed: set[str]) -> None:
        """The PRs this pass read and judged, for the next overlap; a PR whose judging
        failed is read again, and what fell out of every overlap window is forgotten."""
        for key, (query, updated) in self._reading.items():
            if key not in failed:
                self._handled.setdefault(query, {})[key] = updated
        self._reading = {}
        for query, handled in self._handled.items():
            latest = self._latest.get(query)
            if latest is not None:
                self._handled[query] = {
                    k: t for k, t in handled.items() if t >= latest - SEARCH_OVERLAP
                }

    async def _paced_writes(self, writes: list[_Write], result: StatusPass) -> None:
        """Eligible PRs first (their status is what their authors wait for), within the
        status pass's share of GitHub's write limits; the rest wait for the next pass."""
        writes.sort(key=lambda w: (not w.eligible, w.pr.org, w.pr.repo, w.pr.number))
        for write in writes:
            try:
                done = await self.writer.write(
                    write.gh, write.pr, write.context, write.want, paced=True
                )
            except GitHubError as exc:
                result.errors.append(f"{write.pr.key}: {exc}")
                self._deferred[write.pr.key] = write.pr  # try again next pass
                continue
            if done == Written.HELD:
                self._deferred[write.pr.key] = write.pr
                result.deferred += 1
                continue
            if done == Written.WRITTEN:
                result.written += 1
            self._deferred.pop(write.pr.key, None)
        if result.deferred:
            log.info(
                "status_writes_paced",
                written=result.written,
                deferred=result.deferred,
                next_room_at=str(self.writer.pace.next_room_at(self.clock.now(), QUEUE_RESERVE)),
            )

    async def _one(
        self, config: Config, report: SyncReport | None, pr: PullRequest
    ) -> _Write | None:
        gh = await self.clients.for_org(pr.org)
        if pr.head_contexts is None:
            pr = (await gh.complete_head_contexts([pr]))[0]
        policy = config.branch_policy(pr.org, pr.repo, pr.base_ref)
        verdict = await self.judge.verdict(config, report, pr)
        want = expected_status(verdict, policy)
        self.expected[pr.key] = want
        self.verdicts[pr.key] = verdict
        retest = policy.queue.retest_label
        write = None
        if self.writer.due(pr, policy.status_context, want):
            write = _Write(gh, pr, policy.status_context, want, verdict.eligible)
        broken = any(r.code == Code.BROKEN for r in verdict.blocking)
        if retest and retest in pr.labels and not broken:
            # The retest label did its job (the failure record is gone): take it off again
            # so that a new failure is not ignored.
            if self.dry_run:
                log.info("dry_run", would="remove label", pr=pr.key, label=retest)
            else:
                await gh.rest.remove_label(pr.org, pr.repo, pr.number, retest)
                log.info("retest_label_removed", pr=pr.key, label=retest)
        return write
