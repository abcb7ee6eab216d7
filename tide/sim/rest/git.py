"""REST endpoints for git data: refs, branch merges, comparisons, commits and protection."""

from __future__ import annotations

from aiohttp import web

from tide.sim.middleware import LOGIN, json_response, read_json
from tide.sim.rest.api import REPO, paginate, repo_of, world_of
from tide.sim.rest.bodies import commit_json, protection_json, ref_json
from tide.sim.world import refs
from tide.sim.world.entities import Refusal
from tide.sim.world.merges import merge_branches


async def get_ref(request: web.Request) -> web.Response:
    repo = repo_of(request)
    ref = request.match_info["ref"]
    name = ref.removeprefix("heads/")
    if not ref.startswith("heads/") or name not in repo.git.branches:
        raise Refusal(404, "Not Found")
    return json_response(ref_json(repo, name, repo.git.branches[name]))


async def matching_refs(request: web.Request) -> web.Response:
    repo = repo_of(request)
    prefix = request.match_info.get("ref", "")
    if not prefix.startswith("heads/") and prefix not in ("", "heads"):
        return json_response([])
    wanted = prefix.removeprefix("heads").removeprefix("/")
    found = sorted(b for b in repo.git.branches if b.startswith(wanted))
    page, headers = paginate(request, found)
    return json_response([ref_json(repo, b, repo.git.branches[b]) for b in page], headers=headers)


async def create_ref(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    body = await read_json(request)
    ref, sha = body.get("ref"), body.get("sha")
    if not isinstance(ref, str) or not isinstance(sha, str):
        raise Refusal(422, 'Invalid request.\n\n"ref" and "sha" are required.')
    branch = refs.create_ref(world, repo, ref, sha, actor=request[LOGIN])
    return json_response(ref_json(repo, branch, sha), status=201)


async def update_ref(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    body = await read_json(request)
    sha = body.get("sha")
    if not isinstance(sha, str):
        raise Refusal(422, 'Invalid request.\n\n"sha" is required.')
    ref = request.match_info["ref"]
    refs.update_ref(world, repo, ref, sha, force=bool(body.get("force")), actor=request[LOGIN])
    branch = refs.branch_of(ref)
    return json_response(ref_json(repo, branch, repo.git.branches[branch]))


async def delete_ref(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    refs.delete_ref(world, repo, request.match_info["ref"], actor=request[LOGIN])
    return web.Response(status=204)


async def merge(request: web.Request) -> web.Response:
    world = world_of(request)
    repo = repo_of(request, write=True)
    body = await read_json(request)
    base, head = body.get("base"), body.get("head")
    if not isinstance(base, str) or not isinstance(head, str):
        raise Refusal(422, 'Invalid request.\n\n"base" and "head" are required.')
    message = body.get("commit_message")
    commit = merge_branches(
        world,
        repo,
        base=base,
        head=head,
        message=message if isinstance(message, str) else None,
        actor=request[LOGIN],
    )
    if commit is None:
        return web.Response(status=204)
    return json_response(commit_json(repo, commit), status=201)


async def compare(request: web.Request) -> web.Response:
    repo = repo_of(request)
    base_name, sep, head_name = request.match_info["basehead"].partition("...")
    if not sep:
        raise Refusal(404, "Not Found")
    base, head = repo.git.resolve(base_name), repo.git.resolve(head_name)
    if base is None or head is None:
        raise Refusal(404, "Not Found")
    git = repo.git
    ahead = git.only_in(head.sha, base.sha)
    behind = git.only_in(base.sha, head.sha)
    if not ahead and not behind:
        status = "identical"
    elif not behind:
        status = "ahead"
    elif not ahead:
        status = "behind"
    else:
        status = "diverged"
    merge_base = git.merge_base(base.sha, head.sha)
    body = {
        "status": status,
        "ahead_by": len(ahead),
        "behind_by": len(behind),
        "total_commits": len(ahead),
        "base_commit": commit_json(repo, base),
        "merge_base_commit": commit_json(repo, git.commits[merge_base]) if merge_base else None,
        "commits": [commit_json(repo, c) for c in ahead[-250:]],
    }
    return json_response(body)


async def get_commit(request: web.Request) -> web.Response:
    repo = repo_of(request)
    commit = repo.git.resolve(request.match_info["ref"])
    if commit is None:
        raise Refusal(422, f"No commit found for SHA: {request.match_info['ref']}")
    return json_response(commit_json(repo, commit))


async def get_branch(request: web.Request) -> web.Response:
    repo = repo_of(request)
    branch = request.match_info["branch"]
    if branch not in repo.git.branches:
        raise Refusal(404, "Branch not found")
    commit = repo.git.commits[repo.git.branches[branch]]
    body = {
        "name": branch,
        "commit": commit_json(repo, commit),
        "protected": repo.protection(branch) is not None,
    }
    return json_response(body)


async def get_protection(request: web.Request) -> web.Response:
    repo = repo_of(request)
    branch = request.match_info["branch"]
    if branch not in repo.git.branches:
        raise Refusal(404, "Branch not found")
    rule = repo.protection(branch)
    if rule is None:
        raise Refusal(404, "Branch not protected")
    return json_response(protection_json(repo, branch, rule))


def add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get(f"{REPO}/git/ref/{{ref:.+}}", get_ref)
    r.add_get(f"{REPO}/git/matching-refs/{{ref:.*}}", matching_refs)
    r.add_post(f"{REPO}/git/refs", create_ref)
    r.add_patch(f"{REPO}/git/refs/{{ref:.+}}", update_ref)
    r.add_delete(f"{REPO}/git/refs/{{ref:.+}}", delete_ref)
    r.add_post(f"{REPO}/merges", merge)
    r.add_get(f"{REPO}/compare/{{basehead:.+}}", compare)
    r.add_get(f"{REPO}/commits/{{ref:[^/]+}}", get_commit)
    r.add_get(f"{REPO}/branches/{{branch:.+}}/protection", get_protection)
    r.add_get(f"{REPO}/branches/{{branch:.+}}", get_branch)
