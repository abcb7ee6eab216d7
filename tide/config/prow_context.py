"""What a Prow layout adds to the config beyond its `tide:` section (pure).

The presubmits' contexts (per branch), the sections tide does not use (named at start-up), and
Prow's `prowjob_default_entries`, whose tenant IDs keep queries apart when de-duplicating.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from tide.config.jobs import Presubmit, branch_requirements
from tide.policy import ContextPolicy, Query

DEFAULT_TENANT_ID = "GlobalDefaultID"


@dataclass(frozen=True, slots=True)
class ProwContext:
    unused: tuple[str, ...] = ()
    presubmits: Mapping[str, tuple[Presubmit, ...]] = field(default_factory=dict)
    tenant_entries: tuple[object, ...] = ()

    def with_job_contexts(
        self, policy: ContextPolicy, org: str, repo: str, branch: str
    ) -> ContextPolicy:
        """Prow's `GetTideContextPolicy`: the options' contexts plus the presubmits' own."""
        jobs = self.presubmits.get(f"{org}/{repo}")
        if not jobs:
            return policy
        required, if_present, optional = branch_requirements(branch, jobs)
        return replace(
            policy,
            required=tuple(sorted({*policy.required, *required})),
            required_if_present=tuple(sorted({*policy.required_if_present, *if_present})),
            optional=tuple(sorted({*policy.optional, *optional})),
        )

    def presubmit_contexts(self, org: str, repo: str, branch: str) -> frozenset[str]:
        jobs = self.presubmits.get(f"{org}/{repo}", ())
        return frozenset(j.context for j in jobs if j.could_run(branch))

    def tenant_ids(self, query: Query) -> tuple[str, ...]:
        """Prow's `TideQuery.TenantIDs`: the tenant of each org and repo the query names."""
        return tuple(sorted({self._tenant(t) for t in (*query.orgs, *query.repos)}))

    def _tenant(self, org_repo: str) -> str:
        # Prow's GetProwJobDefault(repo, "*"): matching entries in order, a later one's
        # tenant_id replacing an earlier one; entries pinned to a named cluster never match.
        tenant = ""
        for entry in self.tenant_entries:
            if not isinstance(entry, dict):
                continue
            cluster = entry.get("cluster") or ""
            wanted = entry.get("repo") or ""
            config = entry.get("config")
            if cluster not in ("", "*") or not isinstance(config, dict):
                continue
            if wanted in ("", "*", org_repo, org_repo.split("/")[0]):
                value = config.get("tenant_id")
                if isinstance(value, str) and value:
                    tenant = value
        return tenant or DEFAULT_TENANT_ID
