"""`Config`, the root of config.yaml, and its resolution into `tide.policy.BranchPolicy`.

The decision modules never see YAML: they ask `branch_policy(org, repo, branch)`, cached per branch.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, PrivateAttr

from tide.bounded import Lru
from tide.config.base import StrictModel
from tide.config.instance_section import InstanceSettings
from tide.config.prow_context import ProwContext
from tide.config.prow_sections import DAEMON_KEY, PROW_SECTIONS
from tide.config.queries import deduplicate, org_exceptions_and_repos
from tide.config.queue_section import QueueSettings
from tide.config.sections import (
    GitHubSettings,
    HistorySettings,
    LogSettings,
    ServerSettings,
    WebhookSettings,
)
from tide.config.tide_section import TideSection
from tide.model import MergeMethod
from tide.policy import BranchPolicy, Query

REPO_CACHE = 4096  # repositories (and branches) whose queries and policy are remembered


class Config(StrictModel):
    """A loaded, validated config.yaml; build it with `load_config` or `parse_config`."""

    github: GitHubSettings = Field(default_factory=GitHubSettings)
    tide: TideSection = Field(default_factory=TideSection)
    queue: QueueSettings = Field(default_factory=QueueSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    history: HistorySettings = Field(default_factory=HistorySettings)
    log: LogSettings = Field(default_factory=LogSettings)
    instance: InstanceSettings = Field(default_factory=InstanceSettings)

    # Accepted at the top level beside the fields (see tide.config.layout); for suggestions.
    other_top_level_keys: ClassVar[tuple[str, ...]] = (DAEMON_KEY, *sorted(PROW_SECTIONS))

    _queries: tuple[Query, ...] = PrivateAttr(default=())
    _prow: ProwContext = PrivateAttr(default_factory=ProwContext)
    # Keyed by what a request to the status server names: bounded, whatever it names.
    _repo_queries: Lru[tuple[str, str], tuple[Query, ...]] = PrivateAttr(
        default_factory=lambda: Lru(REPO_CACHE)
    )
    _policies: Lru[tuple[str, str, str], BranchPolicy] = PrivateAttr(
        default_factory=lambda: Lru(REPO_CACHE)
    )

    def model_post_init(self, context: object, /) -> None:
        prow = context.get("prow") if isinstance(context, dict) else None
        self._prow = prow if isinstance(prow, ProwContext) else ProwContext()
        tenants = self._prow.tenant_ids if self._prow.tenant_entries else None
        self._queries = deduplicate((spec.to_query() for spec in self.tide.queries), tenants)

    @property
    def prow_sections_not_used(self) -> tuple[str, ...]:
        """Sections of a Prow config that tide accepted but does not read (named at start-up)."""
        return self._prow.unused

    @property
    def presubmit_repos(self) -> int:
        """How many repositories the job config gives presubmits for."""
        return len(self._prow.presubmits)

    @property
    def sync_period(self) -> float:
        """Seconds between two syncs (`tide.sync_period`)."""
        return self.tide.sync_period

    @property
    def status_update_period(self) -> float:
        """Seconds between two status passes; `sync_period` unless set."""
        return self.tide.effective_status_update_period

    @property
    def max_goroutines(self) -> int:
        return self.tide.effective_max_goroutines

    @property
    def blocker_label(self) -> str:
        return self.tide.blocker_label

    @property
    def queries(self) -> tuple[Query, ...]:
        """The configured queries, merged as Prow's `deduplicateTideQueries` does."""
        return self._queries

    def queries_for_repo(self, org: str, repo: str) -> tuple[Query, ...]:
        key = (org, repo)
        found = self._repo_queries.get(key)
        if found is None:
            found = tuple(q for q in self._queries if q.for_repo(org, repo))
            self._repo_queries[key] = found
        return found

    def org_exceptions_and_repos(self) -> tuple[dict[str, frozenset[str]], frozenset[str]]:
        """Prow's `OrgExceptionsAndRepos` over the queries: what blocker/status searches cover."""
        return org_exceptions_and_repos(self._queries)

    def merge_method(self, org: str, repo: str, branch: str) -> MergeMethod:
        return self.tide.merge_method_for(org, repo, branch)

    def branch_policy(self, org: str, repo: str, branch: str) -> BranchPolicy:
        """Everything the decisions need for one org/repo/branch; computed once per branch."""
        key = (org, repo, branch)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._resolve(org, repo, branch)
            self._policies[key] = policy
        return policy

    def _resolve(self, org: str, repo: str, branch: str) -> BranchPolicy:
        tide = self.tide
        return BranchPolicy(
            org=org,
            repo=repo,
            branch=branch,
            queries=self.queries_for_repo(org, repo),
            context_policy=self._prow.with_job_contexts(
                tide.context_options.policy_for(org, repo, branch), org, repo, branch
            ),
            merge_method=tide.merge_method_for(org, repo, branch),
            merge_labels=tide.merge_labels,
            blocks_policy=tide.blocks_policy_for(org, repo),
            batch_size_limit=tide.batch_size_limit_for(org, repo),
            prioritize_existing_batches=tide.prioritize_existing_batches_for(org, repo),
            priority=tide.priority_labels,
            presubmit_contexts=self._prow.presubmit_contexts(org, repo, branch),
            display_all_queries=tide.display_all_tide_queries_in_status,
            target_url=tide.target_url_for(org, repo),
            pr_status_base_url=tide.pr_status_base_url_for(org, repo),
            commit_template=tide.commit_template_for(org, repo),
            queue=self.queue.options_for(org, repo),
        )
