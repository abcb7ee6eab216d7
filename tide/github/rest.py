"""GitHub's REST v3 calls the daemon makes, with typed results and Tide's error mapping.

Statuses, merges, refs, branch merges, protection, comments and labels: what GraphQL lacks or
what must be pinned to a SHA.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from urllib.parse import urlencode

import structlog

from tide.clock import Clock
from tide.github import decode
from tide.github.errors import (
    BaseModified,
    GitHubError,
    HeadModified,
    InvalidRequest,
    MergeCommitsForbidden,
    MergeConflict,
    NotFastForward,
    NotFound,
    RefExists,
    Unauthorized,
    Unmergeable,
)
from tide.github.etag_cache import EtagCache
from tide.github.http import JSON, HttpTransport, Response, path
from tide.github.records import MergeCommit, PullState
from tide.model import Context, MergeMethod
from tide.write_pace import WritePace

log = structlog.get_logger()

MAX_STATUS_DESCRIPTION = 140
PAGE_SIZE = 100


class Rest:
    def __init__(self, http: HttpTransport, api_url: str, writes: WritePace, clock: Clock) -> None:
        self._http = http
        self._base = api_url.rstrip("/")
        self.etags = EtagCache()
        # Every content-creating request counts against the instance's write budget here,
        # the one place they all pass (see `tide.write_pace`).
        self.writes = writes
        self._clock = clock

    # -- pull requests ------------------------------------------------------------------------

    async def merge_pull(
        self,
        org: str,
        repo: str,
        number: int,
        *,
        sha: str,
        method: MergeMethod | str,
        title: str | None = None,
        message: str | None = None,
    ) -> str:
        """Merge a PR pinned to its head `sha`; returns the merge commit's SHA.

        Raises `HeadModified` (409), `BaseModified`, `Unauthorized`, `MergeCommitsForbidden`,
        `Unmergeable` (405, by GitHub's message), `WriteUncertain` (no clear answer).
        """
        body: dict[str, str] = {"sha": sha, "merge_method": str(method)}
        if title is not None:
            body["commit_title"] = title
        if message is not None:
            body["commit_message"] = message
        response, where = await self._call(
            "PUT",
            "/repos/{owner}/{repo}/pulls/{number}/merge",
            body=body,
            idempotent=False,
            owner=org,
            repo=repo,
            number=number,
        )
        if response.status == 200:
            return str(_document(response, where)["sha"])
        text = response.message
        if response.status == 409:
            raise HeadModified(text, endpoint=where, status=409)
        if response.status == 405:
            raise _merge_refusal(text)(text, endpoint=where, status=405)
        raise _failure(response, where)

    async def get_pull(self, org: str, repo: str, number: int) -> PullState:
        response, where = await self._call(
            "GET", "/repos/{owner}/{repo}/pulls/{number}", owner=org, repo=repo, number=number
        )
        if response.status != 200:
            raise _failure(response, where)
        pr = _document(response, where)
        return PullState(
            number=int(pr["number"]),
            state=str(pr["state"]),
            merged=bool(pr.get("merged")),
            head_sha=str(pr["head"]["sha"]),
            base_ref=str(pr["base"]["ref"]),
            mergeable=decode.rest_mergeable(pr.get("mergeable")),
            merge_commit_sha=pr.get("merge_commit_sha"),
        )

    async def create_comment(self, org: str, repo: str, number: int, body: str) -> None:
        response, where = await self._call(
            "POST",
            "/repos/{owner}/{repo}/issues/{number}/comments",
            body={"body": body},
            idempotent=False,
            owner=org,
            repo=repo,
            number=number,
        )
        if response.status != 201:
            raise _failure(response, where)

    async def remove_label(self, org: str, repo: str, number: int, label: str) -> None:
        """Remove a label from a PR or issue; a label that is not there is fine."""
        response, where = await self._call(
            "DELETE",
            "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
            owner=org,
            repo=repo,
            number=number,
            name=label,
        )
        if response.status not in (200, 204, 404):
            raise _failure(response, where)

    # -- statuses and checks ------------------------------------------------------------------

    async def create_status(
        self,
        org: str,
        repo: str,
        sha: str,
        *,
        context: str,
        state: str,
        description: str = "",
        target_url: str = "",
    ) -> None:
        """Set a commit status (`state` is GitHub's lower-case word: success, pending, ...)."""
        where = f"POST /repos/{org}/{repo}/statuses/{sha}"
        if len(description) > MAX_STATUS_DESCRIPTION:
            raise InvalidRequest(
                f"status description is {len(description)} characters; GitHub allows "
                f"{MAX_STATUS_DESCRIPTION}",
                endpoint=where,
            )
        body = {"state": state.lower(), "context": context, "description": description}
        if target_url:
            body["target_url"] = target_url
        response, where = await self._call(
            "POST",
            "/repos/{owner}/{repo}/statuses/{sha}",
            body=body,
            idempotent=True,  # the same status twice is the same status
            owner=org,
            repo=repo,
            sha=sha,
        )
        if response.status != 201:
            raise _failure(response, where)

    async def combined_status(self, org: str, repo: str, ref: str) -> tuple[Context, ...]:
        """The latest status per context on a commit (or branch), states upper-cased."""
        statuses = await self._commit_pages(org, repo, ref, "status", "statuses")
        return decode.rest_status_contexts({"statuses": statuses})

    async def check_runs(self, org: str, repo: str, ref: str) -> tuple[Context, ...]:
        """A commit's check runs as contexts, by Tide's rules."""
        runs = await self._commit_pages(org, repo, ref, "check-runs", "check_runs")
        return decode.rest_check_run_contexts(runs)

    async def _commit_pages(
        self, org: str, repo: str, ref: str, resource: str, key: str
    ) -> list[JSON]:
        """Every item under `key` of `GET .../commits/{ref}/{resource}`, all pages."""
        items: list[JSON] = []
        for page in range(1, 1000):
            response, where = await self._call(
                "GET",
                f"/repos/{{owner}}/{{repo}}/commits/{{ref}}/{resource}",
                params=_page(page),
                owner=org,
                repo=repo,
                ref=ref,
            )
            if response.status != 200:
                raise _failure(response, where)
            doc = _document(response, where)
            batch = doc.get(key) or []
            items += batch
            if len(batch) < PAGE_SIZE or len(items) >= int(doc.get("total_count") or 0):
                break
        return items

    async def head_contexts(self, org: str, repo: str, sha: str) -> tuple[Context, ...]:
        """A commit's statuses and check runs: the fallback when GraphQL did not reach the head."""
        return (
            *await self.combined_status(org, repo, sha),
            *await self.check_runs(org, repo, sha),
        )

    # -- refs and branch merges ---------------------------------------------------------------

    async def get_ref(self, org: str, repo: str, ref: str) -> str | None:
        """The SHA a ref (`heads/main`) points to; None when there is no such ref."""
        response, where = await self._call(
            "GET", "/repos/{owner}/{repo}/git/ref/{ref}", owner=org, repo=repo, ref=_short(ref)
        )
        if response.status == 404:
            return None
        if response.status != 200:
            raise _failure(response, where)
        doc = response.json()
        if not isinstance(doc, dict):  # a prefix matching several refs answers with a list
            return None
        return str(doc["object"]["sha"])

    async def create_ref(self, org: str, repo: str, ref: str, sha: str) -> None:
        """Create `ref` (`heads/tide/x` or `refs/heads/tide/x`) at `sha`; `RefExists` if taken."""
        response, where = await self._call(
            "POST",
            "/repos/{owner}/{repo}/git/refs",
            body={"ref": "refs/" + _short(ref), "sha": sha},
            idempotent=False,
            owner=org,
            repo=repo,
        )
        if response.status == 201:
            return
        if response.status == 422 and "already exists" in response.message.lower():
            raise RefExists(response.message, endpoint=where, status=422)
        raise _failure(response, where)

    async def update_ref(
        self, org: str, repo: str, ref: str, sha: str, *, force: bool = False
    ) -> None:
        """Point `ref` at `sha`; without `force` only a fast-forward (`NotFastForward`)."""
        response, where = await self._call(
            "PATCH",
            "/repos/{owner}/{repo}/git/refs/{ref}",
            body={"sha": sha, "force": force},
            idempotent=True,  # pointing a ref at the same SHA twice changes nothing
            owner=org,
            repo=repo,
            ref=_short(ref),
        )
        if response.status == 200:
            return
        if response.status == 422 and "fast forward" in response.message.lower():
            raise NotFastForward(response.message, endpoint=where, status=422)
        raise _failure(response, where)

    async def delete_ref(self, org: str, repo: str, ref: str) -> None:
        """Delete `ref`; one that is already gone is fine."""
        response, where = await self._call(
            "DELETE", "/repos/{owner}/{repo}/git/refs/{ref}", owner=org, repo=repo, ref=_short(ref)
        )
        if response.status in (204, 404):
            return
        if response.status == 422 and "does not exist" in response.message.lower():
            return
        raise _failure(response, where)

    async def merge_branches(
        self, org: str, repo: str, base: str, head: str, message: str
    ) -> MergeCommit | None:
        """Merge `head` (a SHA or branch) into branch `base`: the new commit, None when
        `base` already contains `head`; `MergeConflict` when it does not merge cleanly."""
        response, where = await self._call(
            "POST",
            "/repos/{owner}/{repo}/merges",
            body={"base": base, "head": head, "commit_message": message},
            idempotent=False,
            owner=org,
            repo=repo,
        )
        if response.status == 201:
            body = _document(response, where)
            sha, commit = body.get("sha"), body.get("commit")
            if not isinstance(sha, str) or not sha:
                raise GitHubError("a merge answered without the new commit's sha", endpoint=where)
            tree = commit.get("tree") if isinstance(commit, dict) else None
            tree_sha = tree.get("sha") if isinstance(tree, dict) else None
            return MergeCommit(sha, tree_sha if isinstance(tree_sha, str) else "")
        if response.status == 204:
            return None
        if response.status == 409:
            raise MergeConflict(response.message or "Merge conflict", endpoint=where, status=409)
        raise _failure(response, where)

    async def compare(self, org: str, repo: str, base: str, head: str) -> str:
        """`ahead`, `behind`, `identical` or `diverged`: where `head` stands relative to `base`."""
        response, where = await self._call(
            "GET",
            "/repos/{owner}/{repo}/compare/{basehead}",
            owner=org,
            repo=repo,
            basehead=f"{base}...{head}",
        )
        if response.status != 200:
            raise _failure(response, where)
        return str(_document(response, where)["status"])

    # -- repository ---------------------------------------------------------------------------

    async def branch_protection_contexts(
        self, org: str, repo: str, branch: str
    ) -> tuple[str, ...] | None:
        """Required status contexts of a protected branch; None when unprotected or unreadable."""
        response, where = await self._call(
            "GET",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            owner=org,
            repo=repo,
            branch=branch,
        )
        if response.status == 404:
            return None
        if response.status == 403:
            log.warning(
                "github.protection_unreadable",
                endpoint=where,
                reason="the token cannot read branch protection (needs admin access)",
            )
            return None
        if response.status != 200:
            raise _failure(response, where)
        checks = _document(response, where).get("required_status_checks") or {}
        names = [*(checks.get("contexts") or [])]
        names += [c.get("context") for c in checks.get("checks") or [] if c.get("context")]
        return tuple(dict.fromkeys(names))

    async def branch_protection_digest(self, org: str, repo: str, branch: str) -> str:
        """A short fingerprint of the branch's whole protection rule ("unprotected",
        "unreadable", or a hash): a PR that GitHub refused is retried when it changes."""
        response, where = await self._call(
            "GET",
            "/repos/{owner}/{repo}/branches/{branch}/protection",
            owner=org,
            repo=repo,
            branch=branch,
        )
        if response.status == 404:
            return "unprotected"
        if response.status == 403:
            return "unreadable"
        if response.status != 200:
            raise _failure(response, where)
        text = json.dumps(_document(response, where), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    async def viewer_login(self) -> str:
        """The login the token belongs to."""
        response, where = await self._call("GET", "/user")
        if response.status != 200:
            raise _failure(response, where)
        return str(_document(response, where)["login"])

    # -- plumbing -----------------------------------------------------------------------------

    async def _call(
        self,
        method: str,
        template: str,
        *,
        body: JSON = None,
        params: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        **parts: str | int,
    ) -> tuple[Response, str]:
        concrete = path(template, **parts)
        where = f"{method} {concrete}"
        key = concrete + ("?" + urlencode(sorted(params.items())) if params else "")
        etag = self.etags.validator(key) if method == "GET" else None
        if method != "GET":
            self.writes.note(self._clock.now())
        response = await self._http.request(
            method,
            self._base + concrete,
            endpoint=f"{method} {template}",
            body=body,
            params=params,
            idempotent=idempotent,
            label=where,
            extra_headers={"If-None-Match": etag} if etag else None,
        )
        if method == "GET":
            response = self.etags.answer(key, response)
        return response, where


def _merge_refusal(text: str) -> type[GitHubError]:
    """Tide's reading of a 405 from the merge endpoint, by GitHub's message."""
    if "Base branch was modified" in text:
        return BaseModified
    if "You're not authorized to push to this branch" in text:
        return Unauthorized
    if "Merge commits are not allowed" in text:
        return MergeCommitsForbidden
    return Unmergeable


def _failure(response: Response, where: str) -> GitHubError:
    text = response.message or f"unexpected HTTP {response.status}"
    kind = NotFound if response.status == 404 else GitHubError
    return kind(f"HTTP {response.status}: {text}", endpoint=where, status=response.status)


def _document(response: Response, where: str) -> dict[str, JSON]:
    """The JSON object GitHub answered with; anything else is GitHub misbehaving."""
    doc = response.json()
    if not isinstance(doc, dict):
        raise GitHubError(
            f"HTTP {response.status} without the expected JSON object", endpoint=where
        )
    return doc


def _page(number: int) -> dict[str, str]:
    return {"per_page": str(PAGE_SIZE), "page": str(number)}


def _short(ref: str) -> str:
    """`refs/heads/x` and `heads/x` both as `heads/x`, the form REST paths take."""
    return ref.removeprefix("refs/")
