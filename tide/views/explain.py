"""Why isn't it merging? A PR's criteria, its place in the queue and its batch (pure).

Built from what a sync already decided (the `Verdict`, the pool's state and decision);
the API, the dashboard and `tide explain` render these values and never recompute a reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from tide.criteria import Code, Reason, Verdict, status_context_of
from tide.history import Record
from tide.model import Mergeable
from tide.model import State as CtxState
from tide.policy import BlocksPolicy, BranchPolicy, Query
from tide.pool import Action, Decision, PoolState
from tide.status_text import Status
from tide.strategies.steps import read_runs
from tide.views.queue import (
    NOTHING_DONE,
    ContextView,
    Done,
    Place,
    RunView,
    context_view,
    first_reason,
    queue_of,
    run_of,
    run_view,
    started_view,
)

HISTORY_PER_PR = 20
# What GitHub says of a PR that is not open; "" when it did not say.
NotOpenState = Literal["merged", "closed", ""]
_PR_REF = re.compile(
    r"^(?:https?://[^/]+/)?(?P<org>[\w.-]+)/(?P<repo>[\w.-]+)(?:#|/pull/|/pulls/|/)(?P<n>\d+)/?$"
)


class Presence(StrEnum):
    IN_POOL = "in pool"  # found by the sync's search and judged with its pool
    OUTSIDE = "outside the pool"  # open, but no query's search finds it
    MERGED = "merged"
    CLOSED = "closed"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Criterion:
    """One merge criterion: met or not, and the words that say why."""

    name: str
    met: bool
    detail: str
    items: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Explanation:
    """The whole answer for one PR, for the API, the PR page and `tide explain`."""

    org: str
    repo: str
    number: int
    presence: Presence
    headline: str
    title: str = ""
    author: str = ""
    url: str = ""
    base_ref: str = ""
    head_sha: str = ""
    labels: tuple[str, ...] = ()
    eligible: bool = False
    criteria: tuple[Criterion, ...] = ()
    place: Place | None = None
    position: int | None = None
    queue_length: int = 0
    batch: RunView | None = None
    awaited: tuple[ContextView, ...] = ()  # this PR's own contexts not finished yet
    contexts: tuple[ContextView, ...] = ()
    status: Status | None = None  # the `tide` context it should carry
    # When a staging run proved this head breaks the build: the failed CI run's link, which
    # the culprit's `tide` status points at.
    failed_run_url: str = ""
    pool_action: str = ""
    pool_reason: str = ""
    eligible_since: datetime | None = None
    history: tuple[Record, ...] = ()
    checked_at: datetime | None = None

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}"


# -- one PR's criteria ---------------------------------------------------------------------


def _failed_run_url(verdict: Verdict, policy: BranchPolicy) -> str:
    if not any(r.code == Code.BROKEN for r in verdict.blocking):
        return ""
    ctx = status_context_of(verdict.pr, policy.status_context)
    return ctx.target_url if ctx is not None else ""


def _closest_query(verdict: Verdict, policy: BranchPolicy) -> Query | None:
    if verdict.closest is None or verdict.closest.index >= len(policy.queries):
        return None
    return policy.queries[verdict.closest.index]


def criteria(verdict: Verdict, policy: BranchPolicy) -> tuple[Criterion, ...]:
    """Every criterion that applies to the PR, met or not; the words of unmet ones are the
    verdict's own reasons, so a page says exactly what the `tide` status says."""
    by_code: dict[Code, list[Reason]] = {}
    for reason in verdict.reasons:
        by_code.setdefault(reason.code, []).append(reason)
    used: set[Code] = set()
    out: list[Criterion] = []
    pr = verdict.pr
    query = _closest_query(verdict, policy)

    def add(name: str, codes: Sequence[Code], met_text: str) -> None:
        used.update(codes)
        found = [r for c in codes for r in by_code.get(c, ())]
        if not found:
            out.append(Criterion(name, True, met_text))
            return
        texts = list(dict.fromkeys(r.text for r in found))
        items = tuple(dict.fromkeys(i for r in found for i in r.items))
        out.append(Criterion(name, False, " ".join(texts), items))

    add("query", (Code.NO_QUERY, Code.BRANCH_FORBIDDEN), _query_met(verdict, pr.base_ref))
    if query is not None and query.author:
        add("author", (Code.AUTHOR,), f"by {query.author}")
    if query is not None and query.milestone:
        add("milestone", (Code.MILESTONE,), f"in milestone {query.milestone}")
    if query is not None and query.labels:
        shown = ", ".join(label.replace(",", " or ") for label in query.labels)
        add("labels", (Code.LABELS_MISSING,), f"has {shown}")
    if query is not None and query.missing_labels:
        add(
            "forbidden labels",
            (Code.LABELS_FORBIDDEN,),
            f"has none of {', '.join(query.missing_labels)}",
        )
    add("checks", (Code.CONTEXTS, Code.NO_CI, Code.HEAD_UNKNOWN), _checks_met(verdict, policy))
    if query is not None and query.review_approved_required:
        add("review", (Code.REVIEW,), "approved")
    if policy.blocks_policy == BlocksPolicy.BLOCK or Code.GITHUB_BLOCKED in by_code:
        add("GitHub merge state", (Code.GITHUB_BLOCKED,), "GitHub does not block the merge")
    mergeable = (
        "GitHub is still computing mergeability"
        if pr.mergeable == Mergeable.UNKNOWN
        else "no merge conflict"
    )
    add("mergeable", (Code.CONFLICT,), mergeable)
    method = verdict.method.value if verdict.method else "merge"
    add(
        "merge method",
        (Code.MERGE_LABELS, Code.CANNOT_REBASE, Code.METHOD_DISALLOWED),
        f"{method}, allowed by the repository",
    )
    add("draft", (Code.DRAFT,), "ready for review")
    add("blocker issues", (Code.BLOCKER,), f"no open blocker issue holds {pr.base_ref}")
    add("build", (Code.BROKEN,), "not found to break the build")
    if Code.REFUSED in by_code:
        add("GitHub's merge answer", (Code.REFUSED,), "GitHub accepts the merge")
    left = [r for r in verdict.reasons if r.code not in used]
    if left:  # a criterion this page does not know by name yet: still shown, never dropped
        out.append(Criterion("other", False, " ".join(r.text for r in left)))
    return tuple(out)


