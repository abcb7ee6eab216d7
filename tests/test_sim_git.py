"""The simulator's git model: content addressing, ancestry, merge bases, 3-way merges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tide.sim.world.git import GitStore, MergeConflict, merge_trees

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def store_with_fork() -> tuple[GitStore, str, str, str]:
    """root -> left, root -> right; returns (git, root, left, right)."""
    git = GitStore()
    root = git.make_commit({"a": "1", "b": "1"}, (), "root", "alice", T0).sha
    left = git.make_commit({"a": "2", "b": "1"}, (root,), "left", "alice", T0).sha
    right = git.make_commit({"a": "1", "b": "2"}, (root,), "right", "bob", T0).sha
    return git, root, left, right


def test_commit_sha_is_the_hash_of_its_content() -> None:
    git = GitStore()
    one = git.make_commit({"a": "1"}, (), "m", "alice", T0)
    same = git.make_commit({"a": "1"}, (), "m", "alice", T0)
    other = git.make_commit({"a": "2"}, (), "m", "alice", T0)
    assert one.sha == same.sha
    assert one.sha != other.sha
    assert len(one.sha) == 40 and int(one.sha, 16) >= 0


def test_commits_are_immutable() -> None:
    git = GitStore()
    commit = git.make_commit({"a": "1"}, (), "m", "alice", T0)
    with pytest.raises(TypeError):
        commit.tree["a"] = "2"  # type: ignore[index]


def test_ancestry_follows_parents_only() -> None:
    git, root, left, right = store_with_fork()
    assert git.is_ancestor(root, left)
    assert git.is_ancestor(left, left)
    assert not git.is_ancestor(left, root)
    assert not git.is_ancestor(left, right)


def test_merge_base_is_the_lowest_common_ancestor() -> None:
    git, root, left, right = store_with_fork()
    merged = git.make_commit({"a": "2", "b": "2"}, (left, right), "merge", "alice", T0).sha
    later = git.make_commit({"a": "3", "b": "2"}, (merged,), "later", "alice", T0).sha
    assert git.merge_base(left, right) == root
    assert git.merge_base(later, right) == right
    assert git.merge_base(left, later) == left


def test_merge_takes_each_side_s_changes() -> None:
    git, _, left, right = store_with_fork()
    assert git.merge_result(left, right) == {"a": "2", "b": "2"}


@pytest.mark.parametrize(
    ("base", "ours", "theirs"),
    [
        ({"a": "1"}, {"a": "2"}, {"a": "3"}),  # changed differently on both sides
        ({"a": "1"}, {}, {"a": "3"}),  # deleted on one side, changed on the other
        ({"a": "1"}, {"a": "2"}, {}),
        ({}, {"a": "1"}, {"a": "2"}),  # added differently on both sides
    ],
)
def test_conflicting_changes_to_one_path_are_a_conflict(
    base: dict[str, str], ours: dict[str, str], theirs: dict[str, str]
) -> None:
    with pytest.raises(MergeConflict) as raised:
        merge_trees(base, ours, theirs)
    assert raised.value.paths == ("a",)


def test_identical_changes_and_deletions_on_both_sides_merge_cleanly() -> None:
    assert merge_trees({"a": "1", "b": "1"}, {"a": "2"}, {"a": "2"}) == {"a": "2"}


def test_replaying_commits_onto_a_new_base_keeps_both_sides() -> None:
    git, _, left, right = store_with_fork()
    second = git.make_commit({"a": "2", "b": "1", "c": "1"}, (left,), "second", "alice", T0)
    trees = git.replay_trees([git.commits[left], second], right)
    assert trees == [{"a": "2", "b": "2"}, {"a": "2", "b": "2", "c": "1"}]


def test_only_in_lists_the_commits_a_branch_adds_oldest_first() -> None:
    git, root, left, _ = store_with_fork()
    second = git.make_commit({"a": "9", "b": "1"}, (left,), "second", "alice", T0).sha
    assert [c.sha for c in git.only_in(second, root)] == [left, second]
    assert git.only_in(root, second) == []


def test_branch_history_records_every_commit_a_branch_pointed_to() -> None:
    git, root, left, right = store_with_fork()
    for sha in (root, left, left, right):
        git.set_branch("main", sha)
    assert git.history["main"] == [root, left, right]


def test_refs_resolve_by_sha_abbreviation_and_branch_name() -> None:
    git, root, left, _ = store_with_fork()
    git.set_branch("feature/x", left)
    assert git.resolve(root) is git.commits[root]
    assert git.resolve(left[:8]) is git.commits[left]
    assert git.resolve("feature/x") is git.commits[left]
    assert git.resolve("heads/feature/x") is git.commits[left]
    assert git.resolve("nope") is None
