"""Prow's `tide:` section, accepted unchanged: same keys, defaults and load-time rules.

Lookups that depend on the repository (merge method, URLs, batch size, ...) are methods here;
`Config.branch_policy` bundles them for one branch.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import Field, JsonValue, ValidationInfo, field_validator, model_validator

from tide.config.base import StrictModel
from tide.config.context_options import ContextOptions
from tide.config.duration import Duration
from tide.config.merge_method import MergeMethods, resolve_merge_method
from tide.config.problems import Issue, reject
from tide.config.queries import QuerySpec
from tide.config.scopes import scope_key_issues, scoped_value
from tide.model import MergeMethod
from tide.policy import BlocksPolicy, CommitTemplate, MergeLabels
from tide.template import TemplateError, parse_template

DEFAULT_MAX_GOROUTINES = 20
_BLOCKS_POLICIES = tuple(p.value for p in BlocksPolicy)


class CommitTemplateSpec(StrictModel):
    """Go templates for the merge commit's title and message; "" leaves GitHub's default."""

    title: str = ""
    body: str = ""

    @model_validator(mode="after")
    def _parses(self) -> CommitTemplateSpec:
        issues = []
        for key, text in (("title", self.title), ("body", self.body)):
            if not text:
                continue
            try:
                parse_template(text, f"the {key} template")
            except TemplateError as exc:
                issues.append(Issue((key,), str(exc)))
        if issues:
            reject(issues)
        return self


class PrioritySpec(StrictModel):
    """One entry of `tide.priority`: PRs with all these labels (`a,b` = either) go first."""

    labels: list[str] = Field(default_factory=list)


def _reject_bad_scope_keys(mapping: Mapping[str, object]) -> None:
    issues = scope_key_issues(mapping)
    if issues:
        reject(issues)


class TideSection(StrictModel):
    """Prow's `Tide` / `TideGitHubConfig` as YAML; periods in seconds."""

    sync_period: Duration = 60.0
    status_update_period: Duration | None = None
    max_goroutines: int = 0
    max_query_concurrency: int = Field(default=0, ge=0)
    queries: list[QuerySpec] = Field(default_factory=list)
    merge_method: MergeMethods = Field(default_factory=dict)
    merge_commit_template: dict[str, CommitTemplateSpec] = Field(default_factory=dict)
    target_url: str = ""
    target_urls: dict[str, str] = Field(default_factory=dict)
    pr_status_base_url: str = ""
    pr_status_base_urls: dict[str, str] = Field(default_factory=dict)
    blocker_label: str = ""
    squash_label: str = ""
    rebase_label: str = ""
    merge_label: str = ""
    context_options: ContextOptions = Field(default_factory=ContextOptions)
    batch_size_limit: dict[str, int] = Field(default_factory=dict)
    prioritize_existing_batches: dict[str, bool] = Field(default_factory=dict)
    priority: list[PrioritySpec] = Field(default_factory=list)
    display_all_tide_queries_in_status: bool = False
    github_merge_blocks_policy: dict[str, str] = Field(default_factory=dict)
    # Prow's Gerrit provider: accepted so a pasted block loads, otherwise ignored (GitHub only).
    gerrit: dict[str, JsonValue] | None = None

    @field_validator("sync_period", "status_update_period")
    @classmethod
    def _positive_period(cls, value: float | None) -> float | None:
        if value is not None and value <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("max_goroutines")
    @classmethod
    def _max_goroutines(cls, value: int) -> int:
        if value < 0:
            raise ValueError(
                f"{value} is invalid, it needs to be a positive number "
                f"(0 means the default, {DEFAULT_MAX_GOROUTINES})"
            )
        return value

    @field_validator("target_urls")
    @classmethod
    def _one_target_url_form(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if value and info.data.get("target_url"):
            raise ValueError("tide.target_url and tide.target_urls are mutually exclusive")
        _reject_bad_scope_keys(value)
        return value

    @field_validator("pr_status_base_urls")
    @classmethod
    def _pr_status_base_urls(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        issues: list[Issue] = []
        if value and info.data.get("pr_status_base_url"):
            issues.append(Issue((), "both pr_status_base_url and pr_status_base_urls are defined"))
        if value and "*" not in value:
            issues.append(
                Issue((), "pr_status_base_urls is defined but the default value ('*') is missing")
            )
        issues += scope_key_issues(value)
        if issues:
            reject(issues)
        return value

    @field_validator("batch_size_limit", "prioritize_existing_batches")
    @classmethod
    def _scope_keys(cls, value: dict[str, object]) -> dict[str, object]:
        _reject_bad_scope_keys(value)
        return value

    @field_validator("merge_commit_template")
    @classmethod
    def _template_keys(cls, value: dict[str, CommitTemplateSpec]) -> dict[str, CommitTemplateSpec]:
        # Prow looks templates up by org/repo, then org: a "*" key is accepted but never used.
        _reject_bad_scope_keys(value)
        return value

    @field_validator("github_merge_blocks_policy")
    @classmethod
    def _blocks_policies(cls, value: dict[str, str]) -> dict[str, str]:
        issues = scope_key_issues(value)
        issues += [
            Issue(
                (key,),
                f'has invalid value "{policy}", must be one of: {", ".join(_BLOCKS_POLICIES)}',
            )
            for key, policy in value.items()
            if policy not in _BLOCKS_POLICIES
        ]
        if issues:
            reject(issues)
        return value

    @property
    def effective_max_goroutines(self) -> int:
        return self.max_goroutines or DEFAULT_MAX_GOROUTINES

    @property
    def effective_status_update_period(self) -> float:
        return self.status_update_period or self.sync_period

    def merge_method_for(self, org: str, repo: str, branch: str) -> MergeMethod:
        return resolve_merge_method(self.merge_method, org, repo, branch)

    def commit_template_for(self, org: str, repo: str) -> CommitTemplate | None:
        """Prow's lookup: the exact `org/repo` key, else the org key (a `*` key is never used)."""
        for key in (f"{org}/{repo}", org):
            spec = self.merge_commit_template.get(key)
            if spec is not None:
                return CommitTemplate(title=spec.title, body=spec.body, scope=key)
        return None

    def target_url_for(self, org: str, repo: str) -> str:
        # A lone `target_url` is Prow's deprecated spelling of `target_urls: {"*": ...}`.
        urls = self.target_urls or ({"*": self.target_url} if self.target_url else {})
        return scoped_value(urls, org, repo, "")

    def pr_status_base_url_for(self, org: str, repo: str) -> str:
        urls = self.pr_status_base_urls
        if not urls and self.pr_status_base_url:
            urls = {"*": self.pr_status_base_url}
        return scoped_value(urls, org, repo, "")

    def batch_size_limit_for(self, org: str, repo: str) -> int:
        return scoped_value(self.batch_size_limit, org, repo, 0)

    def prioritize_existing_batches_for(self, org: str, repo: str) -> bool:
        return scoped_value(self.prioritize_existing_batches, org, repo, True)

    def blocks_policy_for(self, org: str, repo: str) -> BlocksPolicy:
        return BlocksPolicy(
            scoped_value(self.github_merge_blocks_policy, org, repo, BlocksPolicy.PERMIT.value)
        )

    @property
    def merge_labels(self) -> MergeLabels:
        return MergeLabels(
            squash=self.squash_label, rebase=self.rebase_label, merge=self.merge_label
        )

    @property
    def priority_labels(self) -> tuple[tuple[str, ...], ...]:
        return tuple(tuple(p.labels) for p in self.priority)
