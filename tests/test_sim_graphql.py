"""GraphQL as the simulator serves it: the daemon's documents, costs, budgets, errors."""

from __future__ import annotations

import pytest
from conftest import SimHTTP
from graphql import OperationDefinitionNode, parse

from tide.clock import VirtualClock
from tide.github.documents import document, document_names
from tide.github.schema import github_schema
from tide.sim import FakeCI, Job, World
from tide.sim.graphql.cost import analyse

DOCUMENT_VARIABLES = {
    "viewer": {},
    "branch_head": {"owner": "org", "name": "repo", "qualifiedName": "refs/heads/main"},
    "repository_state": {"owner": "org", "name": "repo", "stagingPrefix": "refs/heads/tide/"},
    "search_issues": {"query": 'is:issue state:open label:"blocker" repo:"org/repo"'},
    "search_pull_requests": {"query": 'is:pr state:open label:"lgtm" repo:"org/repo"'},
    "search_pull_request_ids": {"query": 'is:pr state:open label:"lgtm" repo:"org/repo"'},
    "pull_request_details": {"ids": []},  # the test fills in the PR's node id
    # The oid is filled in from the world: the head of the staging branch `populated` pushes.
    "commit_ancestry": {"owner": "org", "name": "repo", "oid": ""},
    "repository_id": {"owner": "org", "name": "repo"},
    "repository_states": {"ids": [], "stagingPrefix": "refs/heads/tide/"},  # filled in too
}
# requests: search_pull_requests = search 1 + per PR labels, comments, commits (100 each)
# + per commit rollup contexts (100 x 4); repository_state = refs 1 + per ref contexts 100.
DOCUMENT_COSTS = {
    "viewer": 1,
    "branch_head": 1,
    "repository_state": 1,
    "search_issues": 1,
    "search_pull_requests": 7,
    # search 1, nothing nested; `nodes` is a list: labels, comments, commits 1 each + rollup 4
    "search_pull_request_ids": 1,
    "pull_request_details": 1,
    "commit_ancestry": 1,
    "repository_id": 1,
    # `nodes` is a list: refs 1 + per ref rollup contexts 100 = 101 requests, 1 point
    "repository_states": 1,
}


def populated(world: World) -> None:
    ci = FakeCI([Job("ci/test", duration=0), Job("ci/lint", kind="check_run", duration=0)])
    world.create_repo("org/repo", files={"a.txt": "a"}, ci=ci)
    pr = world.open_pr("org/repo", files={"b.txt": "b"}, labels=["lgtm"], title="Add b")
    world.comment(pr, "looks good", author="bob")
    world.open_issue("org/repo", "Stop", labels=["blocker"])
    world.push_branch("org/repo", "tide/batch-1", files={"c.txt": "c"})


def test_every_query_document_has_variables_and_a_known_cost() -> None:
    assert set(document_names()) == set(DOCUMENT_VARIABLES) == set(DOCUMENT_COSTS)


@pytest.mark.parametrize("name", sorted(DOCUMENT_VARIABLES))
async def test_every_daemon_document_runs_without_errors_and_reports_its_cost(
    world: World, http: SimHTTP, name: str
) -> None:
    populated(world)
    world.tick()
    variables = dict(DOCUMENT_VARIABLES[name])
    if name == "pull_request_details":
        variables = {"ids": [world.pr("org/repo", 1).node_id]}
    if "oid" in variables:
        variables["oid"] = world.repo("org/repo").git.branches["tide/batch-1"]

    if name == "repository_states":
        variables = {**variables, "ids": [world.repo("org/repo").node_id]}
    reply = await http.graphql(document(name), variables)

    assert reply.status == 200
    assert "errors" not in reply.body, reply.body.get("errors")
    rate = reply.body["data"]["rateLimit"]
    assert rate["cost"] == DOCUMENT_COSTS[name]
    assert rate["remaining"] == 5000 - DOCUMENT_COSTS[name]
    assert reply.headers["x-ratelimit-remaining"] == str(rate["remaining"])
    assert reply.headers["x-ratelimit-resource"] == "graphql"


