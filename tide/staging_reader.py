"""Reading staging branches into runs tide can act on: each branch under the prefix is
checked against tide's mark and the commit graph (`tide.evidence`) before it counts.

Kept apart from the sync so that whatever else decides which branches are ours (one instance
at a time, per-instance names) has one place to plug in. Holds only caches of facts that
never change (a commit's parents) and the foreign branches already reported.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import structlog

from tide.config import Config
from tide.evidence import graph_problem, mark_problem, unknown_step
from tide.github.errors import GitHubError
from tide.github.org_clients import Clients
from tide.github.records import RepositoryRead, RepositoryState
from tide.model import StagingRun
from tide.staging import decode_run

log = structlog.get_logger()

PARENTS_CACHE = 20_000  # commits whose parents are remembered between syncs
FOREIGN_REMEMBERED = 10_000  # foreign branches already reported (then reported once more)


class StagingReader:
    """Turns repository states into verified runs; logs each foreign branch once."""

    def __init__(self, clients: Clients) -> None:
        self.clients = clients
        self._parents: dict[str, tuple[str, ...]] = {}  # commit -> parents: never changes
        self._foreign: set[tuple[str, str, str, str]] = set()  # (org, repo, ref, sha) logged

    async def runs(
        self,
        config: Config,
        states: dict[tuple[str, str], RepositoryRead],
        now: datetime,
    ) -> dict[tuple[str, str], tuple[StagingRun, ...]]:
        """Per repository, the staging branches that really are tide's runs (`tide.evidence`);
        any other branch under the prefix is logged once as foreign and otherwise left alone."""
        out: dict[tuple[str, str], tuple[StagingRun, ...]] = {}
        for (org, repo), state in states.items():
            if not isinstance(state, RepositoryState):
                continue
            runs: list[StagingRun] = []
            for ref in state.staging_refs:
                run = decode_run(
                    org,
                    repo,
                    ref.name,
                    ref.commit_sha,
                    ref.message,
                    ref.committed_at or now,
                    ref.contexts,
                    ref.tree_sha,
                )
                try:
                    problem = (
                        "its message records no run"
                        if run is None
                        else await self._problem(config, state, run)
                    )
                except GitHubError as exc:
                    # Not foreign, not evidence: this sync cannot tell, the next one will.
                    log.warning("staging_ancestry_unread", ref=ref.name, error=str(exc))
                    continue
                if run is not None and problem is None:
                    # The mark has done its job; what the run shows is its CI.
                    status_context = config.branch_policy(org, repo, run.branch).status_context
                    ci = tuple(c for c in run.contexts if c.name != status_context)
                    runs.append(replace(run, verified=True, contexts=ci))
                    continue
                seen = (org, repo, ref.name, ref.commit_sha)
                if seen not in self._foreign:
                    if len(self._foreign) >= FOREIGN_REMEMBERED:
                        self._foreign.clear()  # anyone can push branches: stay bounded
                    self._foreign.add(seen)
                    log.warning(
                        "staging_foreign",
                        repo=f"{org}/{repo}",
                        ref=ref.name,
                        commit=ref.commit_sha,
                        why=f"not a run tide built: {problem}; ignored and left in place",
                    )
            out[(org, repo)] = tuple(runs)
        return out

    async def _problem(self, config: Config, state: RepositoryState, run: StagingRun) -> str | None:
        status_context = config.branch_policy(run.org, run.repo, run.branch).status_context
        problem = mark_problem(run, run.contexts, status_context, state.viewer_login)
        if problem is not None:
            return problem  # checked first: an unmarked branch costs no GraphQL call
        gh = await self.clients.for_org(run.org)
        for _ in run.prs:
            sha = unknown_step(run, self._parents)
            if sha is None:
                break
            found = await gh.commit_ancestry(run.org, run.repo, sha)
            if len(self._parents) > PARENTS_CACHE:
                self._parents.clear()
            self._parents.update(found)
            if sha not in found:
                break
        return graph_problem(run, self._parents)
