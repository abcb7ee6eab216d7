"""Merging pull requests through `PUT /pulls/{n}/merge`, as GitHub answers it."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import SimHTTP

from tide.clock import VirtualClock
from tide.sim import World
from tide.sim.faults import Faults

MERGE = "/repos/org/repo/pulls/{}/merge"


def repo(world: World, **settings: Any) -> None:
    world.create_repo("org/repo", files={"a.txt": "a\n", "b.txt": "b\n"}, **settings)


async def test_merge_method_creates_a_merge_commit_with_base_and_head_as_parents(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"}, title="Add c")
    base_before = world.repo("org/repo").git.branches["main"]

    reply = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})

    assert reply.status == 200
    assert reply.body["merged"] is True
    assert reply.body["message"] == "Pull Request successfully merged"
    git = world.repo("org/repo").git
    merged = git.commits[reply.body["sha"]]
    assert git.branches["main"] == merged.sha
    assert merged.parents == (base_before, pr.head_sha)
    assert dict(merged.tree) == {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n"}
    assert merged.message.startswith("Merge pull request #1 from org/change-1")


async def test_squash_creates_one_commit_on_the_base_with_the_combined_tree(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"}, title="Add c")
    world.push(pr, files={"d.txt": "d\n"})
    base_before = world.repo("org/repo").git.branches["main"]

    reply = await http.rest(
        "PUT", MERGE.format(pr.number), {"sha": pr.head_sha, "merge_method": "squash"}
    )

    assert reply.status == 200
    squashed = world.repo("org/repo").git.commits[reply.body["sha"]]
    assert squashed.parents == (base_before,)
    assert dict(squashed.tree) == {"a.txt": "a\n", "b.txt": "b\n", "c.txt": "c\n", "d.txt": "d\n"}
    assert squashed.headline == "Add c (#1)"


async def test_rebase_replays_each_pr_commit_on_the_base(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"}, title="Add c")
    world.push(pr, files={"d.txt": "d\n"}, message="Add d")
    other = world.push_branch("org/repo", "main", files={"b.txt": "B\n"}, message="Base moves")

    reply = await http.rest(
        "PUT", MERGE.format(pr.number), {"sha": pr.head_sha, "merge_method": "rebase"}
    )

    assert reply.status == 200
    git = world.repo("org/repo").git
    top = git.commits[reply.body["sha"]]
    below = git.commits[top.parents[0]]
    assert below.parents == (other.sha,)
    assert (below.message, top.message) == ("Add c", "Add d")
    assert dict(below.tree) == {"a.txt": "a\n", "b.txt": "B\n", "c.txt": "c\n"}
    assert dict(top.tree) == {"a.txt": "a\n", "b.txt": "B\n", "c.txt": "c\n", "d.txt": "d\n"}
    assert top.sha != pr.head_sha


async def test_custom_commit_title_and_message_are_used(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    reply = await http.rest(
        "PUT",
        MERGE.format(pr.number),
        {"sha": pr.head_sha, "commit_title": "1: Add c", "commit_message": "body text"},
    )
    assert world.repo("org/repo").git.commits[reply.body["sha"]].message == "1: Add c\n\nbody text"


async def test_merging_closes_the_pr_as_merged_and_records_the_merge(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    reply = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})

    pull = await http.rest("GET", f"/repos/org/repo/pulls/{pr.number}")
    assert pull.body["state"] == "closed"
    assert pull.body["merged"] is True
    assert pull.body["merge_commit_sha"] == reply.body["sha"]
    assert pull.body["mergeable"] is None  # GitHub stops computing it once merged
    assert [(m.number, m.sha, m.actor) for m in world.journal.merges] == [
        (1, reply.body["sha"], "tide-bot")
    ]


async def test_stale_sha_is_refused_with_409(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    old_head = pr.head_sha
    world.push(pr, files={"c.txt": "c2\n"})

    reply = await http.rest("PUT", MERGE.format(pr.number), {"sha": old_head})

    assert reply.status == 409
    assert reply.body["message"] == "Head branch was modified. Review and try the merge again."
    assert pr.state == "OPEN"


@pytest.mark.parametrize(
    ("setting", "method", "message"),
    [
        ("allow_merge", "merge", "Merge commits are not allowed on this repository."),
        ("allow_squash", "squash", "Squash merges are not allowed on this repository."),
        ("allow_rebase", "rebase", "Rebase merges are not allowed on this repository."),
    ],
)
async def test_a_disallowed_merge_method_is_refused_with_405(
    world: World, http: SimHTTP, setting: str, method: str, message: str
) -> None:
    repo(world, **{setting: False})
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    reply = await http.rest(
        "PUT", MERGE.format(pr.number), {"sha": pr.head_sha, "merge_method": method}
    )
    assert (reply.status, reply.body["message"]) == (405, message)


async def test_an_invalid_merge_method_is_a_422(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    reply = await http.rest("PUT", MERGE.format(pr.number), {"merge_method": "octopus"})
    assert reply.status == 422
    assert reply.body["errors"][0]["field"] == "merge_method"


async def test_conflicting_draft_and_closed_prs_are_not_mergeable(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    conflicting = world.open_pr("org/repo", files={"a.txt": "mine\n"})
    world.push_branch("org/repo", "main", files={"a.txt": "theirs\n"})
    draft = world.open_pr("org/repo", files={"d.txt": "d\n"}, draft=True)
    closed = world.open_pr("org/repo", files={"e.txt": "e\n"})
    world.close_pr(closed)

    for pr in (conflicting, draft, closed):
        reply = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})
        assert (reply.status, reply.body["message"]) == (405, "Pull Request is not mergeable")
    assert world.journal.merges == []


async def test_protection_requires_green_required_contexts_on_the_head(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    world.protect("org/repo", "main", contexts=["ci/test"])
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    path = MERGE.format(pr.number)

    missing = await http.rest("PUT", path, {"sha": pr.head_sha})
    world.set_status("org/repo", pr.head_sha, "ci/test", "failure")
    failing = await http.rest("PUT", path, {"sha": pr.head_sha})
    world.set_status("org/repo", pr.head_sha, "ci/test", "success")
    passing = await http.rest("PUT", path, {"sha": pr.head_sha})

    assert (missing.status, missing.body["message"]) == (
        405,
        'Required status check "ci/test" is expected.',
    )
    assert (failing.status, failing.body["message"]) == (
        405,
        'Required status check "ci/test" is failing.',
    )
    assert passing.status == 200


async def test_strict_protection_refuses_a_head_behind_the_base(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    world.protect("org/repo", "main", strict=True)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    world.push_branch("org/repo", "main", files={"z.txt": "z\n"})

    reply = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})

    assert reply.status == 405
    assert world.merge_state_status(pr) == "BEHIND"


async def test_base_branch_modified_is_injected_by_fault_script(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    http.server.faults.base_branch_modified()

    first = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})
    second = await http.rest("PUT", MERGE.format(pr.number), {"sha": pr.head_sha})

    assert (first.status, first.body["message"]) == (
        405,
        "Base branch was modified. Review and try the merge again.",
    )
    assert second.status == 200


async def test_a_merge_makes_other_prs_mergeability_recompute(world: World, http: SimHTTP) -> None:
    repo(world)
    first = world.open_pr("org/repo", files={"a.txt": "first\n"})
    second = world.open_pr("org/repo", files={"a.txt": "second\n"})
    assert world.mergeable(second) == "MERGEABLE"

    await http.rest("PUT", MERGE.format(first.number), {"sha": first.head_sha})

    pull = await http.rest("GET", f"/repos/org/repo/pulls/{second.number}")
    assert pull.body["mergeable"] is False
    assert pull.body["mergeable_state"] == "dirty"


def test_mergeable_is_unknown_for_the_delay_after_a_base_push() -> None:
    clock = VirtualClock()
    world = World(clock, mergeable_delay=5)
    repo(world)
    pr = world.open_pr("org/repo", files={"a.txt": "mine\n"})
    assert world.mergeable(pr) == "UNKNOWN"
    clock.advance(5)
    assert world.mergeable(pr) == "MERGEABLE"

    world.push_branch("org/repo", "main", files={"a.txt": "theirs\n"})

    assert (world.mergeable(pr), world.merge_state_status(pr)) == ("UNKNOWN", "UNKNOWN")
    clock.advance(4.9)
    assert world.mergeable(pr) == "UNKNOWN"
    clock.advance(0.2)
    assert (world.mergeable(pr), world.merge_state_status(pr)) == ("CONFLICTING", "DIRTY")


async def test_mergeable_unknown_reads_as_null_over_rest(world: World, http: SimHTTP) -> None:
    world.mergeable_delay = 60
    repo(world)
    pr = world.open_pr("org/repo", files={"c.txt": "c\n"})
    pull = await http.rest("GET", f"/repos/org/repo/pulls/{pr.number}")
    assert (pull.body["mergeable"], pull.body["mergeable_state"]) == (None, "unknown")


def test_merge_state_status_follows_github_precedence() -> None:
    world = World(VirtualClock())
    repo(world)
    world.protect("org/repo", "main", contexts=["ci/test"], strict=True)
    draft = world.open_pr("org/repo", files={"d.txt": "d\n"}, draft=True)
    blocked = world.open_pr("org/repo", files={"c.txt": "c\n"})
    clean = world.open_pr("org/repo", files={"e.txt": "e\n"})
    world.set_status("org/repo", clean.head_sha, "ci/test", "success")
    assert world.merge_state_status(draft) == "DRAFT"
    assert world.merge_state_status(blocked) == "BLOCKED"
    assert world.merge_state_status(clean) == "CLEAN"


async def test_faults_fixture_is_seeded_from_the_world(world: World, http: SimHTTP) -> None:
    assert isinstance(http.server.faults, Faults)
    assert http.server.faults.seed == world.seed
