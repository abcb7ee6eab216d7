"""Assembling the answer for one PR from what the daemon knows, reading GitHub only for a PR
that no pool's search found (it lacks a label, say): then the same `criteria.evaluate`
judges it, with the same repository settings, protection and blockers the sync used."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tide.bounded import Lru
from tide.config import Config
from tide.criteria import Verdict, evaluate
from tide.github.client import GitHub
from tide.github.errors import NotFound
from tide.github.search_query import open_prs_query
from tide.history import History, Record
from tide.model import PullRequest, RepoSettings, pool_key
from tide.report import SyncReport
from tide.status_text import Status, expected_status
from tide.views.explain import Explanation, NotOpenState, explain, not_covered, not_open
from tide.views.overview import done_of
from tide.views.throttle import ClientLimiter

LOOKUP_CACHE = 256  # answers about PRs outside the pools, kept until the next sync
SEARCH_CACHE = 64  # branches whose open PRs were listed for such answers


@dataclass(frozen=True, slots=True)
class NotOpen:
    """A lookup that found no open PR, with GitHub's word for why: "merged", "closed", or
    "" when it did not say (no such PR, or its search index lags behind a new one)."""

    state: NotOpenState = ""


@dataclass
class PRLookup:
    """Finds open PRs outside every pool. Answers are kept until the next sync report (at
    most `LOOKUP_CACHE` of them), so a page that refreshes itself costs GitHub one lookup per
    PR per sync at most; concurrent asks for one PR share one lookup, and each client may
    start only so many (`limiter`)."""

    gh: GitHub
    limiter: ClientLimiter = field(default_factory=ClientLimiter)
    _report: SyncReport | None = None
    _answers: Lru[tuple[str, str, int], PullRequest | NotOpen] = field(
        default_factory=lambda: Lru(LOOKUP_CACHE)
    )
    _searches: Lru[tuple[str, str, str], dict[int, PullRequest]] = field(
        default_factory=lambda: Lru(SEARCH_CACHE)
    )
    _inflight: dict[tuple[str, str, int], asyncio.Future[PullRequest | NotOpen]] = field(
        default_factory=dict
    )

    @property
    def cached(self) -> int:
        return len(self._answers)

    async def open_pr(
        self,
        org: str,
        repo: str,
        number: int,
        report: SyncReport | None,
        *,
        client: str = "",
        now: datetime | None = None,
    ) -> PullRequest | NotOpen:
        """The open PR, or GitHub's word for why not.

        With `client` (a reader of the status server), a lookup that has to ask GitHub
        counts against that client's allowance: `LookupThrottled` past it."""
        if report is not self._report:
            self._report = report
            self._answers.clear()
            self._searches.clear()
        key = (org, repo, number)
        if key in self._answers:
            return self._answers[key]
        pending = self._inflight.get(key)
        if pending is None:
            if client and now is not None:
                self.limiter.take(client, now)
            pending = asyncio.ensure_future(self._find(org, repo, number))
            self._inflight[key] = pending
            pending.add_done_callback(lambda _done: self._inflight.pop(key, None))
        # Shielded: one reader closing its page must not cancel the others' answer.
        answer = await asyncio.shield(pending)
        self._answers[key] = answer
        return answer

    async def _find(self, org: str, repo: str, number: int) -> PullRequest | NotOpen:
        try:
            pull = await self.gh.rest.get_pull(org, repo, number)
        except NotFound:
            return NotOpen()
        if pull.state != "open":
            return NotOpen("merged" if pull.merged else "closed")
        # GitHub has no GraphQL search by number: list the branch's open PRs once.
        branch = (org, repo, pull.base_ref)
        if branch not in self._searches:
            query = f'{open_prs_query({}, {f"{org}/{repo}"})} base:"{pull.base_ref}"'
            found = await self.gh.search.pull_requests(query)
            self._searches[branch] = {pr.number: pr for pr in found.items}
        pr = self._searches[branch].get(number)
        if pr is None:
            return NotOpen()  # GitHub's search index lags behind a PR opened moments ago
        return (await self.gh.complete_head_contexts([pr]))[0]

    async def verdict(self, config: Config, report: SyncReport | None, pr: PullRequest) -> Verdict:
        policy = config.branch_policy(pr.org, pr.repo, pr.base_ref)
        settings = await self._settings(config, report, pr)
        protection: tuple[str, ...] = ()
        if policy.context_policy.from_branch_protection:
            key = pool_key(pr.org, pr.repo, pr.base_ref)
            if report is not None and key in report.protection:
                protection = report.protection[key]
            else:
                contexts = await self.gh.rest.branch_protection_contexts(
                    pr.org, pr.repo, pr.base_ref
                )
                protection = tuple(contexts or ())
        blockers = report.blockers if report is not None else ()
        return evaluate(pr, policy, settings, protection, blockers)

    async def _settings(
        self, config: Config, report: SyncReport | None, pr: PullRequest
    ) -> RepoSettings:
        if report is not None and pr.repo_key in report.repos:
            return report.repos[pr.repo_key].settings
        prefix = config.queue.options_for(pr.org, pr.repo).staging_prefix
        return (await self.gh.repository_state(pr.org, pr.repo, prefix)).settings


@dataclass
class Knowledge:
    """What an answer is built from: the daemon's last sync and records, or `--direct`'s."""

    config: Config
    report: SyncReport | None
    history: History
    lookup: PRLookup
    expected: Mapping[str, Status] = field(default_factory=dict)
    eligible_since: Callable[[str], datetime | None] = lambda _key: None
    client: str = ""  # who asks (the status server's reader), for `PRLookup`'s allowance

    def repo_history(self, org: str, repo: str) -> list[Record]:
        prefix = f"{org}/{repo}:"
        records = [
            r
            for key in self.history.pools()
            if key.startswith(prefix)
            for r in self.history.records(key)
        ]
        return sorted(records, key=lambda r: r.time, reverse=True)


async def explain_pr(
    know: Knowledge, org: str, repo: str, number: int, now: datetime
) -> Explanation:
    """Every criterion, the place in the queue and the history of `org/repo#number`."""
    key = f"{org}/{repo}#{number}"
    if not know.config.queries_for_repo(org, repo):
        return not_covered(org, repo, number, now)
    report = know.report
    for judged in report.pools if report is not None else ():
        for verdict in judged.verdicts:
            if verdict.pr.key != key:
                continue
            policy = judged.state.policy
            return explain(
                verdict,
                policy,
                now=now,
                state=judged.state,
                decision=judged.decision,
                done=done_of(judged),
                status=know.expected.get(key) or expected_status(verdict, policy),
                history=know.history.records(judged.key),
                eligible_since=know.eligible_since(key),
            )
    found = await know.lookup.open_pr(org, repo, number, report, client=know.client, now=now)
    if isinstance(found, NotOpen):
        return not_open(org, repo, number, know.repo_history(org, repo), now, found.state)
    verdict = await know.lookup.verdict(know.config, report, found)
    policy = know.config.branch_policy(org, repo, found.base_ref)
    pools = {p.key: p for p in report.pools} if report is not None else {}
    pool = pools.get(found.pool_key)
    return explain(
        verdict,
        policy,
        now=now,
        state=pool.state if pool is not None else None,
        decision=pool.decision if pool is not None else None,
        in_pool=False,
        status=know.expected.get(key) or expected_status(verdict, policy),
        history=know.history.records(found.pool_key),
    )
