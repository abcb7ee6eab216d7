"""Resolving config into per-branch policy, ported from Prow's Tide tests.

Prow's `TestOrgRepoBranchMergeMethod`, `TestParseTideContextPolicyOptions`, `TestBatchSizeLimit`
and their neighbours in `config/tide_test.go`.
"""

from __future__ import annotations

import pytest
import yaml

from tide.config import Config, ConfigError, parse_config
from tide.model import MergeMethod
from tide.policy import BlocksPolicy, CommitTemplate, ContextPolicy, Query

M, S, R = MergeMethod.MERGE, MergeMethod.SQUASH, MergeMethod.REBASE


def config_with(**tide: object) -> Config:
    """A config whose `tide:` section is `tide`, written out as YAML and loaded."""
    return parse_config(yaml.safe_dump({"tide": tide}))


# -- merge method (246, 247) ---------------------------------------------------------------


def test_merge_method_per_org_and_repo() -> None:
    # Case 246.
    config = config_with(
        merge_method={
            "kubernetes/kops": "rebase",
            "kubernetes-helm": "squash",
            "kubernetes-helm/chartmuseum": "merge",
        }
    )
    assert config.merge_method("kubernetes", "kubernetes", "") is M
    assert config.merge_method("kubernetes", "kops", "") is R
    assert config.merge_method("kubernetes-helm", "monocular", "") is S
    assert config.merge_method("kubernetes-helm", "chartmuseum", "") is M


@pytest.mark.parametrize(
    ("table", "target", "expected"),
    [
        # Case 247, one row each, with valid methods in place of the Go test's `ifNecessary`.
        ({"kubernetes": {"test-infra": {"main": "squash"}}}, ("", "", ""), M),
        ({}, ("kubernetes", "test-infra", "main"), M),
        ({"kubernetes": "squash"}, ("kubernetes", "", ""), S),
        ({"kubernetes": "squash"}, ("kubernetes-sigs", "", ""), M),
        ({"kubernetes": "squash"}, ("kubernetes", "test-infra", "main"), S),
        ({"kubernetes/kops": "rebase"}, ("kubernetes", "kops", "main"), R),
        ({"kubernetes/kops@main": "squash"}, ("kubernetes", "kops", "main"), S),
        ({"kubernetes/kops@main": "squash"}, ("kubernetes", "kops", "release"), M),
        ({"kubernetes": {"test-infra": "rebase"}}, ("kubernetes", "test-infra", "main"), R),
        (
            {"kubernetes": {"*": "rebase", "kubernetes": "squash"}},
            ("kubernetes", "test-infra", "main"),
            R,
        ),
        (
            {"kubernetes": {"*": "rebase", "kubernetes": "squash"}},
            ("kubernetes", "kubernetes", "main"),
            S,
        ),
        (
            {"kubernetes": {"test-infra": {"master": "squash"}}},
            ("kubernetes", "test-infra", "main"),
            M,
        ),
        (
            {"kubernetes": {"test-infra": {r"release-\d+(.\d+)?": "squash"}}},
            ("kubernetes", "test-infra", "release-0.2"),
            S,
        ),
        (
            {"kubernetes": {"test-infra": {"mast.*": "squash", "ma.*": "rebase"}}},
            ("kubernetes", "test-infra", "master"),
            R,
        ),
        ({"kubernetes": {"*": {"main": "squash"}}}, ("kubernetes", "anything", "main"), S),
        (
            {
                "kubernetes/test-infra@main": "rebase",
                "kubernetes": {"test-infra": {"ma.*": "squash"}},
            },
            ("kubernetes", "test-infra", "main"),
            R,
        ),
        (
            {
                "kubernetes": {"test-infra": {"ma.*": "squash"}},
                "kubernetes/test-infra": "rebase",
            },
            ("kubernetes", "test-infra", "main"),
            S,
        ),
        (
            {"kubernetes/test-infra": "rebase", "kubernetes": {"test-infra": "squash"}},
            ("kubernetes", "test-infra", "main"),
            R,
        ),
        (
            {"kubernetes/test-infra": "rebase", "kubernetes": "squash"},
            ("kubernetes", "test-infra", "main"),
            R,
        ),
    ],
)
def test_merge_method_precedence_follows_prow(
    table: dict[str, object], target: tuple[str, str, str], expected: MergeMethod
) -> None:
    assert config_with(merge_method=table).merge_method(*target) is expected


