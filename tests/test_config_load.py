"""Loading config.yaml: YAML problems, unknown keys, durations, defaults and real-world files."""

from __future__ import annotations

from textwrap import dedent

import pytest

from tide.config import Config, ConfigError, Problem, load_config, parse_config
from tide.policy import QueueOptions


def problems_of(text: str, source: str = "config.yaml") -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text), source)
    return caught.value.problems


def test_missing_file_is_a_problem() -> None:
    with pytest.raises(ConfigError) as caught:
        load_config("/nonexistent/tide/config.yaml")
    (problem,) = caught.value.problems
    assert str(problem) == (
        "/nonexistent/tide/config.yaml: cannot read the config file: No such file or directory"
    )


def test_yaml_syntax_error_names_line_and_column() -> None:
    (problem,) = problems_of(
        """\
        tide:
          queries:
          - repos: [org/repo
            labels: [lgtm]
        """,
        source="tide.yaml",
    )
    assert problem.source == "tide.yaml"
    assert problem.path == ""
    assert problem.line == 4
    assert problem.message.startswith("invalid YAML at column 11: ")


def test_tab_indentation_is_a_syntax_error_on_its_line() -> None:
    (problem,) = problems_of("tide:\n\tsync_period: 1m\n")
    assert problem.line == 2
    assert "invalid YAML at column 1" in problem.message


def test_duplicate_keys_are_problems_instead_of_last_one_wins() -> None:
    problems = problems_of(
        """\
        tide:
          blocker_label: blocker
          queries:
          - repos: [org/repo]
            labels: [lgtm]
            labels: [approved]
          blocker_label: merge-blocker
        """
    )
    assert [str(p) for p in problems] == [
        "config.yaml:6: tide.queries[0].labels: duplicate key (first defined on line 5); "
        "YAML would silently keep the last",
        "config.yaml:7: tide.blocker_label: duplicate key (first defined on line 2); "
        "YAML would silently keep the last",
    ]


def test_yaml_merge_keys_are_not_duplicates() -> None:
    config = parse_config(
        dedent(
            """\
            tide:
              queries:
              - &common
                repos: [org/repo]
                labels: [lgtm]
              - <<: *common
                repos: [org/other]
                milestone: v2
            """
        )
    )
    assert sorted((q.repos, q.labels, q.milestone) for q in config.queries) == [
        (("org/other",), ("lgtm",), "v2"),
        (("org/repo",), ("lgtm",), ""),
    ]


def test_unknown_key_suggests_the_nearest_known_key() -> None:
    (problem,) = problems_of("tide:\n  querys: []\n")
    assert str(problem) == 'config.yaml:2: tide.querys: unknown key; did you mean "queries"?'


def test_unknown_key_in_prow_spelling_suggests_the_exact_spelling() -> None:
    (problem,) = problems_of("tide:\n  queries:\n  - repos: [o/r]\n    missing_labels: [x]\n")
    assert problem.path == "tide.queries[0].missing_labels"
    assert problem.message == 'unknown key; did you mean "missingLabels"?'


def test_misplaced_key_says_where_it_belongs() -> None:
    (problem,) = problems_of("tide:\n  milestone: v1.0\n")
    assert problem.message == "unknown key here; it belongs under tide.queries[]"


def test_unknown_key_without_a_near_match_lists_the_known_keys() -> None:
    (problem,) = problems_of("server:\n  tls: true\n")
    assert problem.message == (
        "unknown key; expected one of: enabled, address, port, auth_token_env, auth_token_file, "
        "allowed_hosts"
    )


def test_wrong_type_says_what_was_expected_and_got() -> None:
    problems = problems_of(
        """\
        tide:
          queries:
          - repos: [org/repo]
            milestone: 1.30
          batch_size_limit:
            "*": "5"
          merge_method:
            org: 3
        """
    )
    assert [(p.path, p.line, p.message) for p in problems] == [
        (
            "tide.queries[0].milestone",
            4,
            "expected a string, got the number 1.3; quote it if it is meant as text",
        ),
        ('tide.batch_size_limit["*"]', 6, 'expected an integer, got the string "5"'),
        ("tide.merge_method.org", 8, "expected a string or a mapping, got the number 3"),
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30.0), ("1m", 60.0), ("1h30m", 5400.0), ("500ms", 0.5), ("1.5h", 5400.0)],
)
def test_durations_use_go_syntax(text: str, seconds: float) -> None:
    assert parse_config(f"tide:\n  sync_period: {text}\n").sync_period == seconds


def test_a_bare_number_duration_shows_the_expected_form() -> None:
    (problem,) = problems_of("tide:\n  sync_period: 30\n")
    assert (problem.path, problem.line) == ("tide.sync_period", 2)
    assert problem.message == (
        'expected a duration such as "30s", "1m" or "1h30m", got the bare number 30; '
        'add a unit (e.g. "30s")'
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1d", '"1d" has the unknown unit "d"; use h, m, s, ms, us or ns'),
        ('"90"', '"90" has a number without a unit'),
        ("soon", '"soon" is not a duration'),
        ("-5m", '"-5m" is negative'),
    ],
)
def test_malformed_durations_are_rejected(text: str, message: str) -> None:
    (problem,) = problems_of(f"queue:\n  run_timeout: {text}\n")
    assert problem.path == "queue.run_timeout"
    assert problem.message.startswith(message)


