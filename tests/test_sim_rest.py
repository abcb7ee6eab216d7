"""REST endpoints: statuses, refs, branch merges, comparisons, protection, comments, auth."""

from __future__ import annotations

import pytest
from conftest import Reply, SimHTTP

from tide.sim import World

R = "/repos/org/repo"


def repo(world: World) -> str:
    """org/repo with a.txt on main; returns the main head sha."""
    world.create_repo("org/repo", files={"a.txt": "a\n"})
    return world.repo("org/repo").git.branches["main"]


async def test_a_status_is_created_and_wins_over_older_ones_in_the_combined_view(
    world: World, http: SimHTTP
) -> None:
    sha = repo(world)
    created = await http.rest(
        "POST",
        f"{R}/statuses/{sha}",
        {"state": "pending", "context": "tide", "description": "In merge pool."},
    )
    await http.rest("POST", f"{R}/statuses/{sha}", {"state": "success", "context": "tide"})
    await http.rest("POST", f"{R}/statuses/{sha}", {"state": "failure", "context": "ci/test"})

    combined = await http.rest("GET", f"{R}/commits/main/status")

    assert created.status == 201
    assert (created.body["context"], created.body["state"]) == ("tide", "pending")
    assert created.body["creator"]["login"] == "tide-bot"
    assert combined.body["state"] == "failure"
    assert combined.body["sha"] == sha
    assert [(s["context"], s["state"]) for s in combined.body["statuses"]] == [
        ("tide", "success"),
        ("ci/test", "failure"),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"state": "success", "context": "tide", "description": "x" * 141}, "description"),
        ({"state": "done", "context": "tide"}, "state"),
    ],
)
async def test_invalid_statuses_are_refused_with_422(
    world: World, http: SimHTTP, body: dict[str, str], field: str
) -> None:
    sha = repo(world)
    reply = await http.rest("POST", f"{R}/statuses/{sha}", body)
    assert (reply.status, reply.body["message"]) == (422, "Validation Failed")
    assert reply.body["errors"][0]["field"] == field
    assert world.repo("org/repo").statuses == {}


async def test_a_description_of_exactly_140_characters_is_accepted(
    world: World, http: SimHTTP
) -> None:
    sha = repo(world)
    reply = await http.rest(
        "POST", f"{R}/statuses/{sha}", {"state": "success", "description": "x" * 140}
    )
    assert reply.status == 201


async def test_ci_on_a_pr_head_leaves_the_pr_updated_at_alone(world: World, http: SimHTTP) -> None:
    """Statuses and check runs belong to the commit: GitHub does not count them as an update
    of the PR, so `updated:` searches do not find it for them."""
    repo(world)
    pr = world.open_pr("org/repo", files={"b": "b"})
    pr.updated_at = pr.updated_at.replace(year=2020)
    await http.rest("POST", f"{R}/statuses/{pr.head_sha}", {"state": "success", "context": "c"})
    world.add_check_run("org/repo", pr.head_sha, "build", conclusion="failure")
    assert pr.updated_at.year == 2020


async def test_check_runs_list_the_latest_run_per_name(world: World, http: SimHTTP) -> None:
    sha = repo(world)
    world.add_check_run("org/repo", sha, "build", conclusion="failure")
    world.add_check_run("org/repo", sha, "build", conclusion="success")
    world.add_check_run("org/repo", sha, "lint", status="in_progress", conclusion=None)

    reply = await http.rest("GET", f"{R}/commits/{sha}/check-runs")

    assert reply.body["total_count"] == 2
    runs = {r["name"]: (r["status"], r["conclusion"]) for r in reply.body["check_runs"]}
    assert runs == {"build": ("completed", "success"), "lint": ("in_progress", None)}


