"""Tide queries: the YAML shape, Prow's load-time rules, de-duplication and the org/repo coverage.

`QuerySpec` is what the user writes; `tide.policy.Query` is what the rest of the daemon reads.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from pydantic import Field, model_validator

from tide.config.base import StrictModel
from tide.config.problems import Issue, quoted, reject
from tide.policy import Query


class QuerySpec(StrictModel):
    """One entry of `tide.queries`, with Prow's YAML names."""

    orgs: list[str] = Field(default_factory=list)
    repos: list[str] = Field(default_factory=list)
    excluded_repos: list[str] = Field(default_factory=list, alias="excludedRepos")
    labels: list[str] = Field(default_factory=list)
    missing_labels: list[str] = Field(default_factory=list, alias="missingLabels")
    author: str = ""
    excluded_branches: list[str] = Field(default_factory=list, alias="excludedBranches")
    included_branches: list[str] = Field(default_factory=list, alias="includedBranches")
    milestone: str = ""
    review_approved_required: bool = Field(default=False, alias="reviewApprovedRequired")

    @model_validator(mode="after")
    def _prow_rules(self) -> QuerySpec:
        issues = query_issues(self)
        if issues:
            reject(issues)
        return self

    def to_query(self) -> Query:
        return Query(
            orgs=tuple(self.orgs),
            repos=tuple(self.repos),
            excluded_repos=tuple(self.excluded_repos),
            labels=tuple(self.labels),
            missing_labels=tuple(self.missing_labels),
            author=self.author,
            excluded_branches=tuple(self.excluded_branches),
            included_branches=tuple(self.included_branches),
            milestone=self.milestone,
            review_approved_required=self.review_approved_required,
        )


def _org_repo(value: str) -> tuple[str, str] | None:
    parts = value.split("/")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        return None
    return parts[0], parts[1]


def _duplicates(key: str, values: Sequence[str]) -> list[Issue]:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if not repeated:
        return []
    return [Issue((key,), f"has duplicate entries: {quoted(repeated)}")]


def query_issues(q: QuerySpec) -> list[Issue]:
    """Every broken rule of Prow's `TideQuery.Validate` (which stops at the first)."""
    issues: list[Issue] = []
    orgs = set(q.orgs)
    for i, org in enumerate(q.orgs):
        if "/" in org:
            issues.append(Issue(("orgs", i), f"\"{org}\" contains a '/' which is not valid"))
        elif not org:
            issues.append(Issue(("orgs", i), "is an empty string"))
    issues += _duplicates("orgs", q.orgs)

    for i, repo in enumerate(q.repos):
        parsed = _org_repo(repo)
        if parsed is None:
            issues.append(Issue(("repos", i), f'"{repo}" is not of the form "org/repo"'))
        elif parsed[0] in orgs:
            issues.append(
                Issue(("repos", i), f'"{repo}" is already included via org "{parsed[0]}"')
            )
    issues += _duplicates("repos", q.repos)

    if not q.orgs and not q.repos:
        issues.append(Issue((), "'orgs' and 'repos' cannot both be empty"))

    for i, repo in enumerate(q.excluded_repos):
        parsed = _org_repo(repo)
        if parsed is None:
            issues.append(Issue(("excludedRepos", i), f'"{repo}" is not of the form "org/repo"'))
        elif parsed[0] not in orgs:
            issues.append(
                Issue(
                    ("excludedRepos", i),
                    f'"{repo}" has no effect because org "{parsed[0]}" is not included',
                )
            )
    issues += _duplicates("excludedRepos", q.excluded_repos)

    both = sorted(set(q.labels) & set(q.missing_labels))
    if both:
        issues.append(
            Issue(("labels",), f"the labels {quoted(both)} are both required and forbidden")
        )
    issues += _duplicates("labels", q.labels)
    issues += _duplicates("missingLabels", q.missing_labels)

    if q.included_branches and q.excluded_branches:
        issues.append(
            Issue(
                ("excludedBranches",),
                "both 'includedBranches' and 'excludedBranches' are specified "
                "('excludedBranches' have no effect)",
            )
        )
    issues += _duplicates("includedBranches", q.included_branches)
    issues += _duplicates("excludedBranches", q.excluded_branches)
    return issues


def go_json(value: object) -> str:
    """`json.Marshal` as Go writes it: compact, UTF-8 kept, `<`, `>`, `&` escaped (HTML-safe)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(char, escape)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _prow_json(q: Query) -> str:
    # Prow orders the merged queries by their JSON form (Go field order, empty fields omitted).
    fields: list[tuple[str, object]] = [
        ("author", q.author),
        ("labels", list(q.labels)),
        ("missingLabels", list(q.missing_labels)),
        ("excludedBranches", list(q.excluded_branches)),
        ("includedBranches", list(q.included_branches)),
        ("milestone", q.milestone),
        ("reviewApprovedRequired", q.review_approved_required),
        ("orgs", list(q.orgs)),
        ("repos", list(q.repos)),
        ("excludedRepos", list(q.excluded_repos)),
    ]
    return go_json({k: v for k, v in fields if v})


TenantIds = Callable[[Query], tuple[str, ...]]


def deduplicate(queries: Iterable[Query], tenant_ids: TenantIds | None = None) -> tuple[Query, ...]:
    """Prow's `deduplicateTideQueries`: queries asking the same of PRs share one search.

    Same author, branches, labels (order ignored), milestone, review requirement and tenant IDs
    (from Prow's `prowjob_default_entries`) -> one query. As in Prow, the merged query carries its
    labels, missing labels and branches sorted, and the originals' orgs, repos and excludedRepos
    concatenated in config order; the queries are then ordered by their JSON form.
    """
    merged: dict[tuple[object, ...], Query] = {}
    for q in queries:
        key = (
            q.author,
            tuple(sorted(q.excluded_branches)),
            tuple(sorted(q.included_branches)),
            tuple(sorted(q.labels)),
            tuple(sorted(q.missing_labels)),
            q.milestone,
            q.review_approved_required,
            tenant_ids(q) if tenant_ids is not None else (),
        )
        seen = merged.get(key)
        if seen is None:
            merged[key] = Query(
                orgs=q.orgs,
                repos=q.repos,
                excluded_repos=q.excluded_repos,
                labels=key[3],
                missing_labels=key[4],
                author=q.author,
                excluded_branches=key[1],
                included_branches=key[2],
                milestone=q.milestone,
                review_approved_required=q.review_approved_required,
            )
            continue
        merged[key] = replace(
            seen,
            orgs=(*seen.orgs, *q.orgs),
            repos=(*seen.repos, *q.repos),
            excluded_repos=(*seen.excluded_repos, *q.excluded_repos),
        )
    return tuple(sorted(merged.values(), key=_prow_json))


def org_exceptions_and_repos(
    queries: Iterable[Query],
) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Prow's `OrgExceptionsAndRepos`: org -> repos no query of that org covers; listed repos.

    An org's exceptions are the excludedRepos (of that org) common to every query naming the org,
    minus any repo that some query lists explicitly.
    """
    queries = tuple(queries)
    exceptions: dict[str, frozenset[str]] = {}
    for q in queries:
        for org in q.orgs:
            excluded = frozenset(r for r in q.excluded_repos if r.startswith(f"{org}/"))
            exceptions[org] = exceptions[org] & excluded if org in exceptions else excluded
    repos = frozenset(r for q in queries for r in q.repos)
    return {org: excl - repos for org, excl in exceptions.items()}, repos
