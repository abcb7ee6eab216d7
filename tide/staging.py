"""Staging runs: how a run is named and recorded on GitHub, and whether it passed (pure).

A run is one branch `<prefix><branch>-<id>` whose head commit message carries the run's
identity (base branch, base SHA, attempt, and each PR with the head SHA tested), so a
restarted daemon recovers every run, and its CI verdict, from GitHub alone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tide.criteria import silent, unsuccessful_contexts
from tide.model import Context, Layer, PullRequest, StagedPR, StagingRun, State
from tide.policy import ContextPolicy, QueueOptions

_TRAILER = re.compile(
    r"^Tide-(Branch|Base|Base-Tree|Attempt|PR|Lane|Layer):\s*(.+?)\s*$", re.MULTILINE
)
_HEX = re.compile(r"^[0-9a-f]{4,64}$")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


def run_id(
    org: str,
    repo: str,
    branch: str,
    base_sha: str,
    prs: Sequence[StagedPR],
    attempt: int,
    salt: str = "",
) -> str:
    key = "|".join(
        [org, repo, branch, base_sha, str(attempt), *(f"{p.number}:{p.head_sha}" for p in prs)]
    )
    if salt:
        key += f"|{salt}"
    return hashlib.sha1(key.encode()).hexdigest()[:10]


def run_salt(lane: str, layers: Sequence[Layer], base_tree: str) -> str:
    """The `lanes` claims a run's id (and so tide's mark on it) must cover too."""
    if not lane and not layers and not base_tree:
        return ""
    return "|".join(
        [lane, base_tree, *(f"{la.size}:{la.commit_sha}:{la.tree_sha}" for la in layers)]
    )


def staging_ref(prefix: str, branch: str, rid: str) -> str:
    """A flat name under the prefix, so no staging branch is ever a directory of another."""
    slug = _SLUG.sub("-", branch).strip("-")[:40] or "branch"
    return f"{prefix}{slug}-{rid}"


def scratch_ref(prefix: str, rid: str, instance: str = "") -> str:
    """Where a run is assembled before its staging branch exists (CI does not watch it);
    one directory per instance, so two instances never rebuild each other's scratch."""
    base = f"{prefix.rstrip('/')}-build"
    return f"{base}/{instance}/{rid}" if instance else f"{base}/{rid}"


def commit_message(
    org: str,
    repo: str,
    branch: str,
    base_sha: str,
    prs: Sequence[StagedPR],
    attempt: int,
    instance: str = "",
    lane: str = "",
    layers: Sequence[Layer] = (),
    base_tree: str = "",
) -> str:
    numbers = ", ".join(f"#{p.number}" for p in prs)
    lines = [
        f"Tide staging: {org}/{repo}:{branch} + {numbers}",
        "",
        f"Tide-Branch: {branch}",
        f"Tide-Base: {base_sha}",
        *([f"Tide-Base-Tree: {base_tree}"] if base_tree else []),
        f"Tide-Attempt: {attempt}",
        *([f"Tide-Lane: {lane}"] if lane else []),
        *(f"Tide-Layer: {la.size} {la.commit_sha} {la.tree_sha or '-'}" for la in layers),
        *(f"Tide-PR: {p.number} {p.head_sha}" for p in prs),
        *([f"Tide-Instance: {instance}"] if instance else []),
    ]
    return "\n".join(lines) + "\n"


def _layer(value: str) -> Layer | None:
    parts = value.split()
    if len(parts) != 3 or not parts[0].isdigit() or not _HEX.match(parts[1]):
        return None
    tree = parts[2] if _HEX.match(parts[2]) else ""
    return Layer(int(parts[0]), parts[1], tree)


