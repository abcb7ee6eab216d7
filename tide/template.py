"""Prow's merge commit templates: Go text/template over Prow's pull request record.

The template language is `tide.gotemplate` (variables, pipelines, if/with/range, the builtin
functions, printf). Dot is Prow's `CodeReviewCommon`: a struct, so an unknown field is an error
when the template runs, as in Prow, which then leaves GitHub's default title or message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from tide.gotemplate import GoTemplate, Struct, TemplateError, parse_go_template
from tide.model import PullRequest

__all__ = ["PR_FIELDS", "Template", "TemplateError", "parse_template", "pull_request_fields"]

# The fields of Prow's pull request record that a template can name.
PR_FIELDS = (
    "NameWithOwner",
    "Number",
    "Org",
    "Repo",
    "BaseRefPrefix",
    "BaseRefName",
    "HeadRefName",
    "HeadRefOID",
    "Title",
    "Body",
    "AuthorLogin",
    "UpdatedAtTime",
    "Mergeable",
)


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template; `render` fills it from a PR's fields (raises `TemplateError`)."""

    source: str
    _parsed: GoTemplate

    def render(self, fields: Mapping[str, object]) -> str:
        return self._parsed.execute(as_struct(fields, "tide.CodeReviewCommon"))


def as_struct(value: object, type_name: str = "struct") -> object:
    """Go structs from nested mappings: an unknown field is then an error, as in Prow."""
    if isinstance(value, Mapping):
        return Struct(type_name, {k: as_struct(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return [as_struct(v) for v in value]
    return value


@lru_cache(maxsize=512)
def parse_template(text: str, name: str = "template") -> Template:
    """Parse `text`; `name` says where it is configured, for errors (`merge_commit_template...`)."""
    return Template(text, parse_go_template(text, name))


def pull_request_fields(pr: PullRequest) -> dict[str, object]:
    """The fields a merge commit template sees for `pr`, under Prow's names."""
    return {
        "NameWithOwner": pr.repo_key,
        "Number": pr.number,
        "Org": pr.org,
        "Repo": pr.repo,
        "BaseRefPrefix": pr.base_ref_prefix,
        "BaseRefName": pr.base_ref,
        "HeadRefName": pr.head_ref,
        "HeadRefOID": pr.head_sha,
        "Title": pr.title,
        "Body": pr.body,
        "AuthorLogin": pr.author,
        "UpdatedAtTime": pr.updated_at,
        "Mergeable": pr.mergeable.value,
    }
