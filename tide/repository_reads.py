"""Which repositories a sync reads, and what each answered.

A sync reads the repositories its PRs are in, and also those that still hold staging
branches (to clean them up), those that could not be read last time (until they answer),
and now and then every repository the config names (one that vanished shows no PRs in the
search, so only a read says why). A repository that cannot be read becomes an errored pool;
the others run meanwhile. The reads themselves go through the `Judge` (`tide.judge`), which
keeps the merge settings they carry for judging PRs outside the sync.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import structlog

from tide.config import Config
from tide.github.records import RepositoryRead, RepositoryState, RepositoryUnreadable
from tide.judge import Judge
from tide.model import PullRequest

log = structlog.get_logger()

PROBE_EVERY = timedelta(minutes=5)  # how often every named repository is read, PRs or not
UNREACHABLE_BRANCH = "*"  # the pool that stands for a repository that cannot be read

RepoKey = tuple[str, str]  # (org, repo)
PoolKey = tuple[str, str, str]  # (org, repo, branch)


class RepositoryReads:
    """Remembers which repositories hold staging branches and which could not be read."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge  # reads the repositories, and learns their merge settings
        self._staging: set[RepoKey] = set()  # repositories holding staging branches
        # Repositories that could not be read, with why: each sync reads them again and
        # shows them as errored pools until they answer.
        self.unreachable: dict[RepoKey, str] = {}
        self._probed_at: datetime | None = None
        self.heads: dict[PoolKey, str] = {}  # this sync's default branch heads

    async def read(
        self,
        config: Config,
        groups: dict[PoolKey, list[PullRequest]],
        only: frozenset[str] | None,
        refused: Mapping[RepoKey, str],
        now: datetime,
    ) -> dict[RepoKey, RepositoryRead]:
        """Every repository this sync needs (`only`: a sync limited to those `org/repo`);
        an unreadable one gets an errored pool in `groups`. `refused`: repositories the
        search refuses (within `only`), errored pools (staging branches kept) until the
        search sees them."""

        def included(key: RepoKey) -> bool:
            return only is None or f"{key[0]}/{key[1]}" in only

        wanted = {(org, repo) for org, repo, _ in groups}
        wanted |= {r for r in self._staging if included(r)}
        if only is None:
            self._forget_unconfigured(config)
            if self._probe_due(now):
                _, named = config.org_exceptions_and_repos()
                wanted |= {(r.split("/", 1)[0], r.split("/", 1)[1]) for r in named}
        wanted |= {r for r in self.unreachable if included(r)}
        reads = await self.judge.read_repositories(config, wanted - refused.keys())
        self.heads = reads.heads
        states = reads.states
        states.update({key: RepositoryUnreadable(why) for key, why in refused.items()})
        self._note_reachability(states, groups)
        # Staging branches of pools that no longer have PRs still need cleaning up.
        for key, state in states.items():
            if not isinstance(state, RepositoryState):
                continue
            if state.staging_refs:
                self._staging.add(key)
            else:
                self._staging.discard(key)
        return states

    def staging_started(self, org: str, repo: str) -> None:
        """The repository now holds staging branches, even if its PRs leave every query
        before the next sync: keep reading it so they are cleaned up."""
        self._staging.add((org, repo))

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
        self, repos: dict[RepoKey, RepositoryRead], groups: dict[PoolKey, list[PullRequest]]
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