async def test_refs_are_read_created_moved_and_deleted(world: World, http: SimHTTP) -> None:
    base = repo(world)
    child = world.commit("org/repo", [base], {"b": "b"}).sha

    created = await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/tide/1", "sha": base})
    again = await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/tide/1", "sha": base})
    read = await http.rest("GET", f"{R}/git/ref/heads/tide/1")
    moved = await http.rest("PATCH", f"{R}/git/refs/heads/tide/1", {"sha": child})
    back = await http.rest("PATCH", f"{R}/git/refs/heads/tide/1", {"sha": base})
    forced = await http.rest("PATCH", f"{R}/git/refs/heads/tide/1", {"sha": base, "force": True})
    listed = await http.rest("GET", f"{R}/git/matching-refs/heads/tide/")
    deleted = await http.rest("DELETE", f"{R}/git/refs/heads/tide/1")
    gone = await http.rest("GET", f"{R}/git/ref/heads/tide/1")
    deleted_again = await http.rest("DELETE", f"{R}/git/refs/heads/tide/1")
    moved_missing = await http.rest("PATCH", f"{R}/git/refs/heads/tide/1", {"sha": base})

    assert created.status == 201
    assert created.body["ref"] == "refs/heads/tide/1"
    assert (again.status, again.body["message"]) == (422, "Reference already exists")
    assert read.body["object"]["sha"] == base
    assert moved.status == 200
    assert (back.status, back.body["message"]) == (422, "Update is not a fast forward")
    assert forced.body["object"]["sha"] == base
    assert [r["ref"] for r in listed.body] == ["refs/heads/tide/1"]
    assert deleted.status == 204
    assert gone.status == 404
    assert (deleted_again.status, deleted_again.body["message"]) == (
        422,
        "Reference does not exist",
    )
    assert (moved_missing.status, moved_missing.body["message"]) == (
        422,
        "Reference does not exist",
    )
    history = world.repo("org/repo").git.history["tide/1"]
    assert history == [base, child, base]


async def test_a_ref_to_an_unknown_commit_is_refused(world: World, http: SimHTTP) -> None:
    repo(world)
    reply = await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/x", "sha": "f" * 40})
    assert (reply.status, reply.body["message"]) == (422, "Object does not exist")


async def test_a_branch_cannot_sit_beside_a_branch_that_prefixes_it(
    world: World, http: SimHTTP
) -> None:
    base = repo(world)
    await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/tide/a", "sha": base})
    reply = await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/tide/a/b", "sha": base})
    assert reply.status == 422


async def test_branch_merges_answer_201_204_409_and_404(world: World, http: SimHTTP) -> None:
    base = repo(world)
    clean = world.open_pr("org/repo", files={"b.txt": "b\n"})
    conflicting = world.open_pr("org/repo", files={"a.txt": "mine\n"})
    other = world.open_pr("org/repo", files={"a.txt": "theirs\n"})
    await http.rest("POST", f"{R}/git/refs", {"ref": "refs/heads/tide/1", "sha": base})

    first = await http.rest(
        "POST",
        f"{R}/merges",
        {"base": "tide/1", "head": clean.head_sha, "commit_message": "Merge #1"},
    )
    same = await http.rest("POST", f"{R}/merges", {"base": "tide/1", "head": clean.head_sha})
    second = await http.rest(
        "POST", f"{R}/merges", {"base": "tide/1", "head": conflicting.head_sha}
    )
    conflict = await http.rest("POST", f"{R}/merges", {"base": "tide/1", "head": other.head_sha})
    missing = await http.rest("POST", f"{R}/merges", {"base": "nope", "head": other.head_sha})

    assert first.status == 201
    assert first.body["commit"]["message"] == "Merge #1"
    assert [p["sha"] for p in first.body["parents"]] == [base, clean.head_sha]
    assert same.status == 204
    assert second.status == 201
    assert (conflict.status, conflict.body["message"]) == (409, "Merge conflict")
    assert (missing.status, missing.body["message"]) == (404, "Base does not exist")
    staged = world.repo("org/repo").git.head("tide/1")
    assert staged is not None and staged.sha == second.body["sha"]
    assert dict(staged.tree) == {"a.txt": "mine\n", "b.txt": "b\n"}


