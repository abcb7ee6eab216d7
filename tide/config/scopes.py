"""Maps keyed by `"*"`, an org or `"org/repo"` (batch_size_limit, target_urls, ...): checks, lookup.

The most specific key wins: `org/repo`, then `org`, then `*`, as everywhere in Prow's Tide config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from tide.config.problems import Issue

V = TypeVar("V")


def scoped_value(mapping: Mapping[str, V], org: str, repo: str, default: V) -> V:
    """The value for `org/repo`, else for `org`, else for `*`, else `default`."""
    for key in (f"{org}/{repo}", org, "*"):
        if key in mapping:
            return mapping[key]
    return default


def scope_key_issues(mapping: Mapping[str, object]) -> list[Issue]:
    """Keys with an empty part (`org/`, `/repo`): never an org or repo name.

    As Prow, `*` and keys of more than two parts are accepted (the latter never match); Prow's
    lookups that ignore `*` (merge_commit_template) accept it too.
    """
    issues: list[Issue] = []
    for key in mapping:
        if key != "*" and not all(key.split("/")):
            message = 'this key is not "*", an org or "org/repo", so it never applies'
            issues.append(Issue((key,), message))
    return issues
