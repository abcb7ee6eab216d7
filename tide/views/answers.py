"""Assembling the answer for one PR from what the daemon knows, reading GitHub only for a PR
that no pool's search found (it lacks a label, say), through its own org's client: then the
`Judge` the status pass uses judges it, with the facts the sync read."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from tide.bounded import Lru
from tide.config import Config
from tide.github.errors import NotFound
from tide.github.search_query import open_prs_query
from tide.history import History, Record
from tide.judge import Judge
from tide.model import PullRequest
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

    judge: Judge
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
        # With a GitHub App only the PR's own org's installation can see it.
        gh = await self.judge.clients.for_org(org)
        try:
            pull = await gh.rest.get_pull(org, repo, number)
        except NotFound:
            return NotOpen()
        if pull.state != "open":
            return NotOpen("merged" if pull.merged else "closed")
        # GitHub has no GraphQL search by number: list the branch's open PRs once.
        branch = (org, repo, pull.base_ref)
        if branch not in self._searches:
            query = f'{open_prs_query({}, {f"{org}/{repo}"})} base:"{pull.base_ref}"'
            found = await gh.search.pull_requests(query)
            self._searches[branch] = {pr.number: pr for pr in found.items}
        pr = self._searches[branch].get(number)
        if pr is None:
            return NotOpen()  # GitHub's search index lags behind a PR opened moments ago
        return (await gh.complete_head_contexts([pr]))[0]


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
    verdict = await know.lookup.judge.verdict(know.config, report, found)
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
