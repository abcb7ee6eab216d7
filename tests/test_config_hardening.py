"""Config as an attacker or an unlucky operator writes it: regexes Prow would refuse or that
backtrack, alias bombs, absurd durations, tokens pasted into the wrong key, plain-http URLs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from textwrap import dedent

import pytest
import structlog

from tide.config import ConfigError, Problem, parse_config
from tide.daemon import ConfigHolder
from tide.server.app import readiness

TOKEN = "ghp_" + "Zq8" * 12  # the shape of a classic personal access token


def problems_of(text: str) -> list[Problem]:
    with pytest.raises(ConfigError) as caught:
        parse_config(dedent(text))
    return caught.value.problems


@pytest.mark.parametrize(
    "pattern",
    [r"(?=lookahead)-optional", r"(a)\1", r"(?<!x)y"],
    ids=["lookahead", "backreference", "lookbehind"],
)
def test_a_regex_re2_refuses_is_rejected_at_load_with_its_key_path(pattern):
    (problem,) = problems_of(
        f"""\
        tide:
          context_options:
            optional-regex-contexts: ['{pattern}']
        """
    )
    assert problem.path == "tide.context_options.optional-regex-contexts[0]"
    assert "RE2" in problem.message and pattern in problem.message


def test_a_merge_method_branch_regex_re2_refuses_is_rejected_with_its_key_path():
    (problem,) = problems_of(
        """\
        tide:
          merge_method:
            org:
              repo:
                '(?!main)': squash
        """
    )
    assert problem.path == 'tide.merge_method.org.repo["(?!main)"]'
    assert "RE2" in problem.message


def test_a_backtracking_regex_against_a_workflow_chosen_context_name_runs_in_linear_time():
    # With Python's backtracking engine this takes longer than the age of the universe; the
    # subprocess's timeout turns such a hang into a failure instead of a stuck test run.
    program = dedent(
        r"""
        from tide.config import parse_config
        config = parse_config('''
        tide:
          context_options:
            optional-regex-contexts: ['^(\\w+-?)+-optional$']
        ''')
        policy = config.tide.context_options.policy_for("org", "repo", "main")
        name = "a" * 60 + "!"
        print(policy.is_optional(name), policy.is_optional("lint-optional"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["False", "True"], done.stderr


BOMB = """\
a: &a ["x", "x", "x", "x", "x", "x", "x", "x", "x", "x"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_a_yaml_alias_bomb_is_refused_with_a_clear_error():
    (problem,) = problems_of(BOMB)
    assert "aliases" in problem.message and "expand" in problem.message


def test_a_yaml_alias_bomb_on_hot_reload_keeps_the_last_good_config(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text("tide:\n  sync_period: 1m\n")
    holder = ConfigHolder(parse_config(path.read_text()), path)
    path.write_text(BOMB)
    assert holder.refresh() is False
    assert holder.config.sync_period == 60
    assert any("aliases" in e for e in holder.last_error)


def test_ordinary_anchors_and_merge_keys_still_load():
    config = parse_config(
        dedent(
            """\
            tide:
              queries:
              - &q
                repos: [org/a]
                labels: &labels [lgtm, approved]
              - <<: *q
                repos: [org/b]
              - repos: [org/c]
                labels: *labels
            """
        )
    )
    assert [tuple(q.labels) for q in config.tide.queries] == [("lgtm", "approved")] * 3


@pytest.mark.parametrize(
    "value",
    ["99999999999999999999h", "9" * 400 + "s", "8761h", "527041m"],
    ids=["overflows-timedelta", "infinite", "a-year-and-an-hour", "a-year-and-a-minute"],
)
def test_durations_past_a_year_are_errors_not_overflows(value):
    (problem,) = problems_of(f"tide:\n  sync_period: {value}\n")
    assert problem.path == "tide.sync_period"
    assert "longer than a year" in problem.message


def test_a_duration_of_a_year_is_still_accepted():
    assert parse_config("tide:\n  sync_period: 8760h\n").sync_period == 8760 * 3600


@pytest.mark.parametrize(
    "text",
    [
        f"github:\n  token_env: {TOKEN}\n",
        f"tide:\n  sync_period: {TOKEN}\n",
        f"tide:\n  queries:\n  - repos: [org/repo]\n    labels: {{{TOKEN}: 1}}\n",
        f"queue:\n  {TOKEN}: true\n",
        "github:\n  api_url: github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123\n",
    ],
    ids=["token_env", "duration", "mapping", "as-a-key", "fine-grained"],
)
def test_a_token_pasted_into_the_wrong_key_is_never_echoed(text):
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    shown = str(caught.value)
    assert TOKEN not in shown and "github_pat_11ABCDEFG" not in shown


def test_plain_http_github_urls_are_refused_unless_loopback_or_allowed():
    (problem,) = problems_of("github:\n  api_url: http://github.example.com/api/v3\n")
    assert problem.path == "github.api_url"
    assert "allow_insecure_http" in problem.message
    assert parse_config("github:\n  api_url: http://127.0.0.1:9999\n")
    assert parse_config("github:\n  api_url: http://localhost:9999\n")
    allowed = parse_config(
        "github:\n  allow_insecure_http: true\n  api_url: http://ghe.internal/api/v3\n"
    )
    assert allowed.github.api_url == "http://ghe.internal/api/v3"


def test_a_token_in_a_hot_reloaded_config_reaches_neither_logs_nor_readyz(tmp_path: Path):
    captured: list[dict] = []
    structlog.configure(processors=[lambda _l, _m, e: captured.append(e) or ""])
    path = tmp_path / "config.yaml"
    path.write_text("tide:\n  sync_period: 1m\n")
    holder = ConfigHolder(parse_config(path.read_text()), path)
    path.write_text(f"tide:\n  sync_period: {TOKEN}\n")

    assert holder.refresh() is False

    assert holder.last_error and all(TOKEN not in e for e in holder.last_error)
    assert captured and all(TOKEN not in json.dumps(e, default=str) for e in captured)
    ready, reason = readiness(_DaemonView(holder))
    assert not ready and "sync_period" in reason and TOKEN not in reason


class _DaemonView:
    """What `readiness` reads of a daemon, for a config that never got as far as running."""

    def __init__(self, holder: ConfigHolder) -> None:
        self.holder = holder
        self.last_report = None


@pytest.mark.parametrize("text", ["a: &a [*a]\n", "a: &a {b: *a}\n"], ids=["list", "mapping"])
def test_a_yaml_alias_that_refers_to_itself_is_one_clear_problem(text):
    (problem,) = problems_of(text)
    assert (problem.line, problem.message) == (1, "a YAML alias refers to itself")
