"""Prow's rules for merging a supplemental `_prowconfig.yaml` into the config (`mergeFrom`).

`branch-protection` merges level by level (global, org, repo, branch): a policy or a top-level
setting defined by two files is an error, as in Prow. tide does not apply branch protection
itself, but a config Prow would refuse is refused here too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tide.config.problems import KeyPath, Problem
from tide.config.source import YamlDocument

ONLY_MERGEABLE = (
    "only 'branch-protection', 'slack_reporter_configs', 'tide.merge_method' and "
    "'tide.queries' may be set in a supplemental config (Prow has no merge rule for the rest)"
)
_SETTINGS = (
    "protect-tested-repos",
    "allow_disabled_policies",
    "allow_disabled_job_policies",
    "protect_repos_with_optional_jobs",
)
_LEVELS = ("orgs", "repos", "branches")


def _policy(level: dict[str, object]) -> dict[str, object]:
    """The policy fields of one level (everything but the nested levels and global settings)."""
    return {k: v for k, v in level.items() if k not in (*_LEVELS, *_SETTINGS) and v is not None}


@dataclass
class BranchProtectionMerge:
    """The branch-protection merged so far, and who set each policy (for conflict messages)."""

    problems: list[Problem] = field(default_factory=list)
    owners: dict[KeyPath, str] = field(default_factory=dict)
    merged: dict[str, object] = field(default_factory=dict)

    def add(self, doc: YamlDocument, value: object) -> None:
        at: KeyPath = ("branch-protection",)
        if not isinstance(value, dict):
            self.problems.append(doc.problem(at, "expected a mapping"))
            return
        self._level(doc, self.merged, value, at, "a top-level policy")
        for setting in _SETTINGS:
            if value.get(setting) is None:
                continue
            path = (*at, setting)
            if path in self.owners:
                self._conflict(doc, path, f"set {setting}")
            else:
                self.owners[path] = doc.source
        for org, org_level in _children(value, "orgs"):
            org_at = (*at, "orgs", org)
            org_merged = _child(self.merged, "orgs", org)
            self._level(doc, org_merged, org_level, org_at, f"a policy for org {org}")
            for repo, repo_level in _children(org_level, "repos"):
                repo_at = (*org_at, "repos", repo)
                repo_merged = _child(org_merged, "repos", repo)
                what = f"a policy for repo {org}/{repo}"
                self._level(doc, repo_merged, repo_level, repo_at, what)
                for branch, branch_level in _children(repo_level, "branches"):
                    branch_at = (*repo_at, "branches", branch)
                    what = f"a policy for branch {branch} in repo {org}/{repo}"
                    branch_merged = _child(repo_merged, "branches", branch)
                    self._level(doc, branch_merged, branch_level, branch_at, what)

    def _level(
        self, doc: YamlDocument, merged: dict[str, object], level: dict[str, object],
        at: KeyPath, what: str,
    ) -> None:  # fmt: skip
        policy = _policy(level)
        if not policy:
            return
        if at in self.owners:
            self._conflict(doc, at, f"define {what}")
            return
        self.owners[at] = doc.source
        merged.update(policy)

    def _conflict(self, doc: YamlDocument, at: KeyPath, what: str) -> None:
        message = f"both branch-protection configs {what} (the other is {self.owners[at]})"
        self.problems.append(doc.problem(at, message))


def _children(level: object, key: str) -> list[tuple[str, dict[str, object]]]:
    if not isinstance(level, dict):
        return []
    children = level.get(key)
    if not isinstance(children, dict):
        return []
    return [(name, child) for name, child in children.items() if isinstance(child, dict)]


def _child(merged: dict[str, object], key: str, name: str) -> dict[str, object]:
    level = merged.setdefault(key, {})
    assert isinstance(level, dict)
    child = level.setdefault(name, {})
    assert isinstance(child, dict)
    return child