async def test_search_pull_requests_reads_what_the_criteria_need(
    world: World, http: SimHTTP
) -> None:
    populated(world)
    world.protect("org/repo", "main", contexts=["ci/test"])
    world.tick()

    reply = await http.graphql(
        document("search_pull_requests"), DOCUMENT_VARIABLES["search_pull_requests"]
    )

    [pr] = reply.body["data"]["search"]["nodes"]
    head = world.pr("org/repo", 1).head_sha
    assert pr["headRefOid"] == head
    assert (pr["mergeable"], pr["mergeStateStatus"], pr["isDraft"]) == ("MERGEABLE", "CLEAN", False)
    assert pr["baseRef"] == {"name": "main", "prefix": "refs/heads/"}
    assert pr["labels"]["nodes"] == [{"name": "lgtm"}]
    assert pr["comments"]["nodes"][0]["author"] == {"login": "bob"}
    [commit] = pr["commits"]["nodes"]
    assert commit["commit"]["oid"] == head
    assert [(c["context"], c["state"]) for c in commit["commit"]["status"]["contexts"]] == [
        ("ci/test", "SUCCESS")
    ]
    rollup = commit["commit"]["statusCheckRollup"]["contexts"]["nodes"]
    check_runs = [n for n in rollup if n["__typename"] == "CheckRun"]
    assert [(c["name"], c["status"], c["conclusion"]) for c in check_runs] == [
        ("ci/lint", "COMPLETED", "SUCCESS")
    ]


async def test_a_bot_author_reads_as_a_bot_without_the_bot_suffix(
    world: World, http: SimHTTP
) -> None:
    world.create_repo("org/repo")
    world.open_pr("org/repo", labels=["lgtm"], author="dependabot[bot]")
    reply = await http.graphql(
        document("search_pull_requests"), DOCUMENT_VARIABLES["search_pull_requests"]
    )
    assert reply.body["data"]["search"]["nodes"][0]["author"] == {
        "__typename": "Bot",
        "login": "dependabot",
    }
    rest = await http.rest("GET", "/repos/org/repo/pulls/1")
    assert rest.body["user"]["login"] == "dependabot[bot]"
    assert rest.body["user"]["type"] == "Bot"


