"""Real-world files load clean: the example config.yaml and a pasted Prow `tide:` block."""

from __future__ import annotations

from pathlib import Path

from tide.config import load_config, parse_config
from tide.model import MergeMethod
from tide.policy import BlocksPolicy, QueueOptions

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_example_config_at_the_repo_root_loads_clean() -> None:
    config = load_config(REPO_ROOT / "config.yaml")
    policy = config.branch_policy("my-org", "my-repo", "main")
    assert policy.queries == config.queries
    assert policy.queries[0].labels == ("approved", "lgtm")  # sorted, as Prow
    assert "do-not-merge/hold" in policy.queries[0].missing_labels
    assert policy.merge_method is MergeMethod.SQUASH
    assert policy.merge_labels.squash == "tide/merge-method-squash"
    assert policy.context_policy.from_branch_protection is True
    assert policy.batch_size_limit == 5
    assert policy.priority == (("priority/critical-urgent",), ("priority/important-soon",))
    assert config.blocker_label == "tide/merge-blocker"
    assert policy.queue == QueueOptions()  # the example shows the defaults


PROW_TIDE_BLOCK = """\
tide:
  sync_period: 2m
  status_update_period: 1m
  max_goroutines: 30
  queries:
  - orgs:
    - kubernetes
    - kubernetes-sigs
    excludedRepos:
    - kubernetes/website
    labels:
    - lgtm
    - approved
    - "cncf-cla: yes"
    missingLabels:
    - do-not-merge
    - do-not-merge/blocked-paths
    - do-not-merge/cherry-pick-not-approved
    - do-not-merge/hold
    - do-not-merge/invalid-owners-file
    - do-not-merge/release-note-label-needed
    - do-not-merge/work-in-progress
    - needs-rebase
  - repos:
    - kubernetes/website
    labels:
    - lgtm
    - approved
    - "cncf-cla: yes"
    missingLabels:
    - do-not-merge
    - do-not-merge/hold
    - needs-rebase
    excludedBranches:
    - dev-1.31
  - orgs:
    - kubernetes-client
    labels:
    - "cncf-cla: yes"
    reviewApprovedRequired: true
    milestone: v1.31
    author: k8s-ci-robot
  merge_method:
    kubernetes-sigs/cluster-api: rebase
    kubernetes/community@main: squash
    kubernetes-sigs:
      kubebuilder:
        "release-.*": merge
        main: squash
  merge_commit_template:
    kubernetes-sigs/kubebuilder:
      title: "{{ .Title }} (#{{ .Number }})"
      body: "{{ .Body }}"
  target_urls:
    "*": https://prow.k8s.io/tide
  pr_status_base_urls:
    "*": https://prow.k8s.io/pr
    kubernetes-sigs: https://prow.k8s.io/pr-sigs
  blocker_label: merge-blocker
  squash_label: tide/merge-method-squash
  rebase_label: tide/merge-method-rebase
  merge_label: tide/merge-method-merge
  context_options:
    from-branch-protection: true
    skip-unknown-contexts: true
    orgs:
      kubernetes:
        repos:
          kubernetes:
            required-if-present-contexts:
            - pull-kubernetes-e2e-gce-canary
            optional-contexts:
            - pull-kubernetes-e2e-kind-ipv6
            branches:
              release-1.29:
                required-contexts:
                - pull-kubernetes-verify
  batch_size_limit:
    kubernetes/kubernetes: 15
    "*": 5
  prioritize_existing_batches:
    kubernetes/kubernetes: false
  priority:
  - labels: [kind/flake, priority/critical-urgent]
  - labels: ["kind/failing-test,kind/flake"]
  display_all_tide_queries_in_status: true
  github_merge_blocks_policy:
    "*": permit
    kubernetes/kubernetes: block
  gerrit:
    ratelimit: 5
    queries:
    - org: https://gerrit.example.com
      repos: [project]
"""


def test_a_pasted_prow_tide_block_loads_with_prows_meaning() -> None:
    config = parse_config(PROW_TIDE_BLOCK)
    assert (config.sync_period, config.status_update_period, config.max_goroutines) == (
        120.0,
        60.0,
        30,
    )
    assert len(config.queries) == 3
    k8s = config.branch_policy("kubernetes", "kubernetes", "release-1.29")
    assert [q.orgs for q in k8s.queries] == [("kubernetes", "kubernetes-sigs")]
    assert k8s.batch_size_limit == 15
    assert k8s.prioritize_existing_batches is False
    assert k8s.blocks_policy is BlocksPolicy.BLOCK
    assert k8s.context_policy.required == ("pull-kubernetes-verify",)
    assert k8s.context_policy.is_optional("some-third-party-check")
    assert not k8s.context_policy.is_optional("pull-kubernetes-e2e-gce-canary")
    assert k8s.priority == (
        ("kind/flake", "priority/critical-urgent"),
        ("kind/failing-test,kind/flake",),
    )
    assert k8s.display_all_queries is True
    assert k8s.target_url == "https://prow.k8s.io/tide"
    website = config.branch_policy("kubernetes", "website", "main")
    assert [q.repos for q in website.queries] == [("kubernetes/website",)]
    kubebuilder = config.branch_policy("kubernetes-sigs", "kubebuilder", "release-4.1")
    assert kubebuilder.merge_method is MergeMethod.MERGE
    assert config.merge_method("kubernetes-sigs", "kubebuilder", "main") is MergeMethod.SQUASH
    assert kubebuilder.commit_template is not None
    assert kubebuilder.commit_template.title == "{{ .Title }} (#{{ .Number }})"
    assert kubebuilder.pr_status_base_url == "https://prow.k8s.io/pr-sigs"
    assert kubebuilder.batch_size_limit == 5
