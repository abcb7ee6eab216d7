"""The set-aside book: what lifts a refused PR (head, labels, protection, back-off), and
how a refusal recorded in the `tide` status is read back after a restart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from planner_world import T0, make_policy, make_pr

from tide.criteria import REFUSED_PREFIX
from tide.model import Context, State
from tide.setaside import SetAsideBook, one_line

REASON = "Waiting on code owner review from org/team."


def refused_pr(labels=frozenset({"lgtm"}), at=T0):
    pr = replace(make_pr(7), labels=labels)
    status = Context("tide", State.ERROR, REFUSED_PREFIX + REASON, created_at=at)
    return replace(pr, head_contexts=(status,))


def test_labels_protection_or_the_back_off_lift_a_refusal():
    policy = make_policy()
    pr = replace(make_pr(7), labels=frozenset({"lgtm"}))
    book = SetAsideBook()
    book.refuse(pr, REASON, T0, "p1")
    assert book.review(pr, policy, "p1", T0 + timedelta(minutes=5)) is not None
    assert book.review(replace(pr, labels=frozenset({"lgtm", "x"})), policy, "p1", T0) is None

    book.refuse(pr, REASON, T0, "p1")
    assert book.review(pr, policy, "p2", T0) is None

    book.refuse(pr, REASON, T0, "p1")
    later = T0 + timedelta(seconds=policy.queue.refused_backoff)
    assert book.review(pr, policy, "p1", later) is None
    book.refuse(pr, REASON, T0, "p1")
    assert book.review(replace(pr, head_sha="f" * 40), policy, "p1", T0) is None


def test_a_restart_reads_the_refusal_back_from_the_status_once():
    policy = make_policy()
    book = SetAsideBook()
    entry = book.review(refused_pr(), policy, "p1", T0 + timedelta(minutes=1))
    assert entry is not None and entry.reason == REASON and entry.since == T0
    # Lifted (labels changed): the stale status is not read back again.
    assert book.review(refused_pr(frozenset({"other"})), policy, "p1", T0) is None
    assert book.review(refused_pr(), policy, "p1", T0 + timedelta(minutes=2)) is None


def test_github_reasons_become_one_line():
    text = "Repository rule violations found\n\nChanges must be made through a pull request.\n"
    assert one_line(text) == (
        "Repository rule violations found Changes must be made through a pull request."
    )
