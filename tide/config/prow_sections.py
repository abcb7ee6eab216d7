"""The top-level keys of Prow's config (its `ProwConfig` and `JobConfig`) that tide accepts."""

from __future__ import annotations

# Top-level keys of Prow's `Config` that tide does not read (besides tide:, github: and
# presubmits:, which it does).
PROW_SECTIONS = frozenset(
    {
        "branch-protection", "config_version_sha", "deck", "decorate_all_jobs",
        "default_job_timeout", "disabled_clusters", "gangway", "gerrit", "github_reporter",
        "horologium", "in_repo_config", "jenkins_operators", "log_level", "managed_webhooks",
        "moonraker", "owners_dir_denylist", "periodics", "pipeline", "plank", "pod_namespace",
        "postsubmits", "presets", "prow_ignored", "prowjob_default_entries",
        "prowjob_namespace", "pubsub_subscriptions", "pubsub_triggers", "push_gateway",
        "scheduler", "sinker", "slack_reporter_configs", "status_error_link",
    }
)  # fmt: skip
# Keys of Prow's `github:` section (GitHubOptions); tide's own GitHub settings share the name.
PROW_GITHUB_KEYS = frozenset({"link_url"})
DAEMON_KEY = "daemon"
