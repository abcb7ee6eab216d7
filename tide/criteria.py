"""Is this pull request eligible to merge, and if not, every reason why (pure).

Tide's semantics: a PR is eligible when it fulfils one of the queries for its repo
(`requirement_diff` weight 0), nothing forbids GitHub from merging it, no blocker issue
holds its branch, and it has not been found to break the build at its current head.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tide.model import Blocker, Comment, Context, Mergeable, MergeMethod, PullRequest, RepoSettings
from tide.model import State as CtxState
from tide.policy import BlocksPolicy, BranchPolicy, ContextPolicy, Query

MAX_LIST_CHARS = 50
NO_CI_TEXT = "No CI has reported on this commit yet (no CI in this repo? set queue.no_ci)."
BROKEN_PREFIX = "Not mergeable. Broke "
REFUSED_LEAD = "GitHub refused the merge: "
REFUSED_PREFIX = "Not mergeable. " + REFUSED_LEAD  # the status that records a set-aside PR


class Code(StrEnum):
    BRANCH_FORBIDDEN = "branch-forbidden"
    AUTHOR = "author"
    MILESTONE = "milestone"
    LABELS_MISSING = "labels-missing"
    LABELS_FORBIDDEN = "labels-forbidden"
    CONTEXTS = "contexts"
    NO_CI = "no-ci-reported"
    REVIEW = "review"
    GITHUB_BLOCKED = "github-blocked"
    NO_QUERY = "no-query"
    CONFLICT = "conflict"
    MERGE_LABELS = "merge-method-labels"
    CANNOT_REBASE = "cannot-rebase"
    METHOD_DISALLOWED = "method-disallowed"
    DRAFT = "draft"
    HEAD_UNKNOWN = "head-unknown"
    BLOCKER = "blocker-issue"
    BROKEN = "broke-the-build"
    REFUSED = "merge-refused"


class Severity(StrEnum):
    """The `tide` status state a reason implies: error for what needs a human, else pending."""

    ERROR = "error"
    PENDING = "pending"


@dataclass(frozen=True, slots=True)
class Reason:
    """One unmet criterion, in Tide's wording (no leading space, no `Not mergeable.`)."""

    code: Code
    text: str
    severity: Severity = Severity.PENDING
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QueryDiff:
    """How far a PR is from one query: Tide's weight and the reasons in Tide's order."""

    index: int
    weight: int
    reasons: tuple[Reason, ...]

    @property
    def text(self) -> str:
        return self.reasons[0].text if self.reasons else ""


@dataclass(frozen=True, slots=True)
class Verdict:
    """Everything the status, the planner, the API and `tide explain` say about one PR."""

    pr: PullRequest
    eligible: bool
    blocking: tuple[Reason, ...]  # reasons outside the queries (conflict, draft, blockers ...)
    closest: QueryDiff | None  # the closest query; weight 0 when fulfilled
    diffs: tuple[QueryDiff, ...]  # one per query that applies to the repo, in config order
    method: MergeMethod | None
    contexts: tuple[Context, ...]  # head contexts as evaluated (None-safe)
    failing_contexts: tuple[str, ...]  # non-optional contexts not SUCCESS, incl. missing required

    @property
    def reasons(self) -> tuple[Reason, ...]:
        query_reasons = self.closest.reasons if self.closest else ()
        return self.blocking + query_reasons


def effective_context_policy(policy: BranchPolicy, protection: Sequence[str]) -> ContextPolicy:
    """The branch's context policy plus GitHub's required checks when asked for.

    Tide's own status context is never among them: branch protection often requires it (so
    nothing merges around the queue), but tide writes it, so waiting for it would wait for
    ourselves and blame every PR of a staging run that can never report it.
    """
    cp = policy.context_policy
    extra = tuple(c for c in protection if c != policy.status_context)
    if cp.from_branch_protection and extra:
        return cp.with_required(extra)
    return cp


def unsuccessful_contexts(
    contexts: Iterable[Context], cp: ContextPolicy, status_context: str
) -> list[Context]:
    """Tide's `unsuccessfulContexts`: non-optional contexts not SUCCESS, then missing required."""
    present: set[str] = set()
    failing: list[Context] = []
    for ctx in contexts:
        present.add(ctx.name)
        if ctx.name == status_context or cp.is_optional(ctx.name):
            continue
        if ctx.state != CtxState.SUCCESS:
            failing.append(ctx)
    failing.extend(Context(name, CtxState.EXPECTED) for name in cp.missing_required(present))
    return failing


def silent(contexts: Iterable[Context], cp: ContextPolicy, status_context: str) -> bool:
    """Nothing that counts has reported: no context but tide's own and optional ones.

    Silence is never success: CI often reports nothing for a while after a push, so a commit
    passes only once at least one context has reported and every known one finished. A
    repository without CI says so with `queue.no_ci`.
    """
    return not any(c.name != status_context and not cp.is_optional(c.name) for c in contexts)