def test_branch_policy_carries_the_branch_merge_method() -> None:
    config = config_with(
        merge_method={"org": {"repo": {"release-.*": "rebase"}}, "org/repo": "squash"}
    )
    assert config.branch_policy("org", "repo", "release-1").merge_method is R
    assert config.branch_policy("org", "repo", "main").merge_method is S


# -- context policy (248, 250, 251) --------------------------------------------------------


def test_context_options_merge_from_global_to_branch() -> None:
    # Case 248: lists unioned and sorted; the most specific boolean that is set wins.
    config = config_with(
        context_options={
            "required-contexts": ["r1"],
            "optional-contexts": ["o1"],
            "skip-unknown-contexts": True,
            "orgs": {
                "org": {
                    "required-contexts": ["r2"],
                    "optional-contexts": ["o2"],
                    "from-branch-protection": True,
                    "repos": {
                        "repo": {
                            "required-contexts": ["r3"],
                            "optional-contexts": ["o3"],
                            "skip-unknown-contexts": False,
                            "branches": {
                                "main": {
                                    "required-contexts": ["r4"],
                                    "optional-contexts": ["o4"],
                                    "optional-regex-contexts": ["^lint-"],
                                }
                            },
                        }
                    },
                }
            },
        }
    )
    assert config.branch_policy("org", "repo", "main").context_policy == ContextPolicy(
        required=("r1", "r2", "r3", "r4"),
        optional=("o1", "o2", "o3", "o4"),
        optional_regex=("^lint-",),
        skip_unknown=False,
        from_branch_protection=True,
    )
    assert config.branch_policy("org", "repo", "dev").context_policy.required == ("r1", "r2", "r3")
    other = config.branch_policy("org", "other", "main").context_policy
    assert (other.required, other.skip_unknown, other.from_branch_protection) == (
        ("r1", "r2"),
        True,
        True,
    )
    assert config.branch_policy("else", "where", "main").context_policy == ContextPolicy(
        required=("r1",), optional=("o1",), skip_unknown=True
    )


def _policy(**options: object) -> ContextPolicy:
    return config_with(context_options=options).branch_policy("o", "r", "main").context_policy


def test_is_optional_follows_prows_order() -> None:
    # Case 250.
    listed = _policy(**{"optional-contexts": ["o1", "o2"], "skip-unknown-contexts": False})
    assert [listed.is_optional(c) for c in ("c1", "o1", "o2")] == [False, True, True]
    skipping = _policy(**{"required-contexts": ["c1"], "skip-unknown-contexts": True})
    assert skipping.is_optional("unknown") is True
    assert skipping.is_optional("c1") is False
    by_regex = _policy(**{"optional-regex-contexts": ["o.*"]})
    assert [by_regex.is_optional(c) for c in ("o1", "o2", "c1")] == [True, True, False]


def test_missing_required_contexts() -> None:
    # Case 251.
    policy = _policy(**{"required-contexts": ["c1", "c2", "c3"]})
    assert policy.missing_required({"c1", "c2"}) == ("c3",)
    assert policy.missing_required({"c1", "c2", "c3", "extra"}) == ()
    assert _policy().missing_required({"c1"}) == ()


# -- queries (253), de-duplication, coverage (234) -----------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {
            "orgs": ["kubernetes", "kubernetes-sigs"],
            "repos": ["kubernetes-incubator/foo"],
            "excludedRepos": ["kubernetes/kube-state-metrics"],
            "labels": ["lgtm", "approved"],
            "missingLabels": ["foo"],
            "author": "batman",
            "milestone": "milestone",
            "reviewApprovedRequired": True,
            "excludedBranches": ["dev"],
        },
        {"orgs": ["kubernetes"]},
        {"repos": ["kubernetes/website"]},
        {"orgs": ["kubernetes"], "excludedRepos": ["kubernetes/website"]},
        {"orgs": ["kubernetes"], "excludedBranches": ["dev", "release"]},
    ],
)
def test_valid_queries_load(query: dict[str, object]) -> None:
    # Case 253, valid half (the invalid half is in test_config_rules.py).
    assert len(config_with(queries=[query]).queries) == 1


