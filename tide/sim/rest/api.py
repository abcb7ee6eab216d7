"""REST endpoints for users, repositories, pull requests, statuses, check runs and issues,
with GitHub's paths, status codes and error bodies (`rest.git` has refs and merges)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from tide.sim.middleware import LOGIN, TOKEN, WORLD, json_response, read_json
from tide.sim.rest.bodies import (
    check_run_json,
    combined_status_json,
    comment_json,
    labels_json,
    pull_json,
    repo_json,
    status_json,
    user_json,
)
from tide.sim.world.contexts import latest_check_runs
from tide.sim.world.entities import Refusal, SimIssue, SimPR, SimRepo, iso
from tide.sim.world.world import World

REPO = "/repos/{owner}/{repo}"


def world_of(request: web.Request) -> World:
    return request.app[WORLD]


def repo_of(request: web.Request, *, write: bool = False) -> SimRepo:
    world = world_of(request)
    repo = world.repos.get(f"{request.match_info['owner']}/{request.match_info['repo']}")
    if repo is None:
        raise Refusal(404, "Not Found")
    if write and repo.archived:
        raise Refusal(403, "Repository was archived so is read-only.")
    return repo


def item_of(request: web.Request, repo: SimRepo) -> SimIssue:
    try:
        number = int(request.match_info["number"])
    except ValueError:
        raise Refusal(404, "Not Found") from None
    item = repo.item(number)
    if item is None:
        raise Refusal(404, "Not Found")
    return item


def paginate(request: web.Request, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """GitHub's `per_page`/`page` paging with a `Link` header."""
    try:
        per_page = min(100, max(1, int(request.query.get("per_page", "30"))))
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        per_page, page = 30, 1
    last = max(1, -(-len(items) // per_page))
    links = []
    url = request.url
    if page < last:
        links.append(f'<{url.update_query(page=page + 1, per_page=per_page)}>; rel="next"')
        links.append(f'<{url.update_query(page=last, per_page=per_page)}>; rel="last"')
    if page > 1:
        links.append(f'<{url.update_query(page=1, per_page=per_page)}>; rel="first"')
        links.append(f'<{url.update_query(page=page - 1, per_page=per_page)}>; rel="prev"')
    headers = {"Link": ", ".join(links)} if links else {}
    return items[(page - 1) * per_page : page * per_page], headers


async def get_user(request: web.Request) -> web.Response:
    world = world_of(request)
    return json_response(user_json(world.user(request[LOGIN])))


async def get_rate_limit(request: web.Request) -> web.Response:
    world = world_of(request)
    now = world.now()
    core = world.budgets.rest(request[TOKEN], now)
    graphql = world.budgets.graphql(request[TOKEN], now)

    def resource(window: Any) -> dict[str, int]:
        return {
            "limit": window.limit,
            "used": window.used,
            "remaining": window.remaining,
            "reset": int(window.reset_at.timestamp()),
        }

    body = {
        "resources": {"core": resource(core), "graphql": resource(graphql)},
        "rate": resource(core),
    }
    return json_response(body, headers=core.headers("core"))


async def get_repo(request: web.Request) -> web.Response:
    return json_response(repo_json(world_of(request), repo_of(request), request[LOGIN]))


async def list_pulls(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request)
    state = request.query.get("state", "open")
    base = request.query.get("base")
    pulls = [
        pr
        for pr in repo.pulls.values()
        if (state == "all" or (state == "open") == pr.is_open) and base in (None, pr.base_ref)
    ]
    pulls.sort(key=lambda pr: pr.created_at, reverse=request.query.get("direction") != "asc")
    page, headers = paginate(request, pulls)
    return json_response([pull_json(world, pr) for pr in page], headers=headers)


def pull_of(request: web.Request, repo: SimRepo) -> SimPR:
    item = item_of(request, repo)
    if not isinstance(item, SimPR):
        raise Refusal(404, "Not Found")
    return item


async def get_pull(request: web.Request) -> web.Response:
    return json_response(pull_json(world_of(request), pull_of(request, repo_of(request))))


async def merge_pull(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    pr = pull_of(request, repo)
    body = await read_json(request)
    method = body.get("merge_method", "merge")
    commit = world.merge_pr(
        pr,
        method=str(method),
        sha=body.get("sha"),
        title=body.get("commit_title"),
        message=body.get("commit_message"),
        actor=request[LOGIN],
    )
    return json_response(
        {"sha": commit.sha, "merged": True, "message": "Pull Request successfully merged"}
    )


async def create_status(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    body = await read_json(request)
    sha = request.match_info["sha"]
    commit = repo.git.resolve(sha)
    if commit is None:
        raise Refusal(422, f"No commit found for SHA: {sha}")
    record = world.set_status(
        repo,
        commit.sha,
        str(body.get("context") or "default"),
        str(body.get("state", "")),
        description=str(body.get("description") or ""),
        target_url=str(body.get("target_url") or ""),
        creator=request[LOGIN],
    )
    return json_response(status_json(world, repo, record), status=201)


def commit_of(request: web.Request, repo: SimRepo) -> str:
    ref = request.match_info["ref"]
    commit = repo.git.resolve(ref)
    if commit is None:
        raise Refusal(422, f"No commit found for SHA: {ref}")
    return commit.sha


async def combined_status(request: web.Request) -> web.Response:
    repo = repo_of(request)
    return json_response(combined_status_json(world_of(request), repo, commit_of(request, repo)))


async def check_runs(request: web.Request) -> web.Response:
    repo = repo_of(request)
    sha = commit_of(request, repo)
    if request.query.get("filter", "latest") == "all":
        runs = list(repo.check_runs.get(sha, ()))
    else:
        runs = latest_check_runs(repo, sha)
    if "check_name" in request.query:
        runs = [r for r in runs if r.name == request.query["check_name"]]
    if "status" in request.query:
        runs = [r for r in runs if r.status == request.query["status"]]
    page, headers = paginate(request, runs)
    body = {"total_count": len(runs), "check_runs": [check_run_json(repo, r) for r in page]}
    return json_response(body, headers=headers)


async def list_comments(request: web.Request) -> web.Response:
    world = world_of(request)
    item = item_of(request, repo_of(request))
    page, headers = paginate(request, item.comments)
    return json_response([comment_json(world, item, c) for c in page], headers=headers)


async def create_comment(request: web.Request) -> web.Response:
    world = world_of(request)
    item = item_of(request, repo_of(request, write=True))
    body = await read_json(request)
    text = body.get("body")
    if not isinstance(text, str) or not text:
        raise Refusal(
            422, "Validation Failed", resource="IssueComment", field="body", code="missing_field"
        )
    comment = world.comment(item, text, author=request[LOGIN])
    return json_response(comment_json(world, item, comment), status=201)


async def add_labels(request: web.Request) -> web.Response:
    world = world_of(request)
    item = item_of(request, repo_of(request, write=True))
    body = await _read_any_json(request)
    names = body.get("labels", []) if isinstance(body, dict) else body
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise Refusal(422, "Validation Failed", resource="Label", field="labels", code="invalid")
    for name in names:
        world.add_label(item, name)
    return json_response(labels_json(item))


async def remove_label(request: web.Request) -> web.Response:
    world = world_of(request)
    item = item_of(request, repo_of(request, write=True))
    if not world.remove_label(item, request.match_info["name"]):
        raise Refusal(404, "Label does not exist")
    return json_response(labels_json(item))


async def get_issue(request: web.Request) -> web.Response:
    world = world_of(request)
    item = item_of(request, repo_of(request))
    body: dict[str, Any] = {
        "id": item.id,
        "node_id": item.node_id,
        "number": item.number,
        "title": item.title,
        "body": item.body or None,
        "state": "open" if item.state == "OPEN" else "closed",
        "user": user_json(world.user(item.author)),
        "labels": labels_json(item),
        "comments": len(item.comments),
        "created_at": iso(item.created_at),
        "updated_at": iso(item.updated_at),
        "closed_at": iso(item.closed_at),
        "html_url": item.url,
    }
    if isinstance(item, SimPR):
        body["pull_request"] = {"html_url": item.url, "merged_at": iso(item.merged_at)}
    return json_response(body)


async def _read_any_json(request: web.Request) -> object:
    try:
        return json.loads(await request.read() or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "Problems parsing JSON") from None


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/user", get_user)
    r.add_get("/rate_limit", get_rate_limit)
    r.add_get(REPO, get_repo)
    r.add_get(f"{REPO}/pulls", list_pulls)
    r.add_get(f"{REPO}/pulls/{{number}}", get_pull)
    r.add_put(f"{REPO}/pulls/{{number}}/merge", merge_pull)
    r.add_post(f"{REPO}/statuses/{{sha}}", create_status)
    r.add_get(f"{REPO}/commits/{{ref:.+}}/status", combined_status)
    r.add_get(f"{REPO}/commits/{{ref:.+}}/check-runs", check_runs)
    r.add_get(f"{REPO}/issues/{{number}}", get_issue)
    r.add_get(f"{REPO}/issues/{{number}}/comments", list_comments)
    r.add_post(f"{REPO}/issues/{{number}}/comments", create_comment)
    r.add_post(f"{REPO}/issues/{{number}}/labels", add_labels)
    r.add_delete(f"{REPO}/issues/{{number}}/labels/{{name:.+}}", remove_label)
