"""`tide.context_options`: which contexts must pass, merged global -> org -> repo -> branch.

Merging follows Prow's `ParseTideContextPolicyOptions`: lists are unioned and sorted, and a boolean
set at a more specific level wins over one set above it.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field, model_validator

from tide.config.base import StrictModel
from tide.config.problems import Issue, KeyPath, quoted, reject
from tide.policy import ContextPolicy
from tide.regex import Pattern, RegexError, compile_regex


class ContextLevel(StrictModel):
    """The options one level (global, org, repo or branch) may set."""

    skip_unknown_contexts: bool | None = Field(default=None, alias="skip-unknown-contexts")
    required_contexts: list[str] = Field(default_factory=list, alias="required-contexts")
    required_if_present_contexts: list[str] = Field(
        default_factory=list, alias="required-if-present-contexts"
    )
    optional_contexts: list[str] = Field(default_factory=list, alias="optional-contexts")
    optional_regex_contexts: list[str] = Field(
        default_factory=list, alias="optional-regex-contexts"
    )
    from_branch_protection: bool | None = Field(default=None, alias="from-branch-protection")
    # Accepted so Prow configs load; this daemon has no batch jobs whose results it could copy.
    overwrite_pending_contexts: bool | None = Field(
        default=None, alias="overwrite-pending-contexts"
    )


class RepoContextOptions(ContextLevel):
    branches: dict[str, ContextLevel] = Field(default_factory=dict)


class OrgContextOptions(ContextLevel):
    repos: dict[str, RepoContextOptions] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MergedContextOptions:
    """The options in force at one level, before conversion to a `ContextPolicy`."""

    required: tuple[str, ...] = ()
    required_if_present: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    optional_regex: tuple[str, ...] = ()
    skip_unknown: bool | None = None
    from_branch_protection: bool | None = None
    overwrite_pending: bool | None = None

    def merge(self, level: ContextLevel) -> MergedContextOptions:
        def union(a: tuple[str, ...], b: list[str]) -> tuple[str, ...]:
            return tuple(sorted(set(a) | set(b)))

        def override(a: bool | None, b: bool | None) -> bool | None:
            return a if b is None else b

        return MergedContextOptions(
            required=union(self.required, level.required_contexts),
            required_if_present=union(self.required_if_present, level.required_if_present_contexts),
            optional=union(self.optional, level.optional_contexts),
            optional_regex=union(self.optional_regex, level.optional_regex_contexts),
            skip_unknown=override(self.skip_unknown, level.skip_unknown_contexts),
            from_branch_protection=override(
                self.from_branch_protection, level.from_branch_protection
            ),
            overwrite_pending=override(self.overwrite_pending, level.overwrite_pending_contexts),
        )

    def to_policy(self) -> ContextPolicy:
        return ContextPolicy(
            required=self.required,
            required_if_present=self.required_if_present,
            optional=self.optional,
            optional_regex=self.optional_regex,
            skip_unknown=bool(self.skip_unknown),
            from_branch_protection=bool(self.from_branch_protection),
        )


class ContextOptions(ContextLevel):
    """The whole `context_options` tree."""

    orgs: dict[str, OrgContextOptions] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent_at_every_level(self) -> ContextOptions:
        issues = context_issues(self)
        if issues:
            reject(issues)
        return self

    def merged(self, org: str, repo: str, branch: str) -> MergedContextOptions:
        options = MergedContextOptions().merge(self)
        org_level = self.orgs.get(org)
        if org_level is None:
            return options
        options = options.merge(org_level)
        repo_level = org_level.repos.get(repo)
        if repo_level is None:
            return options
        options = options.merge(repo_level)
        branch_level = repo_level.branches.get(branch)
        return options if branch_level is None else options.merge(branch_level)

    def policy_for(self, org: str, repo: str, branch: str) -> ContextPolicy:
        return self.merged(org, repo, branch).to_policy()


def _compile(pattern: str) -> Pattern | str:
    try:
        return compile_regex(pattern)
    except RegexError as exc:
        return str(exc)


def _own_regex_issues(level: ContextLevel, at: KeyPath) -> list[Issue]:
    issues = []
    for i, pattern in enumerate(level.optional_regex_contexts):
        compiled = _compile(pattern)
        if isinstance(compiled, str):
            issues.append(
                Issue(
                    (*at, "optional-regex-contexts", i),
                    f'optional context regex "{pattern}" doesn\'t compile: {compiled}',
                )
            )
    return issues


Conflict = tuple[str, str, str]  # (first list, second list or regex, context)


def _conflicts(options: MergedContextOptions) -> set[Conflict]:
    """Every context the merged options put in two incompatible places, as Prow's Validate."""
    found: set[Conflict] = set()
    pairs = (
        ("required", "optional", options.required, options.optional),
        ("required", "required if present", options.required, options.required_if_present),
        ("optional", "required if present", options.optional, options.required_if_present),
    )
    for first, second, a, b in pairs:
        found |= {(first, second, name) for name in set(a) & set(b)}
    for pattern in options.optional_regex:
        compiled = _compile(pattern)
        if isinstance(compiled, str):
            continue
        for kind, names in (
            ("required", options.required),
            ("required if present", options.required_if_present),
        ):
            found |= {(kind, f"regex:{pattern}", n) for n in names if compiled.search(n)}
    return found


def _conflict_issues(level: ContextLevel, at: KeyPath, new: set[Conflict]) -> list[Issue]:
    grouped: dict[tuple[str, str], list[str]] = {}
    for first, second, name in sorted(new):
        grouped.setdefault((first, second), []).append(name)
    issues = []
    for (first, second), names in grouped.items():
        if second.startswith("regex:"):
            pattern = second.removeprefix("regex:")
            message = f'optional context regex "{pattern}" matches {first} context {quoted(names)}'
        else:
            message = f"contexts {quoted(names)} are defined as {first} and {second}"
        issues.append(Issue((*at, *_issue_key(level, frozenset(names), second)), message))
    return issues


def _issue_key(level: ContextLevel, contexts: frozenset[str], second: str) -> tuple[str, ...]:
    """The list at this level that brought the conflict in, for the line shown to the user."""
    if second.removeprefix("regex:") in level.optional_regex_contexts:
        return ("optional-regex-contexts",)
    for key, values in (
        ("optional-contexts", level.optional_contexts),
        ("required-if-present-contexts", level.required_if_present_contexts),
        ("required-contexts", level.required_contexts),
    ):
        if contexts & set(values):
            return (key,)
    return ()


def context_issues(options: ContextOptions) -> list[Issue]:
    """Conflicts in the merged policy of every level, each reported where it first appears."""
    issues: list[Issue] = []

    def visit(
        level: ContextLevel, at: KeyPath, above: MergedContextOptions, known: set[Conflict]
    ) -> tuple[MergedContextOptions, set[Conflict]]:
        merged = above.merge(level)
        issues.extend(_own_regex_issues(level, at))
        conflicts = _conflicts(merged)
        issues.extend(_conflict_issues(level, at, conflicts - known))
        return merged, conflicts | known

    top, top_known = visit(options, (), MergedContextOptions(), set())
    for org, org_level in options.orgs.items():
        org_at: KeyPath = ("orgs", org)
        org_merged, org_known = visit(org_level, org_at, top, top_known)
        for repo, repo_level in org_level.repos.items():
            repo_at: KeyPath = (*org_at, "repos", repo)
            repo_merged, repo_known = visit(repo_level, repo_at, org_merged, org_known)
            for branch, branch_level in repo_level.branches.items():
                visit(branch_level, (*repo_at, "branches", branch), repo_merged, repo_known)
    return issues
