"""Who stands by, from a repository's staging commits alone (pure): another identity's
recent commit means standing by until it is `expiry` old; a race settles on one instance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tide.github.records import StagingRef
from tide.instance import instance_of, standby_for
from tide.model import StagedPR
from tide.staging import commit_message, scratch_ref

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
EXPIRY = 900.0


def ref(who: str | None, minutes_ago: float, name: str = "tide/main-1") -> StagingRef:
    message = "Tide staging: org/repo:main + #1\n\nTide-Branch: main\n"
    if who is not None:
        message += f"Tide-Instance: {who}\n"
    return StagingRef(name, "c0ffee", message, NOW - timedelta(minutes=minutes_ago))


def test_another_instances_recent_commit_means_standing_by_until_it_expires():
    standby = standby_for("me", "org/repo", [ref("other", 5)], NOW, EXPIRY)

    assert standby is not None
    assert standby.holder == "other"
    assert standby.until == NOW + timedelta(minutes=10)
    assert "acting after 2026-01-05 12:10:00 UTC" in standby.reason


def test_old_commits_own_commits_and_unmarked_commits_do_not_hold_anyone_back():
    refs = [ref("other", 16), ref("me", 1), ref(None, 1)]

    assert standby_for("me", "org/repo", refs, NOW, EXPIRY) is None


def test_a_race_settles_on_the_smaller_identity():
    refs = [ref("tide-a", 1, "tide/main-1"), ref("tide-b", 1, "tide/main-2")]

    assert standby_for("tide-a", "org/repo", refs, NOW, EXPIRY) is None
    held = standby_for("tide-b", "org/repo", refs, NOW, EXPIRY)
    assert held is not None and held.holder == "tide-a"


def test_a_future_date_cannot_hold_the_queue_longer_than_one_expiry():
    forged = ref("other", -24 * 60)  # dated a day ahead by whoever pushed it

    standby = standby_for("me", "org/repo", [forged], NOW, EXPIRY)

    assert standby is not None and standby.until == NOW + timedelta(seconds=EXPIRY)


def test_staging_commits_carry_the_identity_and_scratch_names_are_per_instance():
    message = commit_message("org", "repo", "main", "b" * 40, [StagedPR(1, "a" * 40)], 1, "x-1")

    assert instance_of(message) == "x-1"
    assert scratch_ref("tide/", "abc", "x-1") == "tide-build/x-1/abc"
    assert scratch_ref("tide/", "abc", "y-2") != scratch_ref("tide/", "abc", "x-1")
