"""The simulated GitHub's objects: users, repositories, pull requests, issues, statuses.

Plain mutable records; only `World` changes them, so timestamps and consequences follow.
A repository's CI is known here only by what the world tells it (`RepoCI`), so the CI module
depends on these records and not the other way round."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import Protocol

from tide.sim.world.git import GitStore

HOST = "https://github.example"


def iso(at: datetime | None) -> str | None:
    """GitHub's timestamp format: UTC, whole seconds, `Z`."""
    return None if at is None else _iso(at)


@lru_cache(maxsize=65536)
def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Refusal(Exception):
    """GitHub answered with an error: an HTTP status and GitHub's message."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.extra = extra


def node_id(kind: str, *parts: object) -> str:
    """An opaque GraphQL node id in GitHub's `PR_kw...` style."""
    raw = ":".join(str(p) for p in parts).encode()
    return f"{kind}_{base64.urlsafe_b64encode(raw).decode().rstrip('=')}"


def parse_node_id(value: str) -> tuple[str, list[str]] | None:
    kind, _, rest = value.partition("_")
    if not rest:
        return None
    try:
        raw = base64.urlsafe_b64decode(rest + "=" * (-len(rest) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    return kind, raw.split(":")


@dataclass(kw_only=True)
class SimUser:
    login: str
    id: int
    is_bot: bool = False
    is_org: bool = False

    @property
    def graphql_login(self) -> str:
        # GitHub's GraphQL names an app's bot without the "[bot]" that REST shows.
        return self.login.removesuffix("[bot]")

    @property
    def graphql_type(self) -> str:
        return "Bot" if self.is_bot else "Organization" if self.is_org else "User"

    @property
    def node_id(self) -> str:
        return node_id({"Bot": "BOT", "Organization": "O", "User": "U"}[self.graphql_type], self.id)


@dataclass(kw_only=True)
class Protection:
    """A branch protection rule: required contexts, strictness, who may push."""

    pattern: str
    id: int
    contexts: tuple[str, ...] = ()
    strict: bool = False
    allow_direct_push: bool = True
    allow_force_push: bool = False
    allow_deletion: bool = False
    # Approving reviews a PR needs before GitHub merges it (0: none); tide's queries may
    # not ask for reviews, so this is a refusal tide only learns of at merge time.
    required_approving_reviews: int = 0


@dataclass(kw_only=True)
class StatusRecord:
    id: int
    sha: str
    context: str
    state: str  # REST spelling: pending, success, failure, error
    description: str
    target_url: str
    creator: str
    created_at: datetime


@dataclass(kw_only=True)
class CheckRunRecord:
    id: int
    sha: str
    name: str
    status: str  # queued, in_progress, completed
    conclusion: str | None  # success, failure, neutral, cancelled, ... once completed
    details_url: str
    started_at: datetime
    completed_at: datetime | None = None
    app: str = "sim-ci"


@dataclass(kw_only=True)
class SimLabel:
    name: str
    id: int
    color: str = "ededed"
    description: str = ""


@dataclass(kw_only=True)
class SimMilestone:
    title: str
    number: int
    id: int
    state: str = "OPEN"


@dataclass(kw_only=True)
class SimComment:
    id: int
    author: str
    body: str
    created_at: datetime
    association: str = "MEMBER"  # GitHub's authorAssociation of the author on this repository


@dataclass(kw_only=True)
class SimIssue:
    """An issue; pull requests extend it and share its number sequence."""

    repo: SimRepo = field(repr=False, compare=False)
    number: int
    id: int
    title: str
    body: str
    author: str
    state: str = "OPEN"  # OPEN, CLOSED (pull requests also MERGED)
    labels: list[str] = field(default_factory=list)
    milestone: str | None = None
    comments: list[SimComment] = field(default_factory=list)
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None

    @property
    def is_pull(self) -> bool:
        return False

    @property
    def url(self) -> str:
        return f"{HOST}/{self.repo.full_name}/issues/{self.number}"

    @property
    def node_id(self) -> str:
        return node_id("I", self.repo.id, self.number)

    @property
    def key(self) -> str:
        return f"{self.repo.full_name}#{self.number}"


@dataclass(kw_only=True)
class SimPR(SimIssue):
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool = False
    review_decision: str | None = None
    merged_at: datetime | None = None
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    # mergeable stays UNKNOWN until this time (GitHub computes it lazily after a push).
    mergeable_after: datetime
    # The PR's commits, fixed once it is merged or closed.
    frozen_commits: tuple[str, ...] | None = None

    @property
    def is_pull(self) -> bool:
        return True

    @property
    def url(self) -> str:
        return f"{HOST}/{self.repo.full_name}/pull/{self.number}"

    @property
    def node_id(self) -> str:
        return node_id("PR", self.repo.id, self.number)

    @property
    def is_open(self) -> bool:
        return self.state == "OPEN"


@dataclass(kw_only=True)
class SimRepo:
    owner: str
    name: str
    id: int
    git: GitStore = field(repr=False)
    default_branch: str = "main"
    archived: bool = False
    allow_merge: bool = True
    allow_squash: bool = True
    allow_rebase: bool = True
    created_at: datetime
    protections: list[Protection] = field(default_factory=list, repr=False)
    labels: dict[str, SimLabel] = field(default_factory=dict, repr=False)
    milestones: dict[str, SimMilestone] = field(default_factory=dict, repr=False)
    issues: dict[int, SimIssue] = field(default_factory=dict, repr=False)
    pulls: dict[int, SimPR] = field(default_factory=dict, repr=False)
    statuses: dict[str, list[StatusRecord]] = field(default_factory=dict, repr=False)
    check_runs: dict[str, list[CheckRunRecord]] = field(default_factory=dict, repr=False)
    ci: RepoCI | None = field(default=None, repr=False)
    # Permission per login; anyone else gets `default_permission`.
    permissions: dict[str, str] = field(default_factory=dict, repr=False)
    default_permission: str = "ADMIN"
    next_number: int = 1
    # Open pull requests by head/base branch and by head sha: pushes look them up.
    _open_by_ref: dict[str, dict[int, SimPR]] = field(default_factory=dict, repr=False)
    _open_by_sha: dict[str, dict[int, SimPR]] = field(default_factory=dict, repr=False)

    def track(self, pr: SimPR) -> None:
        """Index an open pull request (call when it opens or reopens)."""
        for ref in {pr.head_ref, pr.base_ref}:
            self._open_by_ref.setdefault(ref, {})[pr.number] = pr
        self._open_by_sha.setdefault(pr.head_sha, {})[pr.number] = pr

    def untrack(self, pr: SimPR) -> None:
        for ref in {pr.head_ref, pr.base_ref}:
            self._open_by_ref.get(ref, {}).pop(pr.number, None)
        self._open_by_sha.get(pr.head_sha, {}).pop(pr.number, None)

    def set_head(self, pr: SimPR, sha: str) -> None:
        if pr.is_open:
            self._open_by_sha.get(pr.head_sha, {}).pop(pr.number, None)
            self._open_by_sha.setdefault(sha, {})[pr.number] = pr
        pr.head_sha = sha

    def open_on_ref(self, branch: str) -> list[SimPR]:
        """Open pull requests whose head or base is `branch`."""
        return list(self._open_by_ref.get(branch, {}).values())

    def open_with_head(self, sha: str) -> list[SimPR]:
        return list(self._open_by_sha.get(sha, {}).values())

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def url(self) -> str:
        return f"{HOST}/{self.full_name}"

    @property
    def node_id(self) -> str:
        return node_id("R", self.id)

    def item(self, number: int) -> SimIssue | None:
        return self.pulls.get(number) or self.issues.get(number)

    def protection(self, branch: str) -> Protection | None:
        """The first rule whose pattern matches the branch (exact names win)."""
        for rule in self.protections:
            if rule.pattern == branch:
                return rule
        for rule in self.protections:
            if fnmatchcase(branch, rule.pattern):
                return rule
        return None


class CIWorld(Protocol):
    """What a repository's CI may do to the world (`World` is the one): read its time,
    schedule its own progress, and report statuses and check runs."""

    def now(self) -> datetime: ...

    def schedule(self, delay: float, action: Callable[[], None]) -> None: ...

    def set_status(
        self,
        repo: SimRepo,
        sha: str,
        context: str,
        state: str,
        *,
        description: str = ...,
        target_url: str = ...,
        creator: str = ...,
    ) -> StatusRecord: ...

    def add_check_run(
        self,
        repo: SimRepo,
        sha: str,
        name: str,
        *,
        status: str = ...,
        conclusion: str | None = ...,
        details_url: str = ...,
    ) -> CheckRunRecord: ...

    def update_check_run(
        self, repo: SimRepo, run: CheckRunRecord, *, status: str, conclusion: str | None = ...
    ) -> None: ...


class RepoCI(Protocol):
    """A repository's CI as the world sees it: told of every branch move (the simulator's is
    `ci.FakeCI`); it answers through `CIWorld`."""

    def on_branch_moved(
        self, world: CIWorld, repo: SimRepo, branch: str, old: str | None, new: str
    ) -> None: ...
