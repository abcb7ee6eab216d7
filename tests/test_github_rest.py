"""REST calls against the simulator: merge errors mapped as Tide maps them, the staging-branch
primitives, statuses and checks, protection, comments and labels."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import AsyncIterator

import pytest
import structlog

from tide.github import (
    BaseModified,
    GitHub,
    GitHubEndpoint,
    GitHubError,
    HeadModified,
    InvalidRequest,
    MergeCommitsForbidden,
    MergeConflict,
    MergeRejected,
    NotFastForward,
    RefExists,
    RetryPolicy,
    StaticToken,
    Unauthorized,
    Unmergeable,
)
from tide.model import Mergeable, MergeMethod, State
from tide.sim import SimServer, World

NOT_AUTHORIZED = (
    "You're not authorized to push to this branch. Visit "
    "https://docs.github.com/articles/about-protected-branches/ for more information."
)


@pytest.fixture
async def gh(world: World, sim: SimServer) -> AsyncIterator[GitHub]:
    async with GitHub(
        GitHubEndpoint(sim.graphql_url, sim.api_url),
        StaticToken("sim-token"),
        clock=world.clock,  # searches end at "now": the world's now
        retry=RetryPolicy(attempts=2, base_delay=0.01),
        rng=random.Random(0),
    ) as client:
        yield client


@pytest.fixture
def repo(world: World):
    return world.create_repo("org/repo", {"a.txt": "base\n"})


def main_sha(world: World) -> str:
    return world.repo("org/repo").git.branches["main"]


# -- merging a pull request ----------------------------------------------------------------------


async def test_merge_pull_returns_the_merge_commit_and_github_marks_the_pr_merged(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})

    sha = await gh.rest.merge_pull(
        "org", "repo", pr.number, sha=pr.head_sha, method=MergeMethod.SQUASH, title="Squashed"
    )

    assert sha == main_sha(world)
    state = await gh.rest.get_pull("org", "repo", pr.number)
    assert (state.merged, state.state, state.merge_commit_sha) == (True, "closed", sha)
    assert world.repo("org/repo").git.commits[sha].message.startswith("Squashed")


async def test_merge_of_a_moved_head_is_head_modified(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})
    old = pr.head_sha
    world.push(pr, {"b.txt": "b2"})

    with pytest.raises(HeadModified) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=old, method="merge")

    assert caught.value.status == 409
    assert "Head branch was modified" in str(caught.value)


async def test_base_branch_was_modified_is_its_own_error(world, repo, sim, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})
    sim.faults.base_branch_modified()

    with pytest.raises(BaseModified) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="merge")

    assert str(caught.value) == (
        "PUT /repos/org/repo/pulls/1/merge: "
        "Base branch was modified. Review and try the merge again."
    )


async def test_not_authorized_to_push_is_unauthorized(world, repo, sim, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})
    sim.faults.script("/repos/org/repo/pulls/1/merge", 405, body={"message": NOT_AUTHORIZED})

    with pytest.raises(Unauthorized):
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="merge")


async def test_merge_commits_not_allowed_is_merge_commits_forbidden(world, gh):
    world.create_repo("org/repo", {"a.txt": "1"}, allow_merge=False)
    pr = world.open_pr("org/repo", {"b.txt": "b"})

    with pytest.raises(MergeCommitsForbidden) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="merge")

    assert "Merge commits are not allowed on this repository" in str(caught.value)


async def test_a_conflicting_pr_is_unmergeable(world, repo, gh):
    pr = world.open_pr(repo, {"a.txt": "theirs\n"})
    world.push_branch(repo, "main", {"a.txt": "ours\n"})

    with pytest.raises(Unmergeable) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="merge")

    assert caught.value.message == "Pull Request is not mergeable"


async def test_a_failing_required_check_is_unmergeable_with_githubs_reason(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})
    world.protect(repo, "main", contexts=["ci/test"])
    world.set_status(repo, pr.head_sha, "ci/test", "failure")

    with pytest.raises(Unmergeable) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="merge")

    assert "ci/test" in caught.value.message


async def test_an_invalid_merge_method_is_a_plain_github_error(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})

    with pytest.raises(GitHubError) as caught:
        await gh.rest.merge_pull("org", "repo", pr.number, sha=pr.head_sha, method="octopus")

    assert caught.value.status == 422
    assert not isinstance(caught.value, MergeRejected)


# -- staging branch primitives -------------------------------------------------------------------


async def test_a_merge_answer_without_its_tree_records_none_and_without_its_sha_is_an_error(
    world, repo, sim, gh
):
    """A stacked run compares the tree recorded from this answer with the base's: a missing
    tree must record nothing (the run is re-run, never landed on a guess)."""
    pr = world.open_pr(repo, {"b.txt": "b"})
    await gh.rest.create_ref("org", "repo", "refs/heads/tide/main/9", main_sha(world))
    sim.faults.script("/repos/org/repo/merges", 201, body={"sha": "a" * 40, "commit": {}})
    made = await gh.rest.merge_branches("org", "repo", "tide/main/9", pr.head_sha, "tide: #1")
    assert made is not None and (made.sha, made.tree_sha) == ("a" * 40, "")
    sim.faults.script("/repos/org/repo/merges", 201, body={"commit": {"tree": {"sha": "b" * 40}}})
    with pytest.raises(GitHubError, match="without the new commit's sha"):
        await gh.rest.merge_branches("org", "repo", "tide/main/9", pr.head_sha, "tide: #1")


async def test_staging_flow_create_merge_update_delete(world, repo, gh):
    first = world.open_pr(repo, {"b.txt": "b"})
    second = world.open_pr(repo, {"c.txt": "c"})
    base = main_sha(world)

    await gh.rest.create_ref("org", "repo", "refs/heads/tide/main/1", base)
    merged_first = await gh.rest.merge_branches(
        "org", "repo", "tide/main/1", first.head_sha, "tide: #1"
    )
    merged_second = await gh.rest.merge_branches(
        "org", "repo", "tide/main/1", second.head_sha, "tide: #2"
    )
    again = await gh.rest.merge_branches("org", "repo", "tide/main/1", first.head_sha, "noop")

    assert merged_first is not None and merged_second is not None
    assert await gh.rest.get_ref("org", "repo", "heads/tide/main/1") == merged_second.sha
    assert merged_second.tree_sha and merged_second.tree_sha != merged_first.tree_sha
    assert again is None  # 204: already contained
    assert await gh.rest.compare("org", "repo", "main", "tide/main/1") == "ahead"

    await gh.rest.update_ref("org", "repo", "heads/main", merged_second.sha)
    assert main_sha(world) == merged_second.sha

    await gh.rest.delete_ref("org", "repo", "heads/tide/main/1")
    assert await gh.rest.get_ref("org", "repo", "heads/tide/main/1") is None
    await gh.rest.delete_ref("org", "repo", "heads/tide/main/1")  # already gone is fine


async def test_creating_an_existing_ref_is_ref_exists(world, repo, gh):
    with pytest.raises(RefExists):
        await gh.rest.create_ref("org", "repo", "heads/main", main_sha(world))


async def test_merging_a_conflicting_head_into_staging_is_merge_conflict(world, repo, gh):
    one = world.open_pr(repo, {"a.txt": "one\n"})
    two = world.open_pr(repo, {"a.txt": "two\n"})
    await gh.rest.create_ref("org", "repo", "heads/tide/main/2", main_sha(world))
    await gh.rest.merge_branches("org", "repo", "tide/main/2", one.head_sha, "tide: #1")

    with pytest.raises(MergeConflict) as caught:
        await gh.rest.merge_branches("org", "repo", "tide/main/2", two.head_sha, "tide: #2")

    assert caught.value.status == 409


async def test_moving_a_ref_backwards_without_force_is_not_fast_forward(world, repo, gh):
    old = main_sha(world)
    world.push_branch(repo, "main", {"a.txt": "newer\n"})

    with pytest.raises(NotFastForward):
        await gh.rest.update_ref("org", "repo", "heads/main", old)
    await gh.rest.update_ref("org", "repo", "heads/main", old, force=True)

    assert main_sha(world) == old


async def test_get_ref_of_a_missing_branch_is_none(repo, gh):
    assert await gh.rest.get_ref("org", "repo", "heads/nope") is None


# -- statuses and checks -------------------------------------------------------------------------


async def test_created_status_shows_in_the_combined_status(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})

    await gh.rest.create_status(
        "org",
        "repo",
        pr.head_sha,
        context="tide",
        state="pending",
        description="Not mergeable. Needs lgtm label.",
        target_url="https://tide.example/pr",
    )
    contexts = await gh.rest.combined_status("org", "repo", pr.head_sha)

    assert [(c.name, c.state, c.description, c.target_url) for c in contexts] == [
        ("tide", State.PENDING, "Not mergeable. Needs lgtm label.", "https://tide.example/pr")
    ]


async def test_a_status_description_over_140_characters_is_refused_locally(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})

    with pytest.raises(InvalidRequest, match="141 characters"):
        await gh.rest.create_status(
            "org", "repo", pr.head_sha, context="tide", state="pending", description="x" * 141
        )

    assert gh.counters.snapshot() == {}


async def test_head_contexts_from_rest_when_graphql_missed_the_head(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"})
    world.set_status(repo, pr.head_sha, "ci/unit", "success")
    world.add_check_run(repo, pr.head_sha, "lint", conclusion="neutral")
    world.add_check_run(repo, pr.head_sha, "e2e", status="in_progress", conclusion=None)
    found = (await gh.search.pull_requests('is:pr repo:"org/repo"')).items[0]
    missed = dataclasses.replace(found, head_contexts=None)

    [completed] = await gh.complete_head_contexts([missed])

    assert completed.head_contexts is not None
    assert {(c.name, c.state) for c in completed.head_contexts} == {
        ("ci/unit", State.SUCCESS),
        ("lint", State.SUCCESS),
        ("e2e", State.PENDING),
    }
    assert {(c.name, c.state) for c in found.head_contexts or ()} == {
        (c.name, c.state) for c in completed.head_contexts
    }


# -- repository, protection, comments, labels ------------------------------------------------------


async def test_branch_protection_contexts_or_none_when_unprotected(world, repo, gh):
    world.protect(repo, "main", contexts=["ci/test", "ci/lint"])

    assert await gh.rest.branch_protection_contexts("org", "repo", "main") == (
        "ci/test",
        "ci/lint",
    )
    world.push_branch(repo, "dev", {"d.txt": "d"})
    assert await gh.rest.branch_protection_contexts("org", "repo", "dev") is None


async def test_unreadable_protection_is_none_with_a_warning(repo, sim, gh):
    sim.faults.script(
        "/repos/org/repo/branches/main/protection",
        403,
        body={"message": "Must have admin rights to Repository."},
    )

    with structlog.testing.capture_logs() as logs:
        contexts = await gh.rest.branch_protection_contexts("org", "repo", "main")

    assert contexts is None
    logs = [e for e in logs if e["log_level"] != "debug"]
    assert [e["event"] for e in logs] == ["github.protection_unreadable"]
    assert logs[0]["log_level"] == "warning"


async def test_comment_and_label_removal(world, repo, gh):
    pr = world.open_pr(repo, {"b.txt": "b"}, labels=["tide/retest", "lgtm"])

    await gh.rest.create_comment("org", "repo", pr.number, "Retesting as asked.")
    await gh.rest.remove_label("org", "repo", pr.number, "tide/retest")
    await gh.rest.remove_label("org", "repo", pr.number, "tide/retest")  # absent is fine

    assert [c.body for c in pr.comments] == ["Retesting as asked."]
    assert pr.labels == ["lgtm"]


async def test_get_pull_reports_unknown_mergeability_while_github_computes_it(world, repo, gh):
    world.mergeable_delay = 60
    pr = world.open_pr(repo, {"b.txt": "b"})

    state = await gh.rest.get_pull("org", "repo", pr.number)

    assert state.mergeable is Mergeable.UNKNOWN
    assert (state.head_sha, state.base_ref, state.merged) == (pr.head_sha, "main", False)


async def test_repository_state_lists_staging_branches_with_their_commits(world, repo, gh):
    world.create_repo("org/strict", allow_merge=False, allow_rebase=False)
    pr = world.open_pr(repo, {"b.txt": "b"})
    await gh.rest.create_ref("org", "repo", "heads/tide/main/7", main_sha(world))
    made = await gh.rest.merge_branches(
        "org", "repo", "tide/main/7", pr.head_sha, "tide: base x\n\n#1 y"
    )
    assert made is not None
    sha = made.sha
    world.set_status(repo, sha, "ci/test", "pending")

    state = await gh.repository_state("org", "repo", "tide/")
    strict = await gh.repository_state("org", "strict", "tide/")

    assert [(r.name, r.commit_sha, r.message) for r in state.staging_refs] == [
        ("tide/main/7", sha, "tide: base x\n\n#1 y")
    ]
    assert [(c.name, c.state) for c in state.staging_refs[0].contexts] == [
        ("ci/test", State.PENDING)
    ]
    assert state.settings.allow_merge and strict.staging_refs == ()
    assert not strict.settings.allow_merge and not strict.settings.allow_rebase
    found = await gh.branch_commit("org", "repo", "main")
    assert found is not None and found[0] == main_sha(world)
    assert await gh.branch_commit("org", "repo", "nope") is None
