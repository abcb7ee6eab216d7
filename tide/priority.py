"""Queue order: Tide's `priority` label sets first, then the lowest PR number (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from tide.model import PullRequest


def _has_entry(pr: PullRequest, entry: Sequence[str]) -> bool:
    # An entry label "a,b" is met by either label.
    return all(set(label.split(",")) & pr.labels for label in entry)


def priority_rank(pr: PullRequest, priority: Sequence[Sequence[str]]) -> int:
    """Index of the first priority entry the PR fully matches; len(priority) when none."""
    for i, entry in enumerate(priority):
        if _has_entry(pr, entry):
            return i
    return len(priority)


def in_priority_order(
    prs: Iterable[PullRequest], priority: Sequence[Sequence[str]]
) -> list[PullRequest]:
    return sorted(prs, key=lambda pr: (priority_rank(pr, priority), pr.number))


def highest_priority(
    prs: Iterable[PullRequest], priority: Sequence[Sequence[str]]
) -> PullRequest | None:
    """Tide's `pickHighestPriorityPR`: the first entry that matches anyone wins, lowest number."""
    ordered = in_priority_order(prs, priority)
    return ordered[0] if ordered else None