def _query_met(verdict: Verdict, branch: str) -> str:
    if verdict.closest is None:
        return f"a query covers {branch}"
    return f"query {verdict.closest.index + 1} covers {branch}"


def _checks_met(verdict: Verdict, policy: BranchPolicy) -> str:
    passed = sorted(
        {
            c.name
            for c in verdict.contexts
            if c.state == CtxState.SUCCESS and c.name != policy.status_context
        }
    )
    if not passed:
        if policy.queue.no_ci:
            return "none reported, and queue.no_ci says this repository has no CI"
        return "no required context is missing or failing"
    return "passed: " + ", ".join(passed)


def awaited(verdict: Verdict) -> tuple[ContextView, ...]:
    """Contexts the PR's head still waits for: pending ones, and required ones never reported."""
    by_name = {c.name: c for c in verdict.contexts}
    out: list[ContextView] = []
    for name in verdict.failing_contexts:
        ctx = by_name.get(name)
        if ctx is None:
            out.append(ContextView(name, CtxState.EXPECTED.value, "not reported yet"))
        elif ctx.state == CtxState.PENDING:
            out.append(context_view(ctx))
    return tuple(out)


# -- the answer ----------------------------------------------------------------------------


def pool_history(records: Iterable[Record], number: int) -> tuple[Record, ...]:
    """The pool's records that targeted this PR, newest first as given."""
    mine = [r for r in records if any(t.number == number for t in r.target)]
    return tuple(mine[:HISTORY_PER_PR])


