"""PRs that GitHub refused to merge, set aside so that the rest of the pool keeps merging.

A 405 that tide could not foresee (a ruleset, a required code-owner review, "Pull Request
is not mergeable") would otherwise stop the batch, and the PR would be re-tested and
refused again every sync. A set-aside PR is left out of every plan, at that head, until
its head, its labels or the base branch's protection change, or the back-off that
`queue.refused_backoff` names runs out.

The durable record is the PR's `tide` status (`REFUSED_PREFIX` + GitHub's reason, on that
head): a restarted daemon reads it back, so a restart costs no CI run for a refused PR.
What a restart forgets is the label set and the protection seen at the refusal; it takes
the ones it sees first as the baseline (a change during the downtime waits for the back-off).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from tide.criteria import REFUSED_PREFIX, status_context_of
from tide.model import PullRequest
from tide.model import State as CtxState
from tide.policy import BranchPolicy

log = structlog.get_logger()


@dataclass(frozen=True, slots=True)
class SetAside:
    """One refused head: GitHub's reason and what must change for a retry."""

    head_sha: str
    reason: str
    since: datetime
    labels: frozenset[str]
    protection: str  # `branch_protection_digest`; "" when it could not be read


def one_line(text: str) -> str:
    """GitHub's messages may span lines (rule violations): one line for a status."""
    return re.sub(r"\s+", " ", text).strip() or "no reason given"


def recorded_refusal(pr: PullRequest, policy: BranchPolicy) -> str | None:
    """GitHub's reason, when this head's `tide` status records a refusal."""
    ctx = status_context_of(pr, policy.status_context)
    if ctx is None or ctx.state != CtxState.ERROR:
        return None
    if not ctx.description.startswith(REFUSED_PREFIX):
        return None
    return ctx.description.removeprefix(REFUSED_PREFIX)


class SetAsideBook:
    """The set-aside PRs by key (`org/repo#n`); the sync consults it before every plan."""

    def __init__(self) -> None:
        self._entries: dict[str, SetAside] = {}
        self._lifted: dict[tuple[str, str], datetime] = {}  # (pr, head) -> when

    def refuse(self, pr: PullRequest, reason: str, now: datetime, protection: str) -> SetAside:
        entry = SetAside(pr.head_sha, one_line(reason), now, pr.labels, protection)
        self._entries[pr.key] = entry
        self._lifted.pop((pr.key, pr.head_sha), None)
        log.warning("set_aside", pr=pr.key, sha=pr.head_sha, reason=entry.reason)
        return entry

    def needs_protection(self, prs: list[PullRequest], policy: BranchPolicy) -> bool:
        """Whether any of these PRs is (or may be) set aside: only then is protection read."""
        return any(pr.key in self._entries or recorded_refusal(pr, policy) for pr in prs)

    def review(
        self,
        pr: PullRequest,
        policy: BranchPolicy,
        protection: str,
        now: datetime,
    ) -> SetAside | None:
        """The PR's set-aside entry if it still holds at this sync, else None (logged once
        when an entry is lifted). A refusal recorded in the status only (a restart) is
        taken back into the book."""
        entry = self._entries.get(pr.key)
        if entry is None:
            entry = self._recall(pr, policy, protection, now)
            if entry is None:
                return None
        if not entry.protection and protection:
            entry = self._entries[pr.key] = replace(entry, protection=protection)
        why = self._why_lift(entry, pr, protection, now, policy.queue.refused_backoff)
        if why is None:
            return entry
        del self._entries[pr.key]
        self._lifted[(pr.key, entry.head_sha)] = now
        log.info("set_aside_lifted", pr=pr.key, sha=entry.head_sha, why=why)
        return None

    def _recall(
        self, pr: PullRequest, policy: BranchPolicy, protection: str, now: datetime
    ) -> SetAside | None:
        reason = recorded_refusal(pr, policy)
        if reason is None:
            return None
        ctx = status_context_of(pr, policy.status_context)
        since = (ctx.created_at if ctx else None) or now
        lifted = self._lifted.get((pr.key, pr.head_sha))
        if lifted is not None and since <= lifted:
            return None  # lifted already; the status pass has not rewritten it yet
        entry = SetAside(pr.head_sha, reason, since, pr.labels, protection)
        self._entries[pr.key] = entry
        log.info("set_aside_recalled", pr=pr.key, sha=pr.head_sha, reason=reason)
        return entry

    @staticmethod
    def _why_lift(
        entry: SetAside, pr: PullRequest, protection: str, now: datetime, backoff: float
    ) -> str | None:
        if pr.head_sha != entry.head_sha:
            return "new head"
        if pr.labels != entry.labels:
            return "labels changed"
        if entry.protection and protection and protection != entry.protection:
            return "branch protection changed"
        if now >= entry.since + timedelta(seconds=backoff):
            return "back-off over"
        return None

    def forget_missing(self, seen: set[str]) -> None:
        """PRs no longer in any pool (merged, closed, out of every query) leave the book."""
        for key in [k for k in self._entries if k not in seen]:
            del self._entries[key]

    def reasons(self) -> dict[str, str]:
        """PR key -> GitHub's reason, for the report (status pass, API, dashboard)."""
        return {key: entry.reason for key, entry in self._entries.items()}
