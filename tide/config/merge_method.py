"""`tide.merge_method` in all its shapes, its load-time checks and Prow's precedence.

Shapes: `org: m`, `org/repo: m`, `org/repo@branch: m`, `org: {repo: m}` and
`org: {repo: {branch-regex: m}}`, where `repo` may be `*` for repos without their own key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from pydantic import AfterValidator

from tide.config.problems import Issue, reject
from tide.model import MergeMethod
from tide.regex import compile_regex, regex_problem

_METHODS = frozenset(m.value for m in MergeMethod)

BranchMethods = dict[str, str]
RepoMethods = dict[str, str | BranchMethods]
MergeMethodTable = dict[str, str | RepoMethods]


def _method_issue(path: tuple[str, ...], method: str, name: str) -> list[Issue]:
    if method in _METHODS:
        return []
    return [
        Issue(
            path,
            f'merge type "{method}" for {name} is not a valid type; use merge, squash or rebase',
        )
    ]


def _shorthand_issues(key: str, value: str | RepoMethods) -> list[Issue]:
    org_repo, at, branch = key.partition("@")
    parts = org_repo.split("/")
    if len(parts) != 2 or not all(parts) or (at and not branch):
        return [Issue((key,), 'this key is not of the form org, "org/repo" or "org/repo@branch"')]
    if not isinstance(value, str):
        org, repo = parts
        per_branch = f'"{key}": METHOD' if at else f"{org}: {{{repo}: {{BRANCH-REGEX: METHOD}}}}"
        return [
            Issue((key,), f"takes a merge method, not a mapping; for branches write {per_branch}")
        ]
    return _method_issue((key,), value, key)


def merge_method_issues(table: MergeMethodTable) -> list[Issue]:
    issues: list[Issue] = []
    for key, value in table.items():
        if "/" in key or "@" in key:
            issues += _shorthand_issues(key, value)
            continue
        if isinstance(value, str):
            issues += _method_issue((key,), value, key)
            continue
        for repo, repo_value in value.items():
            at = (key, repo)
            if not repo or "/" in repo or "@" in repo:
                issues.append(Issue(at, f'"{repo}" is not a repository name (or "*") of org {key}'))
                continue
            if isinstance(repo_value, str):
                issues += _method_issue(at, repo_value, f"{key}/{repo}")
                continue
            for pattern, method in repo_value.items():
                problem = regex_problem(pattern)
                if problem is not None:
                    issues.append(
                        Issue((*at, pattern), f'regex "{pattern}" is not valid: {problem}')
                    )
                    continue
                issues += _method_issue(
                    (*at, pattern), method, f'{key}/{repo} branches "{pattern}"'
                )
    return issues


def _validated(table: MergeMethodTable) -> MergeMethodTable:
    issues = merge_method_issues(table)
    if issues:
        reject(issues)
    return table


MergeMethods = Annotated[MergeMethodTable, AfterValidator(_validated)]


def resolve_merge_method(
    table: Mapping[str, str | RepoMethods], org: str, repo: str, branch: str
) -> MergeMethod:
    """Prow's `OrgRepoBranchMergeMethod`, highest precedence first:

    `org/repo@branch`; branch regex under `org: {repo: ...}` (sorted keys, first match, repo `*`
    when the repo has no key); `org/repo`; `org: {repo: m}`; `org: m`; `merge`.
    """
    org_entry = table.get(org) if org else None
    repo_entry: str | BranchMethods | None = None
    if isinstance(org_entry, dict) and repo:
        repo_entry = org_entry.get(repo, org_entry.get("*"))

    if org and repo and branch:
        exact = table.get(f"{org}/{repo}@{branch}")
        if isinstance(exact, str) and exact:
            return MergeMethod(exact)
    if isinstance(repo_entry, dict):
        for pattern in sorted(repo_entry):
            if compile_regex(pattern).search(branch):
                return MergeMethod(repo_entry[pattern])
    if org and repo:
        shorthand = table.get(f"{org}/{repo}")
        if isinstance(shorthand, str) and shorthand:
            return MergeMethod(shorthand)
    if isinstance(repo_entry, str) and repo_entry:
        return MergeMethod(repo_entry)
    if isinstance(org_entry, str) and org_entry:
        return MergeMethod(org_entry)
    return MergeMethod.MERGE
