"""ti-community-infra's real merge commit templates (tests/fixtures/prow) parse and run as in Go."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tide.template import TemplateError, parse_template

CONFIG = Path(__file__).parent / "fixtures/prow/ti-community-infra-configs/prow/config/config.yaml"
TEMPLATES = yaml.safe_load(CONFIG.read_text())["tide"]["merge_commit_template"]
PR = {
    "Number": 4242,
    "Title": "planner: fix a bug | tidb-test=pr/123",
    "Body": "Issue Number: close #1",
}


def test_all_of_ti_community_infras_templates_parse() -> None:
    names = [f"{key}.{part}" for key, spec in TEMPLATES.items() for part in spec]
    assert len(names) == 54  # 27 keys, each with title and body
    for key, spec in TEMPLATES.items():
        for part, text in spec.items():
            parse_template(text, f'tide.merge_commit_template["{key}"].{part}')


def test_plain_field_templates_render_as_go_would() -> None:
    assert parse_template(TEMPLATES["tikv"]["title"]).render(PR) == (
        "planner: fix a bug | tidb-test=pr/123 (#4242)"
    )
    assert parse_template(TEMPLATES["pingcap/community"]["body"]).render(PR) == " "


@pytest.mark.parametrize("key", ["ti-community-infra", "pingcap/tidb"])
def test_their_fork_only_methods_fail_at_run_time_naming_key_and_column(key: str) -> None:
    # .ExtractContent and .GitHub.NormalizeIssueNumbers exist only in their Prow fork (tichi):
    # upstream Prow fails to execute these, logs, and leaves GitHub's default title.
    name = f'tide.merge_commit_template["{key}"].title'
    with pytest.raises(TemplateError) as caught:
        parse_template(TEMPLATES[key]["title"], name).render(PR)
    assert str(caught.value) == (
        f"{name} at line 1, column 4: can't evaluate field ExtractContent "
        "in type tide.CodeReviewCommon"
    )
