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


def scope_key_issues(mapping: Mapping[str, object], *, allow_star: bool = True) -> list[Issue]:
    """Keys that can never match: anything but `*` (when allowed), `org` and `org/repo`."""
    issues: list[Issue] = []
    for key in mapping:
        if key == "*":
            if not allow_star:
                issues.append(Issue((key,), '"*" is not supported here; use an org or "org/repo"'))
            continue
        parts = key.split("/")
        if len(parts) > 2 or not all(parts):
            expected = '"*", an org or "org/repo"' if allow_star else 'an org or "org/repo"'
            issues.append(Issue((key,), f"this key is not {expected}, so it never applies"))
    return issues
