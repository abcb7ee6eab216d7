"""What happened in a simulated GitHub: requests served, branch moves, merges performed,
for tests to assert on and the benchmark to count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RequestRecord:
    at: datetime
    method: str
    path: str
    # The route template (`PUT /repos/{owner}/{repo}/pulls/{number}/merge`) or, for
    # GraphQL, `POST /graphql <OperationName>`.
    endpoint: str
    status: int
    login: str | None = None


@dataclass(frozen=True, slots=True)
class PushRecord:
    at: datetime
    repo: str
    branch: str
    old: str | None
    new: str | None  # None when the branch was deleted
    actor: str


@dataclass(frozen=True, slots=True)
class MergeRecord:
    """A pull request merged through the merge API (not a fast-forward)."""

    at: datetime
    repo: str
    number: int
    method: str
    base: str
    head_sha: str
    base_sha_before: str
    sha: str
    actor: str


@dataclass
class Journal:
    requests: list[RequestRecord] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    status_counts: Counter[tuple[str, int]] = field(default_factory=Counter)
    pushes: list[PushRecord] = field(default_factory=list)
    merges: list[MergeRecord] = field(default_factory=list)

    def record_request(self, record: RequestRecord) -> None:
        self.requests.append(record)
        self.counts[record.endpoint] += 1
        self.status_counts[(record.endpoint, record.status)] += 1

    def count(self, endpoint: str, status: int | None = None) -> int:
        """Requests to `endpoint` (a template, or a prefix ending in `*`), optionally by status."""
        if endpoint.endswith("*"):
            prefix = endpoint[:-1]
            return sum(
                n
                for (e, s), n in self.status_counts.items()
                if e.startswith(prefix) and status in (None, s)
            )
        if status is None:
            return self.counts[endpoint]
        return self.status_counts[(endpoint, status)]

    def branch_pushes(self, repo: str, branch: str) -> list[PushRecord]:
        return [p for p in self.pushes if p.repo == repo and p.branch == branch]
