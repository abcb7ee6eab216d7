"""The `tide` status context a PR should carry, in Tide's exact wording (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, quote_plus, urlsplit, urlunsplit

from tide.criteria import Code, Reason, Severity, Verdict
from tide.model import PullRequest
from tide.model import State as CtxState
from tide.policy import BlocksPolicy, BranchPolicy

MAX_DESCRIPTION = 140
IN_POOL = "In merge pool."
IN_POOL_DESPITE_BLOCKED = "In merge pool (despite BLOCKED)."
NOT_MERGEABLE = "Not mergeable."

# The first reason found in this order names the status; BROKEN comes first so that the
# record of a failed staging run survives until a new head or a retest request.
_PRECEDENCE = (
    Code.BROKEN,
    Code.REFUSED,
    Code.CONFLICT,
    Code.MERGE_LABELS,
    Code.CANNOT_REBASE,
    Code.METHOD_DISALLOWED,
    Code.GITHUB_BLOCKED,
    Code.DRAFT,
    Code.HEAD_UNKNOWN,
    Code.BLOCKER,
)


@dataclass(frozen=True, slots=True)
class Status:
    state: str  # success | pending | error (Tide never writes failure)
    description: str
    target_url: str = ""


def not_mergeable(text: str) -> str:
    return f"{NOT_MERGEABLE} {text}" if text else NOT_MERGEABLE


def truncate_description(desc: str) -> str:
    """GitHub rejects descriptions over 140 characters; Tide cuts them with `...`."""
    return desc if len(desc) <= MAX_DESCRIPTION else desc[: MAX_DESCRIPTION - 3] + "..."


def _first(verdict: Verdict) -> Reason | None:
    by_code = {r.code: r for r in verdict.blocking}
    for code in _PRECEDENCE:
        if code in by_code:
            return by_code[code]
    return None


def _query_text(verdict: Verdict, policy: BranchPolicy) -> str:
    """The closest query's first reason, or with display_all every query's, joined by OR."""
    if not policy.display_all_queries:
        return verdict.closest.text if verdict.closest else ""
    text = ""
    for diff in verdict.diffs:
        if diff.weight >= 2000:
            continue  # a query for another branch
        text = f"{text.removesuffix('.')} OR {diff.text}" if text else diff.text
    return text or f"No Tide query for branch {verdict.pr.base_ref} found."


def retesting_status(contexts: list[str]) -> str:
    """Prow's `retestingStatus`: the contexts by name, or their count when that is too long."""
    names = sorted(contexts)
    text = f"{NOT_MERGEABLE} Retesting: {' '.join(names)}"
    if len(text) > MAX_DESCRIPTION:
        text = f"{NOT_MERGEABLE} Retesting {len(names)} job{'' if len(names) == 1 else 's'}."
    return text


def _retesting(verdict: Verdict, policy: BranchPolicy) -> str | None:
    """Prow keeps a PR in its pool while its only unsuccessful contexts are pending presubmits
    (Prow-controlled jobs still running) and says which it waits for; so does tide."""
    closest = verdict.closest
    if verdict.blocking or closest is None or not closest.reasons:
        return None
    if any(r.code != Code.CONTEXTS for r in closest.reasons):
        return None
    pending = {c.name for c in verdict.contexts if c.state == CtxState.PENDING}
    failing = set(verdict.failing_contexts)
    if not failing or not failing <= pending or not failing <= policy.presubmit_contexts:
        return None
    return retesting_status(list(failing))


def expected_status(verdict: Verdict, policy: BranchPolicy) -> Status:
    """What the `tide` context should say for this verdict, with Tide's wording."""
    url = target_url(verdict.pr, policy)
    reason = _first(verdict)
    if reason is not None:
        if reason.code == Code.BROKEN:
            desc = "Not mergeable. " + reason.text
        else:
            desc = not_mergeable(reason.text)
        return Status(reason.severity.value, truncate_description(desc), url)
    fulfilled = verdict.closest is not None and verdict.closest.weight == 0
    retesting = _retesting(verdict, policy)
    if retesting is not None:
        return Status(Severity.PENDING.value, retesting, url)
    if not fulfilled or not verdict.eligible:
        return Status(
            Severity.PENDING.value,
            truncate_description(not_mergeable(_query_text(verdict, policy))),
            url,
        )
    if policy.blocks_policy == BlocksPolicy.PERMIT and verdict.pr.merge_state_status == "BLOCKED":
        return Status("success", IN_POOL_DESPITE_BLOCKED, url)
    return Status("success", IN_POOL, url)


def needs_write(current_state: str | None, current_desc: str | None, want: Status) -> bool:
    """Tide writes only when the state or the description differ."""
    return (current_state or "").lower() != want.state or (current_desc or "") != want.description


def target_url(pr: PullRequest, policy: BranchPolicy) -> str:
    """Tide's `targetURL`: a fixed URL, or the PR dashboard searched for this PR."""
    if policy.target_url:
        return policy.target_url
    if not policy.pr_status_base_url:
        return ""
    author = pr.author
    if pr.author_is_bot and not author.startswith("app/"):
        author = f"app/{author}"
    search = f"is:pr repo:{pr.org}/{pr.repo} author:{author} head:{pr.head_ref}"
    parts = urlsplit(policy.pr_status_base_url)
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    params["query"] = search
    # Go's url.Values.Encode: keys sorted, values escaped like QueryEscape.
    query = "&".join(
        f"{quote_plus(k, safe='')}={quote_plus(v, safe='')}" for k, v in sorted(params.items())
    )
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
