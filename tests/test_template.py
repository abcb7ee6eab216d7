"""Merge commit templates: the Go text/template subset Prow users write."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tide.gotemplate import Struct, parse_go_template
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


@pytest.mark.parametrize("source", ["{{ .Hello }}", "{{ if .Hello }}x{{ end }}"])
def test_a_missing_field_is_an_error_naming_template_and_column(source: str) -> None:
    # Case 244: Prow's record is a struct, so running fails; Prow then leaves GitHub's default.
    with pytest.raises(TemplateError) as caught:
        parse_template(source, 'tide.merge_commit_template["o/r"].title').render(PR)
    message = str(caught.value)
    assert message.startswith('tide.merge_commit_template["o/r"].title at line 1, column ')
    assert message.endswith("can't evaluate field Hello in type tide.CodeReviewCommon")


def test_trim_markers_remove_whitespace_on_their_side() -> None:
    template = parse_template("title:  \n {{- .Title -}} \n\t(#{{ .Number }})")
    assert template.render(PR) == "title:my commit title(#1)"


def test_a_dash_without_space_is_not_a_trim_marker() -> None:
    # Go reads "{{-3}}" as the number -3 and "{{-.Title}}" as a bad character.
    assert parse_template("x {{-3}}").render(PR) == "x -3"
    with pytest.raises(TemplateError, match="unrecognized character in action"):
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
        ("{{ .Title", "line 1, column 10: unclosed action"),
        ("{{ if .Title }}x", "unexpected EOF: {{if}} has no {{end}}"),
        ("x{{ end }}", "line 1, column 5: unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        ("{{ if }}x{{ end }}", "missing value for if"),
        ("{{ if .A }}{{ else }}{{ else }}{{ end }}", "expected {{end}}"),
        ("{{/* note", "unclosed comment"),
        ("{{ }}", "missing value for command"),
        ("a\n  {{ nosuch .Title }}", 'line 2, column 6: function "nosuch" not defined'),
        ("{{ $x }}", 'undefined variable "$x"'),
        ("{{ with $y := 1 }}{{ end }}{{ $y }}", 'undefined variable "$y"'),
        ("{{ break }}", "{{break}} outside {{range}}"),
        ('{{ define "t" }}{{ end }}', "{{define}} is not supported"),
        ('{{ "unterminated }}', "unterminated quoted string"),
        ("{{ (.Title }}", "unclosed left paren"),
    ],
)
def test_malformed_templates_say_what_is_wrong_and_where(source: str, detail: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse_template(source, "the title template")
    message = str(caught.value)
    assert message.startswith("the title template at line ")
    assert detail in message


DATA = {**PR, "List": ["a", "b", "c"], "Empty": [], "Map": {"b": 2, "a": 1}}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ $t := .Title }}{{ $t }}", "my commit title"),
        ("{{ $n := 1 }}{{ $n = 2 }}{{ $n }}", "2"),
        ('{{ printf "%s (#%d)" .Title .Number }}', "my commit title (#1)"),
        (
            '{{ printf "%q|%5d|%-3s|%x|%v|%t|%05.1f" "a" 42 "b" 255 1.5 true 2.25 }}',
            '"a"|   42|b  |ff|1.5|true|002.2',
        ),
        ('{{ printf "%d" "x" }}{{ printf "%s" }}', "%!d(string=x)%!s(MISSING)"),
        ('{{ printf "%s" 1 2 }}', "%!s(int=1)%!(EXTRA int=2)"),
        ('{{ print "a" 1 2 "b" }}', "a1 2b"),
        ('{{ println "a" 1 }}', "a 1\n"),
        ('{{ .Title | printf "%s!" }}', "my commit title!"),
        ('{{ .Number | printf "%d-%s" "x" }}', "%!d(string=x)-%!s(int=1)"),
        ("{{ with .Body }}[{{ . }}]{{ else }}none{{ end }}", "[my commit body]"),
        ("{{ with .Empty }}x{{ else with .Title }}{{ . }}{{ end }}", "my commit title"),
        ("{{ if eq .Number 3 1 }}one{{ end }}", "one"),
        ('{{ if ne .Title "x" }}ne{{ end }}', "ne"),
        ("{{ if and (lt .Number 2) (ge .Number 1) }}in{{ end }}", "in"),
        ('{{ or "" .Title }}|{{ and .Number "" }}|{{ not .Body }}', "my commit title||false"),
        ("{{ len .Title }} {{ index .Title 0 }} {{ slice .Title 3 9 }}", "15 109 commit"),
        ("{{ range $i, $c := .List }}{{ if $i }}, {{ end }}{{ $c }}{{ end }}", "a, b, c"),
        ("{{ range .Empty }}x{{ else }}empty{{ end }}", "empty"),
        ("{{ range $k, $v := .Map }}{{ $k }}={{ $v }};{{ end }}", "a=1;b=2;"),
        (
            "{{ range 5 }}{{ if eq . 3 }}{{ break }}{{ end }}{{ if eq . 1 }}{{ continue }}"
            "{{ end }}{{ . }}{{ end }}",
            "02",
        ),
        ('{{ index .List 1 }}{{ index .Map "b" }}', "b2"),
        ('{{ html "<a & \'b\'>" }} {{ urlquery "a b&c" }}', "&lt;a &amp; &#39;b&#39;&gt; a+b%26c"),
        ("{{ 1.5 }} {{ 1e6 }} {{ 'a' }} {{ 0x1F }} {{ -3 }} {{ true }}", "1.5 1e+06 97 31 -3 true"),
        ("a  {{- /* gone */ -}}  b", "ab"),
        ('{{ "tab\\there" }}|{{ `raw\\n` }}', "tab\there|raw\\n"),
    ],
)
def test_go_template_semantics(source: str, expected: str) -> None:
    # Dot is a struct (as Prow's record); .Map is a Go map, whose keys range in sorted order.
    data = Struct("T", {**DATA, "Map": {"b": 2, "a": 1}})
    assert parse_go_template(source, "t").execute(data) == expected


@pytest.mark.parametrize(
    ("source", "detail"),
    [
        ("x {{ index .Title 99 }}", "column 6: error calling index: index out of range: 99"),
        ('{{ lt .Number "2" }}', "error calling lt: incompatible types for comparison"),
        ('{{ .Title "x" }}', "Title has arguments but cannot be invoked as function"),
        ("{{ range .Title }}{{ end }}", "range can't iterate over my commit title"),
        ("{{ .Title.Length }}", "can't evaluate field Length in type string"),
    ],
)
def test_runtime_errors_name_the_template_and_column(source: str, detail: str) -> None:
    template = parse_template(source, 'tide.merge_commit_template["o"].body')
    with pytest.raises(TemplateError) as caught:
        template.render(PR)
    message = str(caught.value)
    assert message.startswith('tide.merge_commit_template["o"].body at line 1, column ')
    assert message.endswith(detail)


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


def test_a_format_string_from_a_pr_title_cannot_pad_without_bound() -> None:
    # Go's fmt ignores widths over a million; `printf .Title` hands the PR author the format.
    template = parse_template("{{ printf .Title 1 }}")
    assert template.render({**PR, "Title": "%99999999999d|"}) == "1|"
    assert parse_template('{{ printf "%*d" 5 1 }}').render(PR) == "    1"
    assert parse_template('{{ printf "%-*d|" 3 1 }}').render(PR) == "1  |"


def test_a_runaway_template_stops_with_an_error() -> None:
    template = parse_template(
        "{{ range 100000 }}{{ range 100000 }}{{ end }}{{ end }}", "tide.merge_commit_template"
    )
    with pytest.raises(TemplateError, match="ran more than 1000000 steps"):
        template.render(PR)
