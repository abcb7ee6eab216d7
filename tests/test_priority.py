"""Queue order: `priority` label sets, then the lowest number (`TestPickSmallestPassingNumber`)."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from builders import pull_request

from tide.model import PullRequest
from tide.priority import highest_priority, in_priority_order

# Tide's TestPickSmallestPassingNumber configuration; the last entry is one label of
# alternatives ("any of"), the third needs both labels.
PRIORITY = (
    ("kind/failing-test",),
    ("area/deflake",),
    ("kind/bug", "priority/critical-urgent"),
    ("kind/feature,kind/enhancement,kind/undefined",),
)


def prs(**labels_by_number: Iterable[str]) -> list[PullRequest]:
    return [
        pull_request(int(n.removeprefix("pr")), labels=ls) for n, ls in labels_by_number.items()
    ]


@pytest.mark.parametrize(
    ("candidates", "picked"),
    [
        pytest.param(prs(pr5=[], pr3=[]), 3, id="120-no-labels-lowest-number"),
        pytest.param(
            prs(pr3=["kind/enhancement", "kind/undefined"], pr1=["kind/enhancement"]),
            1,
            id="121-alternatives-match-any",
        ),
        pytest.param(prs(pr5=[], pr3=[], pr7=["area/deflake"]), 7, id="122-priority-label-first"),
        pytest.param(
            prs(pr7=["area/deflake"], pr6=["area/deflake"], pr1=["area/deflake"]),
            1,
            id="123-same-priority-lowest-number",
        ),
        pytest.param(prs(pr5=[], pr3=[], pr6=["kind/bug"]), 3, id="124-entry-needs-all-its-labels"),
        pytest.param(
            prs(
                pr5=[],
                pr3=[],
                pr6=["kind/bug"],
                pr7=["area/deflake"],
                pr8=["kind/bug"],
                pr9=["kind/failing-test"],
                pr10=["kind/bug", "priority/critical-urgent"],
            ),
            9,
            id="125-earliest-entry-wins",
        ),
    ],
)
def test_highest_priority_pr_is_picked_first(candidates: list[PullRequest], picked: int) -> None:
    chosen = highest_priority(candidates, PRIORITY)

    assert chosen is not None and chosen.number == picked


def test_queue_order_is_priority_entry_then_number() -> None:
    candidates = prs(
        pr5=[],
        pr3=[],
        pr6=["kind/bug"],
        pr7=["area/deflake"],
        pr9=["kind/failing-test"],
        pr10=["kind/bug", "priority/critical-urgent"],
        pr2=["kind/feature"],
    )

    ordered = in_priority_order(candidates, PRIORITY)

    assert [pr.number for pr in ordered] == [9, 7, 10, 2, 3, 5, 6]


def test_without_priority_config_order_is_by_number() -> None:
    ordered = in_priority_order(prs(pr8=["kind/bug"], pr2=[], pr5=[]), ())

    assert [pr.number for pr in ordered] == [2, 5, 8]


def test_nothing_to_pick_from_an_empty_pool() -> None:
    assert highest_priority([], PRIORITY) is None