@pytest.mark.parametrize(
    "query",
    [
        {"orgs": ["kube/r"]},
        {"orgs": [""]},
        {"orgs": ["k", "k"]},
        {"repos": ["foobar"]},
        {"orgs": ["k"], "repos": ["k/r"]},
        {"repos": ["k/r", "k/r"]},
        {},
        {"orgs": ["k"], "excludedRepos": ["kr"]},
        {"orgs": ["k"], "excludedRepos": ["o/r"]},
        {"orgs": ["k"], "excludedRepos": ["k/r", "k/r"]},
        {"orgs": ["k"], "labels": ["lgtm"], "missingLabels": ["lgtm"]},
        {"orgs": ["k"], "includedBranches": ["a"], "excludedBranches": ["b"]},
    ],
)
def test_invalid_queries_are_rejected_under_their_index(query: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as caught:
        config_with(queries=[{"orgs": ["fine"]}, query])
    assert all(p.path.startswith("tide.queries[1]") for p in caught.value.problems)


def test_queries_asking_the_same_of_prs_are_merged() -> None:
    config = config_with(
        queries=[
            {"orgs": ["openshift"], "labels": ["merge-me"]},
            {"orgs": ["openshift-priv"], "labels": ["merge-me"]},
        ]
    )
    assert config.queries == (Query(orgs=("openshift", "openshift-priv"), labels=("merge-me",)),)


def test_label_order_does_not_keep_queries_apart_but_other_criteria_do() -> None:
    config = config_with(
        queries=[
            {"repos": ["a/x"], "labels": ["lgtm", "approved"], "missingLabels": ["hold"]},
            {"repos": ["b/y"], "labels": ["approved", "lgtm"], "missingLabels": ["hold"]},
            {"repos": ["c/z"], "labels": ["lgtm", "approved"], "author": "bot"},
            {"repos": ["a/x"], "labels": ["lgtm", "approved"], "missingLabels": ["hold"]},
        ]
    )
    # As Prow: repos are concatenated (a repeat kept), labels come out sorted.
    assert [(q.repos, q.author) for q in config.queries] == [
        (("c/z",), "bot"),
        (("a/x", "b/y", "a/x"), ""),
    ]
    assert config.queries[1].labels == ("approved", "lgtm")


def test_queries_for_repo_use_orgs_exclusions_and_repos() -> None:
    config = config_with(
        queries=[
            {"orgs": ["k8s"], "excludedRepos": ["k8s/website"], "labels": ["lgtm"]},
            {"repos": ["k8s/website"], "labels": ["lgtm", "approved"]},
        ]
    )
    assert [q.labels for q in config.queries_for_repo("k8s", "kubernetes")] == [("lgtm",)]
    assert [q.labels for q in config.queries_for_repo("k8s", "website")] == [("approved", "lgtm")]
    assert config.queries_for_repo("other", "repo") == ()
    assert config.branch_policy("other", "repo", "main").queries == ()


def test_org_exceptions_and_repos() -> None:
    # Case 234 (queries kept apart by distinct labels so no two merge).
    config = config_with(
        queries=[
            {"orgs": ["k8s"], "excludedRepos": ["k8s/k8s"], "labels": ["a"]},
            {
                "orgs": ["kuber"],
                "repos": ["foo/bar", "baz/bar"],
                "excludedRepos": ["kuber/netes"],
                "labels": ["b"],
            },
            {"orgs": ["k8s"], "excludedRepos": ["k8s/k8s", "k8s/t-i"], "labels": ["c"]},
            {
                "orgs": ["org", "org2"],
                "excludedRepos": ["org2/repo", "org2/repo2", "org2/repo3"],
                "labels": ["d"],
            },
            {"orgs": ["foo"], "repos": ["org2/repo3"], "labels": ["e"]},
        ]
    )
    orgs, repos = config.org_exceptions_and_repos()
    assert orgs == {
        "foo": frozenset(),
        "k8s": frozenset({"k8s/k8s"}),
        "kuber": frozenset({"kuber/netes"}),
        "org": frozenset(),
        "org2": frozenset({"org2/repo", "org2/repo2"}),
    }
    assert repos == frozenset({"foo/bar", "baz/bar", "org2/repo3"})


# -- per-repo lookups: URLs (227-231), templates (245), maps ------------------------------


def test_target_url_lookup_prefers_repo_then_org_then_default() -> None:
    assert config_with().branch_policy("org", "repo", "main").target_url == ""
    config = config_with(
        target_urls={
            "*": "https://tide.example.com",
            "testOrg": "https://org.example.com",
            "testOrg/testRepo": "https://repo.example.com",
        }
    )
    assert config.branch_policy("testOrg", "testRepo", "main").target_url == (
        "https://repo.example.com"
    )
    assert config.branch_policy("testOrg", "other", "main").target_url == "https://org.example.com"
    assert config.branch_policy("org", "repo", "main").target_url == "https://tide.example.com"


def test_deprecated_single_urls_apply_everywhere() -> None:
    config = config_with(
        target_url="https://tide.example.com", pr_status_base_url="https://pr.example.com"
    )
    policy = config.branch_policy("any", "repo", "main")
    assert (policy.target_url, policy.pr_status_base_url) == (
        "https://tide.example.com",
        "https://pr.example.com",
    )


def test_pr_status_base_url_lookup_prefers_repo_then_org_then_default() -> None:
    config = config_with(
        pr_status_base_urls={
            "*": "pr.status.com",
            "testOrg": "byorg.pr.status.com",
            "testOrg/testRepo": "byrepo.pr.status.com",
        }
    )
    assert [
        config.branch_policy(org, repo, "main").pr_status_base_url
        for org, repo in (("testOrg", "testRepo"), ("testOrg", "x"), ("org", "repo"))
    ] == ["byrepo.pr.status.com", "byorg.pr.status.com", "pr.status.com"]


def test_commit_template_lookup_is_exact_repo_then_org_without_default() -> None:
    # Case 245.
    config = config_with(
        merge_commit_template={
            "kubernetes/kops": {"title": "", "body": ""},
            "kubernetes-helm": {"title": "{{ .Title }}", "body": "{{ .Body }}"},
        }
    )
    assert config.branch_policy("kubernetes", "kubernetes", "main").commit_template is None
    assert config.branch_policy("kubernetes", "kops", "main").commit_template == (
        CommitTemplate(scope="kubernetes/kops")
    )
    assert config.branch_policy("kubernetes-helm", "monocular", "main").commit_template == (
        CommitTemplate(title="{{ .Title }}", body="{{ .Body }}", scope="kubernetes-helm")
    )


def test_repo_maps_resolve_most_specific_key_with_prows_defaults() -> None:
    config = config_with(
        batch_size_limit={"*": 5, "org": -1, "org/big": 0},
        prioritize_existing_batches={"org": False},
        github_merge_blocks_policy={"*": "ignore", "org/strict": "block"},
    )
    rows = {
        repo: config.branch_policy(org, repo, "main")
        for org, repo in (("org", "big"), ("org", "strict"), ("else", "where"))
    }
    assert [p.batch_size_limit for p in rows.values()] == [0, -1, 5]
    assert [p.prioritize_existing_batches for p in rows.values()] == [False, False, True]
    assert [p.blocks_policy for p in rows.values()] == [
        BlocksPolicy.IGNORE,
        BlocksPolicy.BLOCK,
        BlocksPolicy.IGNORE,
    ]
    defaults = config_with().branch_policy("org", "repo", "main")
    assert (defaults.batch_size_limit, defaults.prioritize_existing_batches) == (0, True)
    assert defaults.blocks_policy is BlocksPolicy.PERMIT


def test_branch_policy_is_computed_once_per_branch() -> None:
    config = config_with(queries=[{"repos": ["org/repo"]}])
    first = config.branch_policy("org", "repo", "main")
    assert config.branch_policy("org", "repo", "main") is first
    assert config.branch_policy("org", "repo", "dev") is not first
    assert (first.org, first.repo, first.branch) == ("org", "repo", "main")


def test_search_string_sorts_labels_missing_labels_and_branches_as_prow() -> None:
    # Prow rebuilds every query from its sorted de-duplication key, even a query on its own.
    from tide.github.search_query import query_string

    config = config_with(
        queries=[
            {
                "repos": ["o/r"],
                "labels": ["lgtm", "approved"],
                "missingLabels": ["z-hold", "a-wip"],
                "includedBranches": ["main", "b"],
            }
        ]
    )
    assert query_string(config.queries[0]) == (
        'is:pr state:open archived:false base:"b" base:"main" label:"approved" label:"lgtm" '
        '-label:"a-wip" -label:"z-hold" repo:"o/r"'
    )
