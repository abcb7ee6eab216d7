"""What the planner is given about one pool, and what it decides (plain data)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from tide.model import Blocker, Layer, MergeMethod, PullRequest, StagedPR, StagingRun
from tide.policy import BranchPolicy
from tide.staging import RunResult


class Action(StrEnum):
    WAIT = "WAIT"
    TRIGGER = "TRIGGER"
    TRIGGER_BATCH = "TRIGGER_BATCH"
    MERGE = "MERGE"
    MERGE_BATCH = "MERGE_BATCH"
    BLOCKED = "BLOCKED"


# The actions that write to the base or start runs: the ones a halted pool holds back and
# the history records.
RECORDED = frozenset({Action.TRIGGER, Action.TRIGGER_BATCH, Action.MERGE, Action.MERGE_BATCH})


@dataclass(frozen=True, slots=True)
class Halt:
    """An error only an operator can fix stopped this pool's actions until `until`."""

    until: datetime
    error: str


@dataclass(frozen=True, slots=True)
class PoolState:
    """One pool as a sync saw it: the planner's only input."""

    org: str
    repo: str
    branch: str
    base_sha: str
    policy: BranchPolicy
    now: datetime
    base_tree: str = ""  # the base commit's tree: a stacked run lands on an equal tree only
    eligible: tuple[PullRequest, ...] = ()
    # Heads already found to break the build (their `tide` status records it).
    broken: frozenset[StagedPR] = frozenset()
    runs: tuple[RunResult, ...] = ()
    blockers: tuple[Blocker, ...] = ()
    # Heads GitHub refused to merge (a ruleset, a required review): never planned, so the
    # rest of the pool keeps merging (see `tide.setaside`).
    set_aside: frozenset[StagedPR] = frozenset()
    # New staging runs this pool may start under `queue.max_concurrent_runs_total` (None:
    # no overall cap); see `tide.capacity`.
    run_room: int | None = None
    # Writes this pool's new staging builds may send under the instance's write budget
    # (None: unlimited); see `tide.write_pace`. Merges are never held back by it.
    write_room: int | None = None
    # Head SHA -> whether it contains the base commit (GitHub's compare), for the heads read
    # this sync; a head that does contain it had its own checks test what would land. A
    # head missing here is unknown, and the planner never merges on it.
    contains_base: Mapping[str, bool] = field(default_factory=dict)
    # How each eligible PR would be merged: a rebase rewrites the head, so its own checks
    # did not test what lands.
    merge_methods: Mapping[int, MergeMethod] = field(default_factory=dict)
    # The contexts the base branch's protection requires (read when the policy asks).
    protection: tuple[str, ...] = ()
    # Facts about this sync rather than the pool, each one a precedence in `decide`:
    unreadable: str = ""  # the pool could not be read (repository, base branch), and why
    standby: str = ""  # another instance acts here, and why: judge, write nothing
    blocker_error: str = ""  # the blocker issues could not be read: a freeze may be missed
    search_complete: bool = True  # False: some PRs may be hidden, so no branch is obsolete
    stopping: bool = False  # the daemon is shutting down: nothing new starts
    halt: Halt | None = None  # the last error that needs an operator, and until when

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}:{self.branch}"


# Writes a staging build sends besides one merge per PR: its refs, its status, a cleanup
# (see `tide.staging_builder`).
STAGING_WRITES = 4


@dataclass(frozen=True, slots=True)
class Trigger:
    """A staging run to start: these PRs, in this order, on the pool's base (or on `stack`)."""

    prs: tuple[PullRequest, ...]
    attempt: int
    why: str
    lane: str = ""  # `lanes`: "screen" or "land"
    stack: Stack | None = None  # build on top of this run instead of on the base
    # Each PR its own run, stacked on the one before (so a failure names its PR), all
    # started in this sync rather than one a sync.
    chain: bool = False

    @property
    def runs(self) -> int:
        """The staging runs (so CI runs) this trigger starts."""
        return len(self.prs) if self.chain else 1

    @property
    def writes(self) -> int:
        """About how many writes building it sends: each run of a chain is a build."""
        return len(self.prs) + STAGING_WRITES * self.runs


@dataclass(frozen=True, slots=True)
class Stack:
    """Where a stacked run starts: an earlier run's commit, which already holds `prior`
    merged on `base_sha`; the new run records `layers` so its base can be checked later."""

    onto_sha: str
    base_sha: str
    base_tree: str
    prior: tuple[StagedPR, ...]
    layers: tuple[Layer, ...]


def stacked_on(run: StagingRun) -> Stack:
    """Where a run stacked on `run` starts: its commit, with `run` itself as the top layer."""
    top = Layer(len(run.prs), run.commit_sha, run.tree_sha)
    return Stack(run.commit_sha, run.base_sha, run.base_tree, run.prs, (*run.layers, top))


@dataclass(frozen=True, slots=True)
class Culprit:
    """A PR whose failures prove it breaks the build at its current head."""

    pr: PullRequest
    evidence: RunResult


@dataclass(frozen=True, slots=True)
class Decision:
    """Exactly one action for a pool, with its reason, plus housekeeping."""

    action: Action
    reason: str
    prs: tuple[PullRequest, ...] = ()
    merge_run: StagingRun | None = None  # the passed run being landed; None for a direct merge
    triggers: tuple[Trigger, ...] = ()
    culprits: tuple[Culprit, ...] = ()
    obsolete: tuple[StagingRun, ...] = ()  # staging branches nobody needs any more
    # The pool is held by this error (blocker issues unread, a halt): nothing is carried
    # out, and the pool reports the error.
    error: str = ""

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(pr.number for pr in self.prs)
