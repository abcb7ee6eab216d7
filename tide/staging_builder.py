"""Starting a staging run on GitHub: a scratch branch at the base (or at the run it
stacks on), each PR's tested head merged in, in order (one that conflicts is left out),
the commit marked as tide's, and only then the staging branch pointed at it, so an
unmarked staging commit is never taken for evidence (`tide.evidence`).
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from tide.clock import Clock
from tide.evidence import claimed_id, mark_description
from tide.execution import Dropped, Execution
from tide.github.client import GitHub
from tide.github.errors import MergeConflict, RefExists
from tide.model import StagedPR, StagingRun
from tide.pool import PoolState, Trigger, stacked_on
from tide.staging import commit_message, run_id, run_salt, scratch_ref, staging_ref

log = structlog.get_logger()


class StagingBuilder:
    """Starts staging runs through a `GitHub` client; with `dry_run` it only logs them."""

    def __init__(
        self, gh: GitHub, clock: Clock, *, dry_run: bool = False, instance: str = ""
    ) -> None:
        self.gh = gh
        self.clock = clock
        self.dry_run = dry_run
        self.instance = instance

    async def start(self, pool: PoolState, trigger: Trigger, out: Execution) -> None:
        """Build the run's commit on a scratch branch, mark it, then point the staging
        branch at it; what was started or left out goes into `out`. A chain builds one run
        per PR, each on the one before."""
        if not trigger.chain:
            await self._build(pool, trigger, out)
            return
        stack, attempt = trigger.stack, trigger.attempt
        for pr in trigger.prs:
            link = replace(trigger, prs=(pr,), stack=stack, attempt=attempt, chain=False)
            run = await self._build(pool, link, out)
            if run is not None:
                stack, attempt = stacked_on(run), 1

    async def _build(self, pool: PoolState, trigger: Trigger, out: Execution) -> StagingRun | None:
        org, repo, branch, base = pool.org, pool.repo, pool.branch, pool.base_sha
        stack = trigger.stack
        start, base_tree = (stack.onto_sha, stack.base_tree) if stack else (base, pool.base_tree)
        if stack is not None:
            base = stack.base_sha
        prior = list(stack.prior) if stack else []
        layers = stack.layers if stack else ()
        staged = [*prior, *(StagedPR(pr.number, pr.head_sha) for pr in trigger.prs)]
        salt = run_salt(trigger.lane, layers, base_tree)
        rid = run_id(org, repo, branch, base, staged, trigger.attempt, salt)
        prefix = pool.policy.queue.staging_prefix
        scratch, target = scratch_ref(prefix, rid, self.instance), staging_ref(prefix, branch, rid)
        keys = [pr.key for pr in trigger.prs]
        if self.dry_run:
            log.info(
                "dry_run",
                would="start staging run",
                pool=pool.key,
                ref=target,
                prs=keys,
                base=base,
            )
            return None
        await self._point(org, repo, scratch, start)
        merged: list[StagedPR] = list(prior)
        head, tree = start, ""
        try:
            for pr in trigger.prs:
                candidate = [*merged, StagedPR(pr.number, pr.head_sha)]
                message = commit_message(
                    org,
                    repo,
                    branch,
                    base,
                    candidate,
                    trigger.attempt,
                    self.instance,
                    trigger.lane,
                    layers,
                    base_tree,
                )
                try:
                    made = await self.gh.rest.merge_branches(
                        org, repo, scratch, pr.head_sha, message
                    )
                except MergeConflict:
                    with_ = ", ".join(f"#{p.number}" for p in merged) or f"base {base[:7]}"
                    out.dropped.append(Dropped(pr.number, f"conflicts with {with_}"))
                    log.info("staging_conflict", pool=pool.key, pr=pr.key, conflicts_with=with_)
                    continue
                if made is None:
                    out.dropped.append(Dropped(pr.number, "its head is already contained"))
                    continue
                merged = candidate
                head, tree = made.sha, made.tree_sha
            if len(merged) == len(prior):
                dropped = [str(d) for d in out.dropped]
                log.info("staging_empty", pool=pool.key, prs=keys, dropped=dropped)
                return None
            run = StagingRun(
                org,
                repo,
                branch,
                target,
                base,
                tuple(merged),
                head,
                self.clock.now(),
                attempt=trigger.attempt,
                verified=True,
                lane=trigger.lane,
                layers=tuple(layers),
                tree_sha=tree,
                base_tree=base_tree,
            )
            # Marked before the branch exists: an unmarked staging commit is never evidence.
            await self.gh.rest.create_status(
                org,
                repo,
                head,
                context=pool.policy.status_context,
                state="success",
                description=mark_description(claimed_id(run)),
            )
            await self._point(org, repo, target, head)
        finally:
            await self.gh.rest.delete_ref(org, repo, f"heads/{scratch}")
        out.triggered.append(run)
        log.info(
            "staging_started",
            pool=pool.key,
            ref=target,
            prs=[f"{org}/{repo}#{p.number}" for p in merged],
            base=base,
            commit=head,
            why=trigger.why,
        )
        return run

    async def _point(self, org: str, repo: str, branch: str, sha: str) -> None:
        """Create `branch` at `sha`, or move it there if a stale one is in the way."""
        try:
            await self.gh.rest.create_ref(org, repo, f"refs/heads/{branch}", sha)
        except RefExists:
            await self.gh.rest.update_ref(org, repo, f"heads/{branch}", sha, force=True)
