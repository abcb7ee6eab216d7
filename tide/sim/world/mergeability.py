"""A pull request's lazily computed `mergeable`, `mergeStateStatus` and `canBeRebased`
(UNKNOWN for a while after a push to head or base, and once the PR is closed)."""

from __future__ import annotations

from datetime import datetime

from tide.sim.world.contexts import required_problem
from tide.sim.world.entities import SimPR
from tide.sim.world.git import Commit


def pr_commits(pr: SimPR) -> list[Commit]:
    """The PR's commits, oldest first: those on its head that its base does not have."""
    git = pr.repo.git
    if pr.frozen_commits is not None:
        return [git.commits[sha] for sha in pr.frozen_commits]
    base = git.branches.get(pr.base_ref)
    if base is None:
        return [git.commits[pr.head_sha]]
    return git.only_in(pr.head_sha, base)


def mergeable(pr: SimPR, now: datetime) -> str:
    """UNKNOWN until GitHub has computed it (`mergeable_after`), then whether head and base
    merge cleanly."""
    if not pr.is_open or now < pr.mergeable_after:
        return "UNKNOWN"
    base = pr.repo.git.branches.get(pr.base_ref)
    if base is None:
        return "UNKNOWN"
    return "MERGEABLE" if pr.repo.git.merges_cleanly(base, pr.head_sha) else "CONFLICTING"


def merge_state_status(pr: SimPR, now: datetime) -> str:
    if not pr.is_open:
        return "UNKNOWN"
    if pr.draft:
        return "DRAFT"
    state = mergeable(pr, now)
    if state == "UNKNOWN":
        return "UNKNOWN"
    if state == "CONFLICTING":
        return "DIRTY"
    rule = pr.repo.protection(pr.base_ref)
    if rule is not None:
        if rule.contexts and required_problem(pr.repo, pr.head_sha, rule.contexts):
            return "BLOCKED"
        if rule.required_approving_reviews and pr.review_decision != "APPROVED":
            return "BLOCKED"
        base = pr.repo.git.branches[pr.base_ref]
        if rule.strict and not pr.repo.git.is_ancestor(base, pr.head_sha):
            return "BEHIND"
    return "CLEAN"


def can_be_rebased(pr: SimPR) -> bool:
    """Whether replaying the PR's commits on its base head succeeds without conflict."""
    if not pr.is_open:
        return False
    git = pr.repo.git
    base = git.branches.get(pr.base_ref)
    if base is None:
        return False
    return git.rebases_cleanly(pr_commits(pr), base)
