"""Prow's load-time rules: each broken rule is one problem naming the key path, line and cause."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tide.config import ConfigError, Problem, parse_config


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text))
    return caught.value.problems


def only_problem(text: str) -> Problem:
    problems = problems_of(text)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_label_both_required_and_forbidden_is_reported_on_the_labels_line() -> None:
    problem = only_problem(
        """\
        tide:
          queries:
          - repos: [org/repo]
            labels: [lgtm, approved]
            missingLabels: [lgtm]
        """
    )
    assert str(problem) == (
        'config.yaml:4: tide.queries[0].labels: the labels "lgtm" are both required and forbidden'
    )


def test_query_without_orgs_or_repos_is_rejected() -> None:
    problem = only_problem(
        """\
        tide:
          queries:
          - repos: [org/repo]
          - labels: [lgtm]
        """
    )
    assert (problem.path, problem.line) == ("tide.queries[1]", 4)
    assert problem.message == "'orgs' and 'repos' cannot both be empty"


def test_included_and_excluded_branches_together_are_rejected() -> None:
    problem = only_problem(
        """\
        tide:
          queries:
          - orgs: [org]
            includedBranches: [main]
            excludedBranches: [dev]
        """
    )
    assert (problem.path, problem.line) == ("tide.queries[0].excludedBranches", 5)
    assert "both 'includedBranches' and 'excludedBranches' are specified" in problem.message


@pytest.mark.parametrize(
    "key",
    ["orgs", "labels", "missingLabels", "includedBranches", "excludedBranches"],
)
def test_duplicate_entries_in_a_query_list_are_rejected(key: str) -> None:
    problem = only_problem(
        f"""\
        tide:
          queries:
          - orgs: [org]
            {key}: [a, b, a]
        """
        if key != "orgs"
        else """\
        tide:
          queries:
          - orgs: [a, b, a]
        """
    )
    line = 3 if key == "orgs" else 4
    assert (problem.path, problem.line) == (f"tide.queries[0].{key}", line)
    assert problem.message == 'has duplicate entries: "a"'


def test_duplicate_repos_and_excluded_repos_are_rejected() -> None:
    problems = problems_of(
        """\
        tide:
          queries:
          - repos: [x/a, x/a]
          - orgs: [o]
            excludedRepos: [o/b, o/b]
        """
    )
    assert [(p.path, p.line, p.message) for p in problems] == [
        ("tide.queries[0].repos", 3, 'has duplicate entries: "x/a"'),
        ("tide.queries[1].excludedRepos", 5, 'has duplicate entries: "o/b"'),
    ]


def test_excluded_repo_of_an_org_not_included_has_no_effect() -> None:
    problem = only_problem(
        """\
        tide:
          queries:
          - orgs: [kubernetes]
            excludedRepos:
            - kubernetes/website
            - other/repo
        """
    )
    assert (problem.path, problem.line) == ("tide.queries[0].excludedRepos[1]", 6)
    assert problem.message == '"other/repo" has no effect because org "other" is not included'


def test_repo_already_covered_by_its_org_is_rejected() -> None:
    problem = only_problem(
        """\
        tide:
          queries:
          - orgs: [kubernetes]
            repos: [kubernetes/kubernetes]
        """
    )
    assert (problem.path, problem.line) == ("tide.queries[0].repos[0]", 4)
    assert problem.message == '"kubernetes/kubernetes" is already included via org "kubernetes"'


@pytest.mark.parametrize(
    ("query", "path", "message"),
    [
        ("{repos: [foobar]}", "repos[0]", '"foobar" is not of the form "org/repo"'),
        ("{repos: [a/b/c]}", "repos[0]", '"a/b/c" is not of the form "org/repo"'),
        ("{repos: [/b]}", "repos[0]", '"/b" is not of the form "org/repo"'),
        ("{orgs: [kube/r]}", "orgs[0]", "\"kube/r\" contains a '/' which is not valid"),
        ('{orgs: [""]}', "orgs[0]", "is an empty string"),
        (
            "{orgs: [o], excludedRepos: [norepo]}",
            "excludedRepos[0]",
            '"norepo" is not of the form "org/repo"',
        ),
    ],
)
def test_malformed_org_or_repo_is_rejected(query: str, path: str, message: str) -> None:
    problem = only_problem(f"tide:\n  queries:\n  - {query}\n")
    assert (problem.path, problem.line, problem.message) == (f"tide.queries[0].{path}", 3, message)


def test_merge_method_branch_regex_must_compile() -> None:
    problem = only_problem(
        """\
        tide:
          merge_method:
            kubernetes:
              test-infra:
                "ma(ster": rebase
        """
    )
    assert problem.path == 'tide.merge_method.kubernetes.test-infra["ma(ster"]'
    assert problem.line == 5
    assert problem.message.startswith('regex "ma(ster" is not valid: ')


@pytest.mark.parametrize(
    ("entry", "path", "name"),
    [
        ("kubernetes: fast", "tide.merge_method.kubernetes", "kubernetes"),
        ("kubernetes/kops: fast", 'tide.merge_method["kubernetes/kops"]', "kubernetes/kops"),
        ("kubernetes/kops@main: fast", 'tide.merge_method["kubernetes/kops@main"]', None),
        ("kubernetes: {kops: fast}", "tide.merge_method.kubernetes.kops", "kubernetes/kops"),
        ("kubernetes: {kops: {main: fast}}", "tide.merge_method.kubernetes.kops.main", None),
    ],
)
def test_unknown_merge_method_is_rejected(entry: str, path: str, name: str | None) -> None:
    problem = only_problem(f"tide:\n  merge_method:\n    {entry}\n")
    assert (problem.path, problem.line) == (path, 3)
    assert problem.message.startswith('merge type "fast" for ')
    assert problem.message.endswith("is not a valid type; use merge, squash or rebase")
    if name is not None:
        assert f" for {name} is not" in problem.message


def test_merge_method_keys_must_name_an_org_a_repo_or_a_branch() -> None:
    problems = problems_of(
        """\
        tide:
          merge_method:
            a/b/c: merge
            org/repo@: merge
            org/repo: {main: squash}
        """
    )
    assert [(p.path, p.line) for p in problems] == [
        ('tide.merge_method["a/b/c"]', 3),
        ('tide.merge_method["org/repo@"]', 4),
        ('tide.merge_method["org/repo"]', 5),
    ]
    assert "not of the form org" in problems[0].message
    assert "takes a merge method, not a mapping" in problems[2].message


def test_invalid_commit_template_is_rejected_at_load() -> None:
    problems = problems_of(
        """\
        tide:
          merge_commit_template:
            kubernetes/kops:
              title: "{{ .Title"
              body: "{{ .Body | nosuch }}"
        """
    )
    assert [(p.path, p.line) for p in problems] == [
        ('tide.merge_commit_template["kubernetes/kops"].title', 4),
        ('tide.merge_commit_template["kubernetes/kops"].body', 5),
    ]
    assert problems[0].message == "the title template at line 1, column 10: unclosed action"
    assert problems[1].message == (
        'the body template at line 1, column 12: function "nosuch" not defined'
    )


def test_target_url_and_target_urls_are_mutually_exclusive() -> None:
    problem = only_problem(
        """\
        tide:
          target_url: https://tide.example.com
          target_urls:
            "*": https://tide.example.com
        """
    )
    assert (problem.path, problem.line) == ("tide.target_urls", 3)
    assert problem.message == "tide.target_url and tide.target_urls are mutually exclusive"


def test_pr_status_base_url_and_pr_status_base_urls_are_mutually_exclusive() -> None:
    problem = only_problem(
        """\
        tide:
          pr_status_base_url: https://prow.example.com/pr
          pr_status_base_urls:
            "*": https://prow.example.com/pr
        """
    )
    assert (problem.path, problem.line) == ("tide.pr_status_base_urls", 3)
    assert problem.message == "both pr_status_base_url and pr_status_base_urls are defined"


def test_pr_status_base_urls_needs_a_default() -> None:
    problem = only_problem(
        """\
        tide:
          pr_status_base_urls:
            kubernetes: https://prow.example.com/pr
        """
    )
    assert (problem.path, problem.line) == ("tide.pr_status_base_urls", 2)
    assert problem.message == (
        "pr_status_base_urls is defined but the default value ('*') is missing"
    )


def test_bad_github_merge_blocks_policy_is_rejected() -> None:
    problem = only_problem(
        """\
        tide:
          github_merge_blocks_policy:
            "*": permit
            kubernetes/kubernetes: deny
        """
    )
    assert (problem.path, problem.line) == (
        'tide.github_merge_blocks_policy["kubernetes/kubernetes"]',
        4,
    )
    assert problem.message == 'has invalid value "deny", must be one of: ignore, permit, block'


def test_negative_max_goroutines_is_rejected() -> None:
    problem = only_problem("tide:\n  max_goroutines: -3\n")
    assert (problem.path, problem.line) == ("tide.max_goroutines", 2)
    assert problem.message.startswith("-3 is invalid, it needs to be a positive number")


def test_zero_max_goroutines_means_twenty() -> None:
    assert parse_config("tide:\n  max_goroutines: 0\n").max_goroutines == 20
    assert parse_config("tide:\n  max_goroutines: 7\n").max_goroutines == 7


def test_context_both_required_and_optional_is_rejected() -> None:
    problem = only_problem(
        """\
        tide:
          context_options:
            required-contexts: [c1, c2]
            optional-contexts: [c1]
        """
    )
    assert (problem.path, problem.line) == ("tide.context_options.optional-contexts", 4)
    assert problem.message == 'contexts "c1" are defined as required and optional'


def test_context_conflict_across_levels_is_reported_where_it_appears() -> None:
    problem = only_problem(
        """\
        tide:
          context_options:
            required-contexts: [c1]
            orgs:
              kubernetes:
                repos:
                  test-infra:
                    required-if-present-contexts: [c1]
        """
    )
    assert problem.path == (
        "tide.context_options.orgs.kubernetes.repos.test-infra.required-if-present-contexts"
    )
    assert problem.line == 8
    assert problem.message == 'contexts "c1" are defined as required and required if present'


@pytest.mark.parametrize("kind", ["required", "required-if-present"])
def test_optional_regex_matching_a_required_context_is_rejected(kind: str) -> None:
    problem = only_problem(
        f"""\
        tide:
          context_options:
            {kind}-contexts: [c1]
            optional-regex-contexts: ["c."]
        """
    )
    assert (problem.path, problem.line) == ("tide.context_options.optional-regex-contexts", 4)
    wording = kind.replace("-", " ")
    assert problem.message == f'optional context regex "c." matches {wording} context "c1"'


def test_optional_regex_must_compile() -> None:
    problem = only_problem(
        """\
        tide:
          context_options:
            optional-regex-contexts: ['c\\']
        """
    )
    assert (problem.path, problem.line) == ("tide.context_options.optional-regex-contexts[0]", 3)
    assert problem.message.startswith('optional context regex "c\\" doesn\'t compile: ')


def test_consistent_context_options_load() -> None:
    # Case 252: o1 optional, r1 required, regex `orc*` matches neither required context.
    config = parse_config(
        dedent(
            """\
            tide:
              context_options:
                required-contexts: [r1]
                optional-contexts: [o1]
                optional-regex-contexts: ["orc*"]
            """
        )
    )
    assert config.branch_policy("o", "r", "main").context_policy.required == ("r1",)


def test_every_problem_is_reported_not_only_the_first() -> None:
    problems = problems_of(
        """\
        github:
          token_file: /run/token
          token_env: TOKEN
        tide:
          sync_period: 60
          queries:
          - labels: [lgtm]
          max_goroutines: -1
        server:
          port: 70000
        """
    )
    assert [(p.path, p.line) for p in problems] == [
        ("github.token_env", 3),
        ("tide.sync_period", 5),
        ("tide.queries[0]", 7),
        ("tide.max_goroutines", 8),
        ("server.port", 10),
    ]


def test_scoped_map_keys_that_can_never_match_are_rejected() -> None:
    problem = only_problem('tide:\n  batch_size_limit:\n    "kubernetes/": 3\n')
    assert (problem.path, problem.line) == ('tide.batch_size_limit["kubernetes/"]', 3)
    assert problem.message == 'this key is not "*", an org or "org/repo", so it never applies'


def test_prow_accepts_a_wildcard_template_key_and_long_scope_keys() -> None:
    # Prow loads both; its lookups never reach them (org/repo, then org).
    config = parse_config(
        'tide:\n  merge_commit_template:\n    "*": {title: x}\n'
        '  batch_size_limit:\n    "a/b/c": 3\n'
    )
    assert config.branch_policy("a", "b", "main").commit_template is None
    assert config.branch_policy("a", "b", "main").batch_size_limit == 0


def test_github_token_sources_are_exclusive() -> None:
    problem = only_problem("github:\n  token_env: T\n  app: {app_id: 1, private_key_file: k}\n")
    assert (problem.path, problem.line) == ("github.app", 3)
    assert problem.message == "token_env is already set; use only one of token_env, token_file, app"


def test_github_app_needs_its_id_and_key() -> None:
    problems = problems_of("github:\n  app:\n    installation_id: 4\n")
    assert [(p.path, p.line, p.message) for p in problems] == [
        ("github.app.app_id", 2, "required key is missing"),
        ("github.app.private_key_file", 2, "required key is missing"),
    ]


def test_staging_prefix_must_be_usable_in_a_branch_name() -> None:
    problem = only_problem('queue:\n  staging_prefix: "merge queue/"\n')
    assert (problem.path, problem.line) == ("queue.staging_prefix", 2)
    assert "characters git does not allow" in problem.message