def test_status_update_period_defaults_to_sync_period() -> None:
    assert parse_config("tide:\n  sync_period: 5m\n").status_update_period == 300.0


def test_empty_file_gives_the_defaults() -> None:
    config = parse_config("# nothing configured yet\n")
    assert config.sync_period == 60.0
    assert config.max_goroutines == 20
    assert config.queries == ()
    assert config.github.token_env == "GITHUB_TOKEN"
    assert config.github.graphql_url == "https://api.github.com/graphql"
    assert (config.server.enabled, config.server.address, config.server.port) == (
        True,
        "127.0.0.1",
        8888,
    )
    assert config.history.path == "var/history.json"
    assert (config.log.level, config.log.format) == ("info", "auto")


def test_empty_keys_mean_unset_as_in_prow() -> None:
    config = parse_config("tide:\n  queries:\n  - repos: [org/repo]\n    missingLabels:\nlog:\n")
    assert config.queries[0].missing_labels == ()
    assert config.log.level == "info"


def test_token_file_replaces_the_default_token_env() -> None:
    config = parse_config("github:\n  token_file: /run/secrets/github\n")
    assert (config.github.token_env, config.github.token_file) == (None, "/run/secrets/github")


def test_github_app_settings_are_accepted() -> None:
    config = parse_config(
        "github:\n  app: {app_id: 123, private_key_file: /k.pem, installation_id: 456}\n"
    )
    assert config.github.app is not None
    assert (config.github.app.app_id, config.github.app.installation_id) == (123, 456)
    assert config.github.token_env is None


def test_github_urls_must_be_http() -> None:
    (problem,) = problems_of("github:\n  api_url: api.github.com\n")
    assert (problem.path, problem.line) == ("github.api_url", 2)
    assert problem.message == '"api.github.com" is not an http(s) URL'


def test_top_level_must_be_a_mapping() -> None:
    (problem,) = problems_of("- tide\n")
    assert (problem.path, problem.line) == ("", 1)
    assert problem.message == "the top level must be a mapping of sections"


def test_problem_renders_source_line_path_and_message() -> None:
    assert str(Problem("tide.x", 3, "bad", "c.yaml")) == "c.yaml:3: tide.x: bad"
    assert str(Problem("", None, "gone", "c.yaml")) == "c.yaml: gone"


def test_config_error_lists_every_problem_one_per_line() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("tide:\n  querys: []\n  sync_period: 5\n")
    assert str(caught.value).splitlines() == [str(p) for p in caught.value.problems]
    assert len(caught.value.problems) == 2


def test_queue_section_mirrors_every_queue_option() -> None:
    from dataclasses import fields

    from tide.config import QueueSettings

    # Only the overall CI cap is not a per-branch option: it spans every pool.
    per_branch = set(QueueSettings.model_fields) - {"max_concurrent_runs_total"}
    assert per_branch == {f.name for f in fields(QueueOptions)}


def test_every_queue_option_takes_its_default_and_is_documented() -> None:
    """`QueueOptions` is the one declaration: an empty `queue:` resolves to its defaults, and
    the README's `queue` row names every key (the doc is the one other edit)."""
    from pathlib import Path

    from tide.config import QueueSettings

    assert parse_config("queue: {}\n").queue.options_for("o", "r") == QueueOptions()
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    row = next(line for line in readme.splitlines() if line.startswith("| `queue` |"))
    assert [key for key in QueueSettings.model_fields if f"`{key}`" not in row] == []


def test_the_decision_core_loads_without_the_config_or_pydantic() -> None:
    import subprocess
    import sys

    probe = (
        "import sys, tide.planner, tide.policy; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' "
        "or m.startswith('tide.config')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_queue_extensions_resolve_per_repository() -> None:
    config = parse_config(
        dedent(
            """\
            queue:
              staging_prefix: merge-queue/
              batch_failure_strategy: tide
              flaky_contexts: [e2e]
              context_start_timeout: 10m
              merge_pause: 0s
              fast_forward:
                "*": true
                org: false
                org/special: true
            """
        )
    )
    special = config.branch_policy("org", "special", "main").queue
    assert special.fast_forward is True
    assert special.staging_prefix == "merge-queue/"
    assert special.batch_failure_strategy == "tide"
    assert special.flaky_contexts == ("e2e",)
    assert (special.context_start_timeout, special.merge_pause) == (600.0, 0.0)
    assert config.branch_policy("org", "plain", "main").queue.fast_forward is False
    assert config.branch_policy("else", "where", "main").queue.fast_forward is True


def test_config_type_is_the_pydantic_root_model() -> None:
    assert isinstance(parse_config(""), Config)
