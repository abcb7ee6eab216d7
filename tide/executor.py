"""Carrying out a pool's decision on GitHub: culprits, clean-up, merges, and the staging
runs it starts (built by `tide.staging_builder`).

Safety lives here as much as in the planner: before every merge the base branch is
re-read and must still be the commit that was tested (or the one our previous merge
produced), every merge is pinned to the tested head SHA, and a batch stops at its first
failed merge, since the PRs after it were tested on top of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import structlog

from tide.bounded import Lru
from tide.clock import Clock
from tide.criteria import REFUSED_PREFIX, Verdict, status_context_of
from tide.culprit import broken_comment, broken_status, failed_contexts, has_broken_comment
from tide.execution import Execution
from tide.github.client import GitHub
from tide.github.errors import (
    BaseModified,
    GitHubError,
    HeadModified,
    MergeCommitsForbidden,
    NotFastForward,
    Unauthorized,
    Unmergeable,
    WriteUncertain,
)
from tide.model import PullRequest, StagingRun
from tide.policy import BranchPolicy
from tide.pool import Action, Culprit, Decision, PoolState
from tide.prow_record import github_pr
from tide.setaside import one_line
from tide.staging_builder import StagingBuilder
from tide.status_text import IN_POOL, Status, target_url
from tide.status_writer import StatusWriter
from tide.template import TemplateError, parse_template, pull_request_fields

log = structlog.get_logger()

COMMENTED_CACHE = 4096  # (PR, head) pairs remembered as already told they broke a batch
BASE_MODIFIED_RETRIES = (4.0, 8.0)  # Tide's back-off for "Base branch was modified"


class _BatchStopped(Exception):
    """A batch must not go on (the base is not what the next merge was tested on)."""

    def __init__(self, *, merged: bool, why: str) -> None:
        super().__init__(why)
        self.merged = merged
        self.why = why


class Executor:
    """Performs decisions through a `GitHub` client; with `dry_run` it only logs them."""

    def __init__(
        self,
        gh: GitHub,
        clock: Clock,
        *,
        dry_run: bool = False,
        instance: str = "",
        statuses: StatusWriter | None = None,
    ) -> None:
        self.gh = gh
        self.clock = clock
        self.dry_run = dry_run
        self.statuses = statuses or StatusWriter(clock, dry_run=dry_run, pace=gh.writes)
        # (PR, head sha) already told it broke the batch; the PR's own comments are the real
        # record (`has_broken_comment`), this only spares a re-read, so it may forget.
        self._commented: Lru[tuple[str, str], bool] = Lru(COMMENTED_CACHE)
        self._staging = StagingBuilder(gh, clock, dry_run=dry_run, instance=instance)

    async def execute(
        self, pool: PoolState, decision: Decision, verdicts: Mapping[int, Verdict]
    ) -> Execution:
        out = Execution()
        for culprit in decision.culprits:
            await self._mark_broken(pool, culprit)
        await self._delete(pool, decision.obsolete)
        if decision.action in (Action.MERGE, Action.MERGE_BATCH):
            await self._merge(pool, decision, verdicts, out)
        for trigger in decision.triggers:
            await self._staging.start(pool, trigger, out)
        return out

    # -- staging branches --------------------------------------------------------------------

    async def _delete(self, pool: PoolState, runs: Sequence[StagingRun]) -> None:
        for run in runs:
            if self.dry_run:
                log.info("dry_run", would="delete staging branch", pool=pool.key, ref=run.ref)
                continue
            try:
                await self.gh.rest.delete_ref(run.org, run.repo, f"heads/{run.ref}")
                log.info("staging_deleted", pool=pool.key, ref=run.ref)
            except GitHubError as exc:
                log.warning("staging_delete_failed", pool=pool.key, ref=run.ref, error=str(exc))

    # -- merging -----------------------------------------------------------------------------

    async def _merge(
        self, pool: PoolState, decision: Decision, verdicts: Mapping[int, Verdict], out: Execution
    ) -> None:
        run = decision.merge_run
        # The planner lands a run only on the base it read (a stacked run's own base may be
        # an ancestor whose PRs are already in).
        expected = pool.base_sha
        keys = [pr.key for pr in decision.prs]
        if run is not None and not run.verified:
            # The planner never picks one; this keeps a bug there from landing a forgery.
            out.errors.append(f"staging run {run.ref} is not verified evidence; not merging")
            log.error("merge_refused_unverified", pool=pool.key, ref=run.ref, prs=keys)
            return
        if self.dry_run:
            log.info("dry_run", would="merge", pool=pool.key, prs=keys, base=expected)
            return
        try:
            await self._land(pool, decision, verdicts, expected, out)
        finally:
            if run is not None:
                # Landed or not, this run is spent: its base is about to move or has moved.
                await self._delete(pool, [run])

    async def _land(
        self,
        pool: PoolState,
        decision: Decision,
        verdicts: Mapping[int, Verdict],
        expected: str,
        out: Execution,
    ) -> None:
        run = decision.merge_run
        fast = run is not None and pool.policy.queue.fast_forward
        if fast and run is not None and await self._fast_forward(pool, run, decision.prs, out):
            return
        for i, pr in enumerate(decision.prs):
            current = await self.gh.rest.get_ref(pool.org, pool.repo, f"heads/{pool.branch}")
            if current != expected:
                out.merge_failed(
                    pr,
                    f"base branch moved from {expected[:7]} to "
                    f"{(current or '?')[:7]} since the test; not merging",
                )
                log.warning(
                    "merge_skipped_base_moved",
                    pool=pool.key,
                    pr=pr.key,
                    expected=expected,
                    found=current,
                )
                return
            await self._mark_in_pool(pool.policy, pr)
            try:
                sha = await self._merge_one(pool, pr, verdicts.get(pr.number), expected, out)
            except _BatchStopped as stop:
                out.merged.extend([pr] if stop.merged else [])
                out.errors.append(stop.why)
                rest = [p.key for p in decision.prs[i + 1 :]]
                log.warning(
                    "batch_stopped", pool=pool.key, at=pr.key, not_merged=rest, why=stop.why
                )
                return
            if sha is None:
                if len(decision.prs) > 1 and i + 1 < len(decision.prs):
                    rest = [p.key for p in decision.prs[i + 1 :]]
                    log.info("batch_stopped", pool=pool.key, at=pr.key, not_merged=rest)
                return
            out.merged.append(pr)
            expected = sha
            if i + 1 < len(decision.prs):
                await self.clock.sleep(pool.policy.queue.merge_pause)

    async def _merge_one(
        self,
        pool: PoolState,
        pr: PullRequest,
        verdict: Verdict | None,
        expected: str,
        out: Execution,
    ) -> str | None:
        """Merge one PR pinned to its head; the new base SHA, or None when it did not merge."""
        method = (verdict.method if verdict else None) or pool.policy.merge_method
        title, message = self._commit_text(pool.policy, pr)
        delays = list(BASE_MODIFIED_RETRIES)
        while True:
            try:
                sha = await self.gh.rest.merge_pull(
                    pool.org,
                    pool.repo,
                    pr.number,
                    sha=pr.head_sha,
                    method=method,
                    title=title,
                    message=message,
                )
            except BaseModified as exc:
                if not delays:
                    out.merge_failed(pr, f"base branch was modified: {exc}")
                    return None
                await self.clock.sleep(delays.pop(0))
                current = await self.gh.rest.get_ref(pool.org, pool.repo, f"heads/{pool.branch}")
                if current != expected:
                    out.merge_failed(pr, "base branch moved since the test; not merging")
                    return None
                continue
            except HeadModified as exc:
                out.merge_failed(pr, f"PR was modified: {exc}")
            except Unauthorized as exc:
                out.merge_failed(
                    pr, f"allow this robot to push to the branch: {exc}", operator=True
                )
            except MergeCommitsForbidden as exc:
                out.merge_failed(
                    pr,
                    "configure a merge method this repository allows "
                    f"(it forbids merge commits): {exc}",
                    operator=True,
                )
            except Unmergeable as exc:
                out.merge_failed(
                    pr,
                    "PR is unmergeable. Do the merge requirements match the GitHub "
                    f"settings for the repo? {exc}",
                )
                # Set aside at this head; the status is the record a restart reads back.
                out.refused.append((pr, one_line(exc.message)))
                await self._set_status(
                    pr, pool.policy, "error", REFUSED_PREFIX + one_line(exc.message)
                )
            except WriteUncertain:
                return await self._reread_merge(pool, pr, out)
            except GitHubError as exc:
                out.merge_failed(pr, str(exc))
            else:
                log.info(
                    "merged",
                    pool=pool.key,
                    pr=pr.key,
                    sha=pr.head_sha,
                    method=str(method),
                    merge_commit=sha,
                )
                return sha
            log.warning(
                "merge_failed",
                pool=pool.key,
                pr=pr.key,
                error=out.errors[-1:] or out.operator_error,
            )
            return None

    async def _reread_merge(self, pool: PoolState, pr: PullRequest, out: Execution) -> str | None:
        """A merge call with no clear answer may still have merged: ask GitHub, never guess.

        The batch goes on only when the base is exactly the merge commit GitHub reports for
        this PR: anything else (a push in between, a merge commit not reported) is a base
        nobody tested the rest of the batch on, so the batch stops and the next sync re-plans.
        """
        state = await self.gh.rest.get_pull(pool.org, pool.repo, pr.number)
        if not (state.merged and state.head_sha == pr.head_sha):
            out.merge_failed(pr, "the merge call got no answer and the PR is not merged")
            return None
        log.info("merged", pool=pool.key, pr=pr.key, sha=pr.head_sha, confirmed_after="timeout")
        head = await self.gh.rest.get_ref(pool.org, pool.repo, f"heads/{pool.branch}")
        landed = state.merge_commit_sha
        if landed and head == landed:
            return landed
        raise _BatchStopped(
            merged=True,
            why=(
                f"#{pr.number}: merged after a lost answer, but base {pool.branch} is at "
                f"{(head or '?')[:7]}, not the merge commit {(landed or '?')[:7]} GitHub reports; "
                "stopping the batch to re-plan on the new base"
            ),
        )

    async def _fast_forward(
        self, pool: PoolState, run: StagingRun, prs: Sequence[PullRequest], out: Execution
    ) -> bool:
        """Land the tested commit itself; False (and a log line) when GitHub refuses."""
        try:
            await self.gh.rest.update_ref(
                pool.org, pool.repo, f"heads/{pool.branch}", run.commit_sha
            )
        except (NotFastForward, GitHubError) as exc:
            log.warning(
                "fast_forward_refused",
                pool=pool.key,
                ref=run.ref,
                error=str(exc),
                fallback="merging PR by PR",
            )
            return False
        out.merged.extend(prs)
        log.info("fast_forwarded", pool=pool.key, to=run.commit_sha, prs=[p.key for p in prs])
        return True

    def _commit_text(self, policy: BranchPolicy, pr: PullRequest) -> tuple[str | None, str | None]:
        """Prow's prepareMergeDetails: a template that fails leaves GitHub's default (logged)."""
        tpl = policy.commit_template
        if tpl is None:
            return None, None
        fields = {**pull_request_fields(pr), "GitHub": github_pr(pr), "Gerrit": None}
        rendered: list[str | None] = []
        for part, text in (("title", tpl.title), ("body", tpl.body)):
            if not text:
                rendered.append(None)
                continue
            name = f"tide.merge_commit_template[{json.dumps(tpl.scope)}].{part}"
            try:
                rendered.append(parse_template(text, name).render(fields))
            except TemplateError as exc:
                log.error("commit_template_failed", pr=pr.key, part=part, error=str(exc))
                rendered.append(None)
        return rendered[0], rendered[1]

    async def _mark_in_pool(self, policy: BranchPolicy, pr: PullRequest) -> None:
        """Tide sets `tide` to success before merging: branch protection may require it."""
        current = status_context_of(pr, policy.status_context)
        if current is not None and current.state.value == "SUCCESS":
            return
        await self._set_status(pr, policy, "success", IN_POOL, decided=False)

    async def _set_status(
        self,
        pr: PullRequest,
        policy: BranchPolicy,
        state: str,
        desc: str,
        url: str = "",
        *,
        decided: bool = True,
    ) -> None:
        """By default the status records what this execution decided: written even if the
        PR, as read before the execution, shows it (an earlier write may have replaced it)."""
        want = Status(state, desc, url or target_url(pr, policy))
        try:
            await self.statuses.write(self.gh, pr, policy.status_context, want, decided=decided)
        except GitHubError as exc:
            log.warning("status_failed", pr=pr.key, error=str(exc))

    # -- culprits ----------------------------------------------------------------------------

    async def _mark_broken(self, pool: PoolState, culprit: Culprit) -> None:
        pr, result = culprit.pr, culprit.evidence
        # The status links to the failed CI run: the first place to look.
        link = next((c.target_url for c in result.failed if c.target_url), "")
        await self._set_status(pr, pool.policy, "error", broken_status(pool, culprit), link)
        log.warning(
            "culprit",
            pool=pool.key,
            pr=pr.key,
            sha=pr.head_sha,
            failed=failed_contexts(culprit),
            run=result.run.ref,
        )
        key = (pr.key, pr.head_sha)
        if key in self._commented or has_broken_comment(pr) or self.dry_run:
            return
        self._commented.add(key, True)
        try:
            await self.gh.rest.create_comment(
                pr.org, pr.repo, pr.number, broken_comment(pool, culprit)
            )
        except GitHubError as exc:
            log.warning("comment_failed", pr=pr.key, error=str(exc))
