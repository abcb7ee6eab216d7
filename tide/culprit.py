"""What tide says about a PR found to break the build: its `tide` status and its comment.

The status description is also the durable record (`criteria.broken_reason` reads it back),
so its prefix must stay `BROKEN_PREFIX`; one comment per head SHA, found again by its mark.
"""

from __future__ import annotations

from tide.criteria import BROKEN_PREFIX
from tide.model import PullRequest
from tide.pool import Culprit, PoolState

BROKEN_MARK = "<!-- tide:broke-the-build {sha} -->"


def failed_contexts(culprit: Culprit) -> str:
    result = culprit.evidence
    return ", ".join(sorted({c.name for c in result.failed})) or result.reason


def broken_status(pool: PoolState, culprit: Culprit) -> str:
    q = pool.policy.queue
    retest = f"comment {q.retest_comment}" if q.retest_comment else f"add {q.retest_label}"
    base = culprit.evidence.run.base_sha[:7]
    return f"{BROKEN_PREFIX}{failed_contexts(culprit)} on base {base}. Push a fix or {retest}."


def has_broken_comment(pr: PullRequest) -> bool:
    mark = BROKEN_MARK.format(sha=pr.head_sha)
    return any(mark in c.body for c in pr.comments)


def broken_comment(pool: PoolState, culprit: Culprit) -> str:
    pr, result = culprit.pr, culprit.evidence
    run = result.run
    q = pool.policy.queue
    lines = [
        BROKEN_MARK.format(sha=pr.head_sha),
        f"**tide: this PR breaks `{pool.branch}`** and has left the merge queue.",
        "",
        f"Tested alone on base `{run.base_sha[:7]}` with head `{pr.head_sha[:7]}` "
        f"(staging branch `{run.ref}`, commit `{run.commit_sha[:7]}`): {result.reason}.",
        "",
    ]
    for ctx in result.failed:
        link = f" ([details]({ctx.target_url}))" if ctx.target_url else ""
        lines.append(f"- `{ctx.name}`: {ctx.state.value.lower()}{link}")
    how = []
    if q.retest_comment:
        how.append(f"comment `{q.retest_comment}`")
    if q.retest_label:
        how.append(f"add the `{q.retest_label}` label")
    lines += [
        "",
        "Push a fix to re-enter the queue"
        + (", or " + " or ".join(how) if how else "")
        + " if it was a flake.",
    ]
    return "\n".join(lines)
