"""What carrying out one decision did (`tide.executor`): read by the sync's record, the
log, the history and the views."""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.model import PullRequest, StagingRun


@dataclass(frozen=True, slots=True)
class Dropped:
    """A PR left out of the staging run it was meant for, and why (`conflicts with #1`)."""

    pr: int
    why: str

    def __str__(self) -> str:
        return f"#{self.pr}: {self.why}"


@dataclass
class Execution:
    """What acting on one decision did."""

    merged: list[PullRequest] = field(default_factory=list)
    triggered: list[StagingRun] = field(default_factory=list)
    dropped: list[Dropped] = field(default_factory=list)  # PRs left out of a run
    errors: list[str] = field(default_factory=list)  # user-facing, per PR
    operator_error: str = ""  # the pool needs an admin (permissions, repo settings)
    # PRs whose merge was tried and did not land; `errors` or `operator_error` says why.
    failed: list[int] = field(default_factory=list)
    # PRs GitHub refused to merge for a reason tide could not foresee, with GitHub's words.
    refused: list[tuple[PullRequest, str]] = field(default_factory=list)

    def merge_failed(self, pr: PullRequest, why: str, *, operator: bool = False) -> None:
        """`#n: why` for the user (or the admin, with `operator`), and #n among the PRs that
        did not land."""
        if operator:
            self.operator_error = f"#{pr.number}: {why}"
        else:
            self.errors.append(f"#{pr.number}: {why}")
        self.failed.append(pr.number)

    @property
    def err(self) -> str:
        return "; ".join([*self.errors, *([self.operator_error] if self.operator_error else [])])