def decode_run(
    org: str,
    repo: str,
    ref: str,
    commit_sha: str,
    message: str,
    committed_at: datetime,
    contexts: tuple[Context, ...] = (),
    tree_sha: str = "",
) -> StagingRun | None:
    """The run recorded by a staging branch, or None when the branch is not one of ours."""
    branch = base = lane = base_tree = ""
    attempt = 1
    prs: list[StagedPR] = []
    layers: list[Layer] = []
    for key, value in _TRAILER.findall(message):
        if key == "Branch":
            branch = value
        elif key == "Base":
            base = value
        elif key == "Base-Tree" and _HEX.match(value):
            base_tree = value
        elif key == "Lane" and value in ("screen", "land"):
            lane = value
        elif key == "Layer":
            layer = _layer(value)
            if layer is None:
                return None
            layers.append(layer)
        elif key == "Attempt" and value.isdigit():
            attempt = int(value)
        elif key == "PR":
            number, _, sha = value.partition(" ")
            if not number.isdigit() or not sha:
                return None
            prs.append(StagedPR(int(number), sha.strip()))
    if not branch or not base or not prs:
        return None
    sizes = [la.size for la in layers]
    if sizes != sorted(set(sizes)) or any(n < 1 or n >= len(prs) for n in sizes):
        return None  # a stack's layers are strict prefixes of its PRs, shortest first
    return StagingRun(
        org=org,
        repo=repo,
        branch=branch,
        ref=ref,
        base_sha=base,
        prs=tuple(prs),
        commit_sha=commit_sha,
        created_at=committed_at,
        contexts=contexts,
        attempt=attempt,
        lane=lane,
        layers=tuple(layers),
        tree_sha=tree_sha,
        base_tree=base_tree,
    )


class Outcome(StrEnum):
    PENDING = "PENDING"
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


@dataclass(frozen=True, slots=True)
class RunResult:
    """A staging run with its verdict and why."""

    run: StagingRun
    outcome: Outcome
    reason: str
    failed: tuple[Context, ...] = ()
    waiting: tuple[str, ...] = ()
    flaky_only: bool = False


def expected_contexts(
    prs: Iterable[PullRequest], cp: ContextPolicy, status_context: str
) -> tuple[str, ...]:
    """The contexts a staging commit must report: the required ones, or else every
    non-optional context the PRs' own heads reported (Tide trusts the combined status)."""
    if cp.required:
        return tuple(cp.required)
    names = {
        c.name
        for pr in prs
        for c in pr.head_contexts or ()
        if c.name != status_context and not cp.is_optional(c.name)
    }
    return tuple(sorted(names))


def evaluate_run(
    run: StagingRun,
    expected: Sequence[str],
    cp: ContextPolicy,
    options: QueueOptions,
    now: datetime,
    status_context: str = "tide",
) -> RunResult:
    """Pass, fail or wait: any failing non-optional context fails the run at once; a context
    that never starts within `context_start_timeout`, or a run past `run_timeout`, fails it."""
    policy = cp.with_required(tuple(expected))
    bad = unsuccessful_contexts(run.contexts, policy, status_context)
    failed = tuple(c for c in bad if c.state in (State.FAILURE, State.ERROR))
    age = (now - run.created_at).total_seconds()
    if failed:
        names = ", ".join(sorted({c.name for c in failed}))
        flaky = all(c.name in options.flaky_contexts for c in failed)
        return RunResult(run, Outcome.FAILURE, f"{names} failed", failed=failed, flaky_only=flaky)
    missing = tuple(sorted(c.name for c in bad if c.state == State.EXPECTED))
    pending = tuple(sorted({c.name for c in bad if c.state == State.PENDING}))
    if not options.no_ci and silent(run.contexts, cp, status_context):
        if age > options.context_start_timeout:
            minutes = round(options.context_start_timeout / 60)
            return RunResult(
                run,
                Outcome.FAILURE,
                f"no CI reported on the staging commit within {minutes}m (none configured? "
                "set queue.no_ci)",
                failed=tuple(Context(n, State.EXPECTED) for n in missing),
            )
        return RunResult(
            run,
            Outcome.PENDING,
            "waiting for CI to report on the staging commit",
            waiting=missing,
        )
    if missing and age > options.context_start_timeout:
        names = ", ".join(missing)
        minutes = round(options.context_start_timeout / 60)
        return RunResult(
            run,
            Outcome.FAILURE,
            f"{names} never started within {minutes}m (a renamed job or a path filter?)",
            failed=tuple(Context(n, State.EXPECTED) for n in missing),
        )
    if missing or pending:
        if age > options.run_timeout:
            minutes = round(options.run_timeout / 60)
            return RunResult(
                run,
                Outcome.FAILURE,
                f"timed out after {minutes}m waiting for {', '.join(pending + missing)}",
            )
        return RunResult(
            run,
            Outcome.PENDING,
            "waiting for " + ", ".join(pending + missing),
            waiting=pending + missing,
        )
    return RunResult(run, Outcome.SUCCESS, "all required contexts passed")