async def test_refs_under_a_prefix_are_named_relative_to_it(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    for name in ("tide/b", "tide/a", "tidex", "feature"):
        world.push_branch("org/repo", name, files={name: "x"}, message=f"staging {name}")
    query = """
    query($cursor: String) { repository(owner: "org", name: "repo") {
      refs(refPrefix: "refs/heads/tide/", first: 1, after: $cursor) {
        totalCount pageInfo { hasNextPage endCursor }
        nodes { name prefix target { ... on Commit { message } } } } } }
    """
    first = await http.graphql(query)
    refs = first.body["data"]["repository"]["refs"]
    second = await http.graphql(query, {"cursor": refs["pageInfo"]["endCursor"]})
    refs2 = second.body["data"]["repository"]["refs"]

    assert refs["totalCount"] == 2
    assert refs["nodes"] == [
        {"name": "a", "prefix": "refs/heads/tide/", "target": {"message": "staging tide/a"}}
    ]
    assert refs2["nodes"][0]["name"] == "b"
    assert refs2["pageInfo"]["hasNextPage"] is False


async def test_commit_parents_status_and_protection_rules_are_served(
    world: World, http: SimHTTP
) -> None:
    world.create_repo("org/repo")
    world.protect("org/repo", "main", contexts=["ci/test"], strict=True)
    head = world.push_branch("org/repo", "main", files={"x": "1"}, message="Second\n\nbody")
    world.set_status("org/repo", head.sha, "ci/test", "pending")
    query = """
    query($oid: GitObjectID!) { repository(owner: "org", name: "repo") {
      object(oid: $oid) { ... on Commit { oid messageHeadline messageBody
        parents(first: 2) { nodes { oid } } status { state } } }
      branchProtectionRules(first: 10) { nodes {
        pattern requiredStatusCheckContexts requiresStrictStatusChecks } } } }
    """
    reply = await http.graphql(query, {"oid": head.sha})
    repo = reply.body["data"]["repository"]
    assert repo["object"] == {
        "oid": head.sha,
        "messageHeadline": "Second",
        "messageBody": "body",
        "parents": {"nodes": [{"oid": head.parents[0]}]},
        "status": {"state": "PENDING"},
    }
    assert repo["branchProtectionRules"]["nodes"] == [
        {
            "pattern": "main",
            "requiredStatusCheckContexts": ["ci/test"],
            "requiresStrictStatusChecks": True,
        }
    ]


def test_cost_follows_github_s_documented_example() -> None:
    query = """query { viewer { login repositories(first: 100) { edges { node { id
      issues(first: 50) { edges { node { id labels(first: 60) { edges { node { id name }
      } } } } } } } } } }"""
    operation = parse(query).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    analysis = analyse(github_schema(), operation, {}, {})
    # 1 request for repositories + 100 for issues + 100 x 50 for labels = 5,101 -> 51
    assert (analysis.requests, analysis.cost) == (5101, 51)


async def test_an_exhausted_budget_answers_rate_limited(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    world.budgets.set_remaining("sim-token", world.now(), graphql=3)

    reply = await http.graphql(document("search_issues"), DOCUMENT_VARIABLES["search_issues"])
    world.budgets.set_remaining("sim-token", world.now(), graphql=0)
    exhausted = await http.graphql(document("viewer"))

    assert reply.body["data"]["rateLimit"]["remaining"] == 2
    assert exhausted.status == 200
    assert exhausted.body["errors"][0]["type"] == "RATE_LIMITED"
    assert exhausted.body["errors"][0]["message"].startswith("API rate limit exceeded")
    assert exhausted.headers["x-ratelimit-remaining"] == "0"


async def test_a_search_naming_a_missing_repository_fails_whole(
    world: World, http: SimHTTP
) -> None:
    """GitHub's answer when one `repo:` of a search does not exist (or the token cannot see
    it): no data at all, one INVALID error; the healthy repository's PRs are not served."""
    world.create_repo("org/repo")
    world.open_pr("org/repo", title="x", labels=["lgtm"])
    query = 'is:pr state:open repo:"org/repo" repo:"org/renamed"'

    reply = await http.graphql(document("search_pull_request_ids"), {"query": query})
    users = await http.graphql(
        document("search_pull_request_ids"), {"query": 'is:pr org:"nobody-here"'}
    )

    assert reply.status == 200
    assert reply.body["data"] is None
    [error] = reply.body["errors"]
    assert error["type"] == "INVALID"
    assert error["path"] == ["search"]
    assert error["message"] == (
        "The listed users and repositories cannot be searched either because the resources "
        "do not exist or you do not have permission to view them."
    )
    assert users.body["errors"][0]["message"].startswith("The listed users cannot be searched")


async def test_the_budget_refills_an_hour_after_the_window_opened(
    virtual_world: World, virtual_clock: VirtualClock, virtual_http: SimHTTP
) -> None:
    first = await virtual_http.graphql(document("viewer"))
    virtual_world.budgets.set_remaining("sim-token", virtual_world.now(), graphql=0)
    virtual_clock.advance(3600)

    later = await virtual_http.graphql(document("viewer"))

    reset_at = first.body["data"]["rateLimit"]["resetAt"]
    assert reset_at == "2026-01-05T10:00:00Z"
    assert later.body["data"]["rateLimit"]["remaining"] == 4999
    assert later.body["data"]["rateLimit"]["resetAt"] == "2026-01-05T11:00:00Z"


async def test_an_invalid_document_is_answered_200_with_errors(world: World, http: SimHTTP) -> None:
    reply = await http.graphql("query { viewer { login nosuchfield } }")
    assert reply.status == 200
    assert "data" not in reply.body
    assert "nosuchfield" in reply.body["errors"][0]["message"]


async def test_a_missing_repository_is_a_not_found_error(world: World, http: SimHTTP) -> None:
    reply = await http.graphql(document("branch_head"), DOCUMENT_VARIABLES["branch_head"])
    assert reply.body["data"]["repository"] is None
    assert reply.body["errors"][0]["type"] == "NOT_FOUND"


async def test_a_field_the_simulator_does_not_serve_says_so(world: World, http: SimHTTP) -> None:
    world.create_repo("org/repo")
    reply = await http.graphql(
        'query { repository(owner: "org", name: "repo") { stargazerCount } }'
    )
    assert reply.body["errors"][0]["type"] == "NOT_SIMULATED"
    assert "Repository.stargazerCount" in reply.body["errors"][0]["message"]


async def test_graphql_needs_a_known_token(world: World, http: SimHTTP) -> None:
    reply = await http.graphql(document("viewer"), token="wrong")
    assert (reply.status, reply.body["message"]) == (401, "Bad credentials")


async def test_the_journal_names_graphql_requests_by_operation(world: World, http: SimHTTP) -> None:
    await http.graphql(document("viewer"))
    await http.graphql(document("viewer"))
    await http.graphql("query { viewer { login } }")
    assert world.journal.count("POST /graphql Viewer", 200) == 2
    assert world.journal.count("POST /graphql (anonymous)") == 1
    assert world.journal.count("POST /graphql *") == 3


async def test_a_pull_request_can_be_fetched_again_by_its_node_id(
    world: World, http: SimHTTP
) -> None:
    world.create_repo("org/repo")
    pr = world.open_pr("org/repo", title="Hello")
    query = "query($id: ID!) { node(id: $id) { __typename ... on PullRequest { number title } } }"
    reply = await http.graphql(query, {"id": pr.node_id})
    assert reply.body["data"]["node"] == {
        "__typename": "PullRequest",
        "number": 1,
        "title": "Hello",
    }
