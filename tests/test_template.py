"""Merge commit templates: the Go text/template subset Prow users write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tide.model import Mergeable, PullRequest
from tide.template import TemplateError, parse_template, pull_request_fields

PR = {"Number": 1, "HeadRefOID": "SHA", "Title": "my commit title", "Body": "my commit body"}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # Case 244.
        ("static title", "static title"),
        ("{{ .Number }}: {{ .Title }}", "1: my commit title"),
        ("{{ .HeadRefOID }} - {{ .Body }}", "SHA - my commit body"),
        ("{{.Title}}", "my commit title"),
        ("", ""),
        ("a }} b", "a }} b"),
    ],
)
def test_fields_and_literal_text_render(source: str, expected: str) -> None:
    assert parse_template(source).render(PR) == expected


@pytest.mark.parametrize("source", ["{{ .Hello }}", "{{ .World }}", "{{ if .Hello }}x{{ end }}"])
def test_a_missing_field_renders_nothing(source: str) -> None:
    # Case 244: Prow leaves the commit title/message empty and logs.
    assert parse_template(source).render(PR) is None


def test_trim_markers_remove_whitespace_on_their_side() -> None:
    template = parse_template("title:  \n {{- .Title -}} \n\t(#{{ .Number }})")
    assert template.render(PR) == "title:my commit title(#1)"


def test_a_dash_without_space_is_not_a_trim_marker() -> None:
    with pytest.raises(TemplateError, match="unsupported action"):
        parse_template("x {{-.Title}}")


def test_if_else_chooses_by_truthiness() -> None:
    template = parse_template(
        "{{ if .Draft }}draft{{ else if .Body }}{{ .Body }}{{ else }}no body{{ end }}"
    )
    assert template.render({"Draft": True, "Body": ""}) == "draft"
    assert template.render({"Draft": False, "Body": "text"}) == "text"
    assert template.render({"Draft": False, "Body": ""}) == "no body"


def test_nested_if_and_comments() -> None:
    template = parse_template(
        "{{/* squash message */}}{{ if .Title }}{{ if .Body }}{{ .Title }}\n\n{{ .Body }}"
        "{{ end }}{{ end }}"
    )
    assert template.render(PR) == "my commit title\n\nmy commit body"


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("{{ .Title", "unclosed action"),
        ("{{ if .Title }}x", "unexpected EOF"),
        ("x{{ end }}", "unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        ("{{ if }}x{{ end }}", "missing value for if"),
        ("{{ if .A }}{{ else }}{{ else }}{{ end }}", 'expected {{end}}; found "{{ else }}"'),
        ("{{/* note", "unclosed comment"),
        ("{{ }}", 'empty action "{{ }}"'),
    ],
)
def test_malformed_templates_say_what_is_wrong(source: str, detail: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(source, "template for commit title")
    assert str(caught.value).startswith(f"parsing template for commit title: {detail}")


@pytest.mark.parametrize(
    "source",
    [
        '{{ printf "%s" .Title }}',
        "{{ .Title | html }}",
        "{{ .GitHub.Author }}",
        "{{ . }}",
        "{{ range .Labels }}{{ end }}",
        "{{ if not .Draft }}x{{ end }}",
        "{{ with .Title }}{{ end }}",
    ],
)
def test_anything_beyond_the_subset_lists_what_is_supported(source: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(source, "template for commit body")
    message = str(caught.value)
    assert message.startswith("parsing template for commit body: unsupported")
    assert "supported: literal text, {{ .Field }}, {{ if .Field }}" in message


def test_pull_request_fields_render_like_prows_record() -> None:
    pr = PullRequest(
        org="kubernetes",
        repo="kops",
        number=42,
        title="Fix it",
        head_sha="abc123",
        base_ref="main",
        author="alice",
        body="Details",
        head_ref="fix-branch",
        mergeable=Mergeable.MERGEABLE,
        updated_at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
    )
    template = parse_template(
        "{{ .NameWithOwner }}#{{ .Number }} {{ .Org }}/{{ .Repo }} {{ .BaseRefPrefix }}"
        "{{ .BaseRefName }} <- {{ .HeadRefName }}@{{ .HeadRefOID }} by {{ .AuthorLogin }}: "
        "{{ .Title }} / {{ .Body }} / {{ .Mergeable }} / {{ .UpdatedAtTime }}"
    )
    assert template.render(pull_request_fields(pr)) == (
        "kubernetes/kops#42 kubernetes/kops refs/heads/main <- fix-branch@abc123 by alice: "
        "Fix it / Details / MERGEABLE / 2024-05-06 07:08:09 +0000 UTC"
    )