def truncate_list(items: Sequence[str]) -> list[str]:
    """Keep the first item, then more while the list fits Tide's 50-character budget."""
    kept = [items[0]]
    chars = len(items[0])
    for item in items[1:]:
        if chars + len(item) > MAX_LIST_CHARS:
            break
        kept.append(item)
        chars += len(item) + 2
    return kept


def _listed(items: Iterable[str], one: str, many: str) -> str:
    kept = truncate_list(sorted(set(items)))
    return one.format(kept[0]) if len(kept) == 1 else many.format(", ".join(kept))


def _norm_author(login: str) -> str:
    return login.lower().removeprefix("@")


def requirement_diff(
    pr: PullRequest,
    query: Query,
    cp: ContextPolicy,
    blocks_policy: BlocksPolicy,
    status_context: str = "tide",
    index: int = 0,
    no_ci: bool = False,
) -> QueryDiff:
    """Tide's `requirementDiff`: a weight (0 = fulfilled) and the reasons, most severe first."""
    weight = 0
    reasons: list[Reason] = []
    if not query.for_branch(pr.base_ref):
        weight += 2000
        reasons.append(
            Reason(Code.BRANCH_FORBIDDEN, f"Merging to branch {pr.base_ref} is forbidden.")
        )
    if query.author and _norm_author(pr.author) != _norm_author(query.author):
        weight += 1000
        reasons.append(Reason(Code.AUTHOR, f"Must be by author {_norm_author(query.author)}."))
    if query.milestone and pr.milestone != query.milestone:
        weight += 100
        reasons.append(Reason(Code.MILESTONE, f"Must be in milestone {query.milestone}."))
    missing = [
        entry.replace(",", " or ")
        for entry in query.labels
        if not set(entry.split(",")) & pr.labels
    ]
    if missing:
        weight += len(missing)
        text = _listed(missing, "Needs {} label.", "Needs {} labels.")
        reasons.append(Reason(Code.LABELS_MISSING, text, items=tuple(sorted(missing))))
    forbidden = [label for label in query.missing_labels if label in pr.labels]
    if forbidden:
        weight += len(forbidden)
        text = _listed(forbidden, "Should not have {} label.", "Should not have {} labels.")
        reasons.append(Reason(Code.LABELS_FORBIDDEN, text, items=tuple(sorted(forbidden))))
    if pr.head_contexts is not None:
        failing = [c.name for c in unsuccessful_contexts(pr.head_contexts, cp, status_context)]
        # Tide counts a missing required context twice: once as EXPECTED, once as missing.
        failing_weight = len(failing) + len(cp.missing_required({c.name for c in pr.head_contexts}))
        if failing:
            weight += failing_weight
            text = _listed(failing, "Job {} has not succeeded.", "Jobs {} have not succeeded.")
            reasons.append(Reason(Code.CONTEXTS, text, items=tuple(sorted(set(failing)))))
        elif not no_ci and silent(pr.head_contexts, cp, status_context):
            weight += 1
            reasons.append(Reason(Code.NO_CI, NO_CI_TEXT))
    if query.review_approved_required and pr.review_decision != "APPROVED":
        weight += 50
        reasons.append(
            Reason(Code.REVIEW, "PullRequest is missing sufficient approving GitHub review(s)")
        )
    if blocks_policy == BlocksPolicy.BLOCK and pr.merge_state_status == "BLOCKED":
        weight += 100
        reasons.append(
            Reason(Code.GITHUB_BLOCKED, "Blocked by GitHub (branch rulesets or protection)")
        )
    return QueryDiff(index=index, weight=weight, reasons=tuple(reasons))


def merge_method(pr: PullRequest, policy: BranchPolicy) -> MergeMethod | None:
    """The configured method, overridden by a method label; None when labels disagree."""
    by_label = {
        policy.merge_labels.squash: MergeMethod.SQUASH,
        policy.merge_labels.rebase: MergeMethod.REBASE,
        policy.merge_labels.merge: MergeMethod.MERGE,
    }
    chosen = {method for label, method in by_label.items() if label and label in pr.labels}
    if len(chosen) > 1:
        return None
    return chosen.pop() if chosen else policy.merge_method


def merge_blockers(pr: PullRequest, policy: BranchPolicy, settings: RepoSettings) -> list[Reason]:
    """Tide's `isAllowedToMerge` plus drafts: what stops GitHub itself from merging."""
    reasons: list[Reason] = []
    if pr.mergeable == Mergeable.CONFLICTING:
        reasons.append(Reason(Code.CONFLICT, "PR has a merge conflict.", Severity.ERROR))
    method = merge_method(pr, policy)
    if method is None:
        reasons.append(
            Reason(
                Code.MERGE_LABELS, "PR has conflicting merge method override labels", Severity.ERROR
            )
        )
    elif method == MergeMethod.REBASE and not pr.can_be_rebased:
        reasons.append(Reason(Code.CANNOT_REBASE, "PR can't be rebased", Severity.ERROR))
    elif not settings.allows(method):
        reasons.append(
            Reason(
                Code.METHOD_DISALLOWED,
                f'Merge type "{method.value}" disallowed by repo settings',
                Severity.ERROR,
            )
        )
    if policy.blocks_policy == BlocksPolicy.BLOCK and pr.merge_state_status == "BLOCKED":
        reasons.append(
            Reason(
                Code.GITHUB_BLOCKED,
                "PR is blocked from merging by GitHub (check branch protection, required "
                "reviews, or rulesets)",
                Severity.ERROR,
            )
        )
    if pr.is_draft:
        reasons.append(Reason(Code.DRAFT, "PR is a draft."))
    return reasons