async def test_compare_reports_ahead_behind_identical_and_diverged(
    world: World, http: SimHTTP
) -> None:
    base = repo(world)
    ahead = world.push_branch("org/repo", "feature", files={"f": "1"}).sha
    world.push_branch("org/repo", "main", files={"m": "1"})

    def status(reply: Reply) -> tuple[str, int, int]:
        return reply.body["status"], reply.body["ahead_by"], reply.body["behind_by"]

    assert status(await http.rest("GET", f"{R}/compare/{base}...{ahead}")) == ("ahead", 1, 0)
    assert status(await http.rest("GET", f"{R}/compare/{ahead}...{base}")) == ("behind", 0, 1)
    assert status(await http.rest("GET", f"{R}/compare/main...main")) == ("identical", 0, 0)
    assert status(await http.rest("GET", f"{R}/compare/main...feature")) == ("diverged", 1, 1)


async def test_branch_protection_is_read_or_404(world: World, http: SimHTTP) -> None:
    repo(world)
    world.push_branch("org/repo", "dev", files={"d": "d"})
    world.protect("org/repo", "main", contexts=["ci/test"], strict=True)

    protected = await http.rest("GET", f"{R}/branches/main/protection")
    unprotected = await http.rest("GET", f"{R}/branches/dev/protection")

    assert protected.body["required_status_checks"]["contexts"] == ["ci/test"]
    assert protected.body["required_status_checks"]["strict"] is True
    assert (unprotected.status, unprotected.body["message"]) == (404, "Branch not protected")


async def test_a_protected_branch_refuses_pushes_without_green_required_contexts(
    world: World, http: SimHTTP
) -> None:
    base = repo(world)
    world.protect("org/repo", "main", contexts=["ci/test"])
    tested = world.commit("org/repo", [base], {"b": "b"}).sha

    refused = await http.rest("PATCH", f"{R}/git/refs/heads/main", {"sha": tested})
    world.set_status("org/repo", tested, "ci/test", "success")
    accepted = await http.rest("PATCH", f"{R}/git/refs/heads/main", {"sha": tested})

    assert (refused.status, refused.body["message"]) == (
        422,
        'Required status check "ci/test" is expected.',
    )
    assert accepted.status == 200


async def test_a_branch_closed_to_direct_pushes_refuses_every_push(
    world: World, http: SimHTTP
) -> None:
    base = repo(world)
    world.protect("org/repo", "main", allow_direct_push=False)
    child = world.commit("org/repo", [base], {"b": "b"}).sha
    reply = await http.rest("PATCH", f"{R}/git/refs/heads/main", {"sha": child})
    assert reply.status == 422
    assert reply.body["message"].startswith("You're not authorized to push to this branch")


async def test_fast_forwarding_the_base_to_a_pr_head_marks_the_pr_merged(
    world: World, http: SimHTTP
) -> None:
    repo(world)
    pr = world.open_pr("org/repo", files={"b": "b"})
    untouched = world.open_pr("org/repo", files={"c": "c"})

    await http.rest("PATCH", f"{R}/git/refs/heads/main", {"sha": pr.head_sha})

    pull = await http.rest("GET", f"{R}/pulls/{pr.number}")
    assert (pull.body["state"], pull.body["merged"]) == ("closed", True)
    assert pull.body["merge_commit_sha"] == pr.head_sha
    assert untouched.state == "OPEN"
    assert world.journal.merges == []  # not a merge through the API