def explain(
    verdict: Verdict,
    policy: BranchPolicy,
    *,
    now: datetime,
    state: PoolState | None = None,
    decision: Decision | None = None,
    done: Done = NOTHING_DONE,
    in_pool: bool = True,
    status: Status | None = None,
    history: Sequence[Record] = (),
    eligible_since: datetime | None = None,
) -> Explanation:
    """The answer for a PR the daemon (or `--direct`) judged; `state`/`decision` are its
    pool's when the pool was synced."""
    pr = verdict.pr
    place: Place | None = None
    why = ""
    position: int | None = None
    batch: RunView | None = None
    queue_length = 0
    if state is not None and decision is not None:
        queue = queue_of(state, decision, done, now)
        queue_length = len(queue)
        entry = next((e for e in queue if e.number == pr.number), None)
        if entry is not None:
            place, why, position = entry.place, entry.why, entry.position
        book = read_runs(state)
        run = run_of(pr.number, (*book.passed, *book.pending))
        started = next((r for r in done.triggered if pr.number in r.numbers), None)
        if run is not None:
            batch = run_view(run, book, now)
        elif started is not None:
            batch = started_view(started, now)
    if place is None and not verdict.eligible:
        place = Place.NOT_ELIGIBLE
    headline = _headline(verdict, place, why, position, queue_length, decision)
    return Explanation(
        org=pr.org,
        repo=pr.repo,
        number=pr.number,
        presence=Presence.IN_POOL if in_pool else Presence.OUTSIDE,
        headline=headline,
        title=pr.title,
        author=pr.author,
        url=pr.url,
        base_ref=pr.base_ref,
        head_sha=pr.head_sha,
        labels=tuple(sorted(pr.labels)),
        eligible=verdict.eligible,
        criteria=criteria(verdict, policy),
        place=place,
        position=position,
        queue_length=queue_length,
        batch=batch,
        awaited=awaited(verdict),
        contexts=tuple(context_view(c) for c in verdict.contexts),
        status=status,
        failed_run_url=_failed_run_url(verdict, policy),
        pool_action=decision.action.value if decision else "",
        pool_reason=decision.reason if decision else "",
        eligible_since=eligible_since if verdict.eligible else None,
        history=pool_history(history, pr.number),
        checked_at=now,
    )


def _headline(
    verdict: Verdict,
    place: Place | None,
    why: str,
    position: int | None,
    queue_length: int,
    decision: Decision | None,
) -> str:
    if not verdict.eligible:
        count = len(verdict.reasons)
        more = f" (and {count - 1} more reason{'s' if count > 2 else ''})" if count > 1 else ""
        return f"Not eligible: {first_reason(verdict)}{more}"
    if decision is not None and decision.action == Action.BLOCKED:
        return f"Eligible, but the pool is blocked: {decision.reason}"
    if place is None or position is None:
        return "Eligible; its pool has not been synced since"
    if place in (Place.MERGED, Place.PASSED, Place.TESTING, Place.UP_TO_DATE, Place.CULPRIT):
        return f"{place.value.capitalize()}: {why}"
    ahead = f"#{position} of {queue_length} in the queue"
    doing = f"; the pool: {decision.reason}" if decision is not None else ""
    return f"Eligible, {ahead} ({why}){doing}"


def not_open(
    org: str,
    repo: str,
    number: int,
    history: Sequence[Record],
    now: datetime,
    github_state: NotOpenState = "",
) -> Explanation:
    """A PR that is not open: merged (by us, history says when), closed, or unknown.
    `github_state` is what GitHub said: "merged", "closed", or "" when it did not say."""
    mine = pool_history(history, number)
    landed = next(
        (r for r in mine if r.action in ("MERGE", "MERGE_BATCH") and number not in r.failed),
        None,
    )
    if landed is not None and github_state in ("", "merged"):
        when = landed.time.isoformat().replace("+00:00", "Z")
        headline = f"Merged by tide at {when}"
    elif github_state == "merged":
        headline = "Merged, but not by tide (or before its history began)"
    elif github_state == "closed":
        headline = "Closed without merging"
    else:
        headline = "Not found among the open pull requests this tide covers"
    merged = github_state == "merged" or (landed is not None and not github_state)
    presence = Presence.MERGED if merged else Presence.UNKNOWN
    if github_state == "closed":
        presence = Presence.CLOSED
    return Explanation(
        org,
        repo,
        number,
        presence,
        headline,
        place=Place.MERGED if merged else None,
        history=mine,
        checked_at=now,
    )


def not_covered(org: str, repo: str, number: int, now: datetime) -> Explanation:
    """A repository no query names: tide does not look at its PRs (nor asks GitHub)."""
    return Explanation(
        org,
        repo,
        number,
        Presence.UNKNOWN,
        f"No Tide query covers {org}/{repo}: tide does not merge its pull requests",
        checked_at=now,
    )


def parse_pr_ref(text: str) -> tuple[str, str, int] | None:
    """`org/repo#123`, `org/repo/123` or a PR's GitHub URL; None when it is none of them."""
    match = _PR_REF.match(text.strip())
    if match is None:
        return None
    return match["org"], match["repo"], int(match["n"])
