"""Typed results of GitHub reads that `tide.model` does not hold: staging refs as GitHub shows
them, a repository's settings and staging refs, a PR's REST state, a search's outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from tide.github.errors import GitHubError
from tide.model import Context, Mergeable, RepoSettings

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class StagingRef:
    """A staging branch's head commit; the lead decodes `message` into a `StagingRun`.

    `name` is the branch name (`tide/main/...`), not the `refs/heads/` form.
    """

    name: str
    commit_sha: str
    message: str
    committed_at: datetime | None
    contexts: tuple[Context, ...] = ()
    tree_sha: str = ""


@dataclass(frozen=True, slots=True)
class MergeCommit:
    """The commit a merge into a branch made: a stacked run records both, so it can tell
    later whether the base holds the same tree (an API merge lands a new commit)."""

    sha: str
    tree_sha: str = ""


@dataclass(frozen=True, slots=True)
class RepositoryState:
    org: str
    repo: str
    settings: RepoSettings
    viewer_permission: str | None
    staging_refs: tuple[StagingRef, ...]
    viewer_login: str = ""  # who tide acts as: the creator of its marks on staging commits


@dataclass(frozen=True, slots=True)
class RepositoryUnreadable:
    """A repository that could not be read this sync, and why in an operator's words: its
    pools show as errored, the others run meanwhile."""

    reason: str


RepositoryRead = RepositoryState | RepositoryUnreadable


@dataclass(frozen=True, slots=True)
class PullState:
    """`GET /pulls/{n}`: what a caller re-reads after an uncertain merge."""

    number: int
    state: str  # "open" or "closed"
    merged: bool
    head_sha: str
    base_ref: str
    mergeable: Mergeable
    merge_commit_sha: str | None


@dataclass(frozen=True, slots=True)
class SearchResult(Generic[T]):
    """Everything found, plus the error that stopped the search early (Tide keeps partials)."""

    items: tuple[T, ...]
    error: GitHubError | None = None
    truncated: bool = False  # some window held more than GitHub lets one query reach
