"""`tide.evidence`: what makes a staging branch one of tide's runs (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from tide.evidence import graph_problem, mark_description, mark_problem, unknown_step
from tide.model import Context, StagedPR, StagingRun, State
from tide.staging import run_id

T = datetime(2026, 1, 5, tzinfo=UTC)
PRS = (StagedPR(1, "h1"), StagedPR(2, "h2"))


def run(commit: str = "s2", prs: tuple[StagedPR, ...] = PRS) -> StagingRun:
    return StagingRun("org", "repo", "main", "tide/main-x", "base", prs, commit, T)


def mark(creator: str, r: StagingRun | None = None) -> Context:
    r = r or run()
    rid = run_id("org", "repo", "main", "base", r.prs, 1)
    return Context("tide", State.SUCCESS, description=mark_description(rid), creator=creator)


GOOD = {"s2": ("s1", "h2"), "s1": ("base", "h1")}


def test_the_base_with_each_head_merged_in_order_is_a_run() -> None:
    assert graph_problem(run(), GOOD) is None


def test_heads_merged_in_another_order_are_not_the_claimed_run() -> None:
    swapped = {"s2": ("s1", "h1"), "s1": ("base", "h2")}
    assert "not a merge of #2" in (graph_problem(run(), swapped) or "")


def test_a_commit_on_another_base_is_not_the_claimed_run() -> None:
    other = {"s2": ("s1", "h2"), "s1": ("elsewhere", "h1")}
    assert "not the claimed base" in (graph_problem(run(), other) or "")


def test_a_plain_commit_with_the_message_is_not_a_run() -> None:
    assert graph_problem(run(), {"s2": ("base",)}) is not None


def test_a_third_parent_is_not_a_run() -> None:
    octopus = {"s2": ("s1", "h2", "x"), "s1": ("base", "h1")}
    assert graph_problem(run(), octopus) is not None


def test_unread_parents_are_never_taken_for_a_run() -> None:
    assert graph_problem(run(), {"s2": ("s1", "h2")}) is not None
    assert unknown_step(run(), {"s2": ("s1", "h2")}) == "s1"
    assert unknown_step(run(), GOOD) is None


def test_only_tides_own_mark_for_this_run_counts() -> None:
    assert mark_problem(run(), [mark("tide-bot")], "tide", "tide-bot") is None
    assert mark_problem(run(), [mark("mallory")], "tide", "tide-bot") is not None
    assert mark_problem(run(), [], "tide", "tide-bot") is not None
    other = mark("tide-bot", run(prs=(StagedPR(1, "h1"),)))
    assert mark_problem(run(), [other], "tide", "tide-bot") is not None
    assert mark_problem(run(), [mark("tide-bot")], "tide", "") is not None


def test_an_app_is_recognised_however_github_spells_its_bot() -> None:
    assert mark_problem(run(), [mark("my-app")], "tide", "my-app[bot]") is None
    assert mark_problem(run(), [mark("My-App[bot]")], "tide", "my-app") is None