def blocker_reason(blockers: Sequence[Blocker]) -> Reason | None:
    numbers = sorted(b.number for b in blockers)
    if not numbers:
        return None
    plural = "s" if len(numbers) > 1 else ""
    listed = ", ".join(str(n) for n in numbers)
    return Reason(
        Code.BLOCKER,
        f"Merging is blocked by issue{plural} {listed}.",
        Severity.ERROR,
        tuple(str(n) for n in numbers),
    )


def status_context_of(pr: PullRequest, name: str) -> Context | None:
    for ctx in pr.head_contexts or ():
        if ctx.name == name and not ctx.is_check_run:
            return ctx
    return None


def retest_requested(pr: PullRequest, policy: BranchPolicy, since: datetime | None) -> bool:
    """A retest label, or a retest comment newer than the failure it answers.

    Each retest costs CI runs, so a comment counts only from the PR's author or someone whose
    association with the repository is allowed (`retest_associations`: by default people
    with write access). The label needs no such check: GitHub lets only people with triage
    access or more put labels on a PR.
    """
    q = policy.queue
    if q.retest_label and q.retest_label in pr.labels:
        return True
    return bool(q.retest_comment) and any(
        _is_retest(c, q.retest_comment)
        and may_retest(c, pr, q.retest_associations)
        and (since is None or c.created_at > since)
        for c in pr.comments
    )


def may_retest(comment: Comment, pr: PullRequest, associations: Sequence[str]) -> bool:
    """The comment's author wrote the PR or has an allowed association with the repository."""
    if comment.author and _norm_author(comment.author) == _norm_author(pr.author):
        return True
    return comment.association.upper() in associations


def _is_retest(comment: Comment, command: str) -> bool:
    return any(line.strip() == command for line in comment.body.splitlines())


def broken_reason(pr: PullRequest, policy: BranchPolicy) -> Reason | None:
    """The failure recorded on this head by an earlier staging run, unless a retest was asked."""
    ctx = status_context_of(pr, policy.status_context)
    if ctx is None or not ctx.description.startswith(BROKEN_PREFIX):
        return None
    if retest_requested(pr, policy, ctx.created_at):
        return None
    text = ctx.description.removeprefix("Not mergeable. ")
    return Reason(Code.BROKEN, text, Severity.ERROR)


def evaluate(
    pr: PullRequest,
    policy: BranchPolicy,
    settings: RepoSettings,
    protection: Sequence[str] = (),
    blockers: Sequence[Blocker] = (),
    refused: str | None = None,
) -> Verdict:
    """Judge one PR against every criterion of its branch; `refused` is GitHub's reason
    when this head is set aside after GitHub refused to merge it (see `tide.setaside`)."""
    cp = effective_context_policy(policy, protection)
    blocking = merge_blockers(pr, policy, settings)
    if pr.head_contexts is None:
        blocking.append(
            Reason(Code.HEAD_UNKNOWN, "Head commit contexts could not be read.", Severity.PENDING)
        )
    applicable = [b for b in blockers if b.applies_to(pr.org, pr.repo, pr.base_ref)]
    blocker = blocker_reason(applicable)
    if blocker:
        blocking.append(blocker)
    diffs = tuple(
        requirement_diff(
            pr, q, cp, policy.blocks_policy, policy.status_context, i, policy.queue.no_ci
        )
        for i, q in enumerate(policy.queries)
    )
    closest = min(diffs, key=lambda d: d.weight) if diffs else None
    if closest is None:
        blocking.append(Reason(Code.NO_QUERY, "No Tide query covers this branch."))
    broken = broken_reason(pr, policy)
    if broken:
        blocking.append(broken)
    if refused:
        blocking.append(Reason(Code.REFUSED, REFUSED_LEAD + refused, Severity.ERROR))
    contexts = pr.head_contexts or ()
    failing = tuple(
        sorted({c.name for c in unsuccessful_contexts(contexts, cp, policy.status_context)})
    )
    eligible = not blocking and closest is not None and closest.weight == 0
    return Verdict(
        pr=pr,
        eligible=eligible,
        blocking=tuple(blocking),
        closest=closest,
        diffs=diffs,
        method=merge_method(pr, policy),
        contexts=tuple(contexts),
        failing_contexts=failing,
    )