async def test_comments_are_posted_and_listed(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo")
    posted = await http.rest("POST", f"{R}/issues/{pr.number}/comments", {"body": "Merged."})
    empty = await http.rest("POST", f"{R}/issues/{pr.number}/comments", {"body": ""})
    listed = await http.rest("GET", f"{R}/issues/{pr.number}/comments")
    assert posted.status == 201
    assert empty.status == 422
    assert [(c["body"], c["user"]["login"]) for c in listed.body] == [("Merged.", "tide-bot")]


async def test_labels_are_added_and_removed(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", labels=["lgtm"])
    added = await http.rest("POST", f"{R}/issues/{pr.number}/labels", {"labels": ["needs-rebase"]})
    removed = await http.rest("DELETE", f"{R}/issues/{pr.number}/labels/lgtm")
    missing = await http.rest("DELETE", f"{R}/issues/{pr.number}/labels/lgtm")
    assert [la["name"] for la in added.body] == ["lgtm", "needs-rebase"]
    assert [la["name"] for la in removed.body] == ["needs-rebase"]
    assert (missing.status, missing.body["message"]) == (404, "Label does not exist")


async def test_unknown_things_are_404_with_github_s_body(world: World, http: SimHTTP) -> None:
    repo(world)
    for path in ("/repos/org/nope", f"{R}/pulls/99", f"{R}/git/ref/heads/nope", "/nowhere"):
        reply = await http.rest("GET", path)
        assert (reply.status, reply.body["message"]) == (404, "Not Found"), path
        assert reply.body["documentation_url"].startswith("https://docs.github.com")


async def test_requests_need_a_known_token(world: World, http: SimHTTP) -> None:
    missing = await http.rest("GET", "/user", token=None)
    wrong = await http.rest("GET", "/user", token="nope")
    right = await http.rest("GET", "/user")
    assert (missing.status, missing.body["message"]) == (401, "Requires authentication")
    assert (wrong.status, wrong.body["message"]) == (401, "Bad credentials")
    assert right.body["login"] == "tide-bot"


async def test_rest_has_its_own_hourly_budget(world: World, http: SimHTTP) -> None:
    repo(world)
    first = await http.rest("GET", f"{R}")
    world.budgets.set_remaining("sim-token", world.now(), rest=0)
    limited = await http.rest("GET", f"{R}")
    limits = await http.rest("GET", "/rate_limit")

    assert first.headers["x-ratelimit-limit"] == "5000"
    assert first.headers["x-ratelimit-remaining"] == "4999"
    assert first.headers["x-ratelimit-used"] == "1"
    assert int(first.headers["x-ratelimit-reset"]) > 0
    assert limited.status == 403
    assert limited.body["message"].startswith("API rate limit exceeded for")
    assert limited.headers["x-ratelimit-remaining"] == "0"
    assert limits.status == 200
    assert limits.body["resources"]["core"]["remaining"] == 0
    assert limits.body["resources"]["graphql"]["remaining"] == 5000


async def test_an_archived_repository_refuses_writes(world: World, http: SimHTTP) -> None:
    sha = repo(world)
    world.repo("org/repo").archived = True
    reply = await http.rest("POST", f"{R}/statuses/{sha}", {"state": "success"})
    assert (reply.status, reply.body["message"]) == (
        403,
        "Repository was archived so is read-only.",
    )


async def test_the_journal_counts_requests_per_endpoint(world: World, http: SimHTTP) -> None:
    repo(world)
    await http.rest("GET", f"{R}/pulls/1")
    await http.rest("GET", f"{R}/pulls/2")
    await http.rest("GET", "/user")
    assert world.journal.count("GET /repos/{owner}/{repo}/pulls/{number}") == 2
    assert world.journal.count("GET /repos/{owner}/{repo}/pulls/{number}", 404) == 2
    assert world.journal.count("GET /user", 200) == 1
    assert [r.status for r in world.journal.requests] == [404, 404, 200]


async def test_names_with_slashes_work_in_paths(world: World, http: SimHTTP) -> None:
    repo(world)
    pr = world.open_pr("org/repo", labels=["do-not-merge/hold"])
    staged = world.push_branch("org/repo", "tide/main/1", files={"s": "s"})
    world.set_status("org/repo", staged.sha, "ci/test", "success")

    removed = await http.rest("DELETE", f"{R}/issues/{pr.number}/labels/do-not-merge%2Fhold")
    status = await http.rest("GET", f"{R}/commits/tide/main/1/status")

    assert (removed.status, removed.body) == (200, [])
    assert (status.body["sha"], status.body["state"]) == (staged.sha, "success")
