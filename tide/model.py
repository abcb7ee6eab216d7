"""Plain data read from GitHub: pull requests, contexts, blockers and staging runs.

Frozen dataclasses with no I/O; the decision modules take these and return new values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Mergeable(StrEnum):
    """GitHub's lazily computed `mergeable`; UNKNOWN is neither proof nor conflict."""

    MERGEABLE = "MERGEABLE"
    CONFLICTING = "CONFLICTING"
    UNKNOWN = "UNKNOWN"


class State(StrEnum):
    """A context's state, upper-cased as GraphQL reports it; EXPECTED means missing."""

    SUCCESS = "SUCCESS"
    PENDING = "PENDING"
    FAILURE = "FAILURE"
    ERROR = "ERROR"
    EXPECTED = "EXPECTED"


class MergeMethod(StrEnum):
    MERGE = "merge"
    SQUASH = "squash"
    REBASE = "rebase"


@dataclass(frozen=True, slots=True)
class Context:
    """One status context or check run on a commit."""

    name: str
    state: State
    description: str = ""
    target_url: str = ""
    is_check_run: bool = False
    created_at: datetime | None = None
    creator: str = ""  # who set a status (login); check runs leave it empty


@dataclass(frozen=True, slots=True)
class Comment:
    author: str
    body: str
    created_at: datetime
    # GitHub's authorAssociation (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, NONE ...).
    association: str = ""


@dataclass(frozen=True, slots=True)
class PullRequest:
    """An open pull request as one sync saw it."""

    org: str
    repo: str
    number: int
    title: str
    head_sha: str
    base_ref: str
    author: str = ""
    body: str = ""
    author_is_bot: bool = False
    base_ref_prefix: str = "refs/heads/"
    head_ref: str = ""
    mergeable: Mergeable = Mergeable.UNKNOWN
    merge_state_status: str = "UNKNOWN"
    is_draft: bool = False
    review_decision: str | None = None
    labels: frozenset[str] = frozenset()
    milestone: str | None = None
    updated_at: datetime | None = None
    can_be_rebased: bool = True
    # None when the head commit was not among the commits fetched (its contexts are unknown).
    head_contexts: tuple[Context, ...] | None = ()
    comments: tuple[Comment, ...] = ()
    url: str = ""

    @property
    def repo_key(self) -> str:
        return f"{self.org}/{self.repo}"

    @property
    def key(self) -> str:
        return f"{self.org}/{self.repo}#{self.number}"

    @property
    def pool_key(self) -> str:
        return pool_key(self.org, self.repo, self.base_ref)


def pool_key(org: str, repo: str, branch: str) -> str:
    """Tide's subpool key, `org/repo:branch`."""
    return f"{org}/{repo}:{branch}"


@dataclass(frozen=True, slots=True)
class Blocker:
    """An open issue carrying the blocker label; no branches means every branch."""

    org: str
    repo: str
    number: int
    title: str
    url: str = ""
    branches: tuple[str, ...] = ()

    def applies_to(self, org: str, repo: str, branch: str) -> bool:
        if (self.org, self.repo) != (org, repo):
            return False
        return not self.branches or branch in self.branches


@dataclass(frozen=True, slots=True)
class RepoSettings:
    """Which merge methods the repository allows (GitHub's repo settings)."""

    allow_merge: bool = True
    allow_squash: bool = True
    allow_rebase: bool = True

    def allows(self, method: MergeMethod) -> bool:
        return {
            MergeMethod.MERGE: self.allow_merge,
            MergeMethod.SQUASH: self.allow_squash,
            MergeMethod.REBASE: self.allow_rebase,
        }[method]


@dataclass(frozen=True, slots=True)
class StagedPR:
    """One PR of a staging run, pinned to the head it was tested at."""

    number: int
    head_sha: str


@dataclass(frozen=True, slots=True)
class Layer:
    """A stacked run's state after its first `size` PRs: the commit it was built on, which
    is an ancestor of the run, and that commit's tree (what the base must hold to land it)."""

    size: int
    commit_sha: str
    tree_sha: str = ""


@dataclass(frozen=True, slots=True)
class StagingRun:
    """A staging branch: base SHA plus PR heads merged in order, and its CI contexts.

    Everything here is read back from GitHub (the branch, its head commit's message and
    contexts), so a restarted daemon sees exactly what the previous one left.
    """

    org: str
    repo: str
    branch: str
    ref: str
    base_sha: str
    prs: tuple[StagedPR, ...]
    commit_sha: str
    created_at: datetime
    contexts: tuple[Context, ...] = ()
    attempt: int = 1
    # Checked against tide's mark and the commit graph (`tide.evidence`); a run decoded from a
    # message alone is a claim, and nothing acts on it.
    verified: bool = False
    lane: str = ""  # `lanes` strategy: "screen" or "land"; "" for the other strategies
    layers: tuple[Layer, ...] = ()  # a stacked run's earlier states, shortest first
    tree_sha: str = ""  # the tree of `commit_sha`, when GitHub said
    base_tree: str = ""  # the tree of `base_sha`, as recorded when the run was built

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(p.number for p in self.prs)

    @property
    def pool_key(self) -> str:
        return pool_key(self.org, self.repo, self.branch)
