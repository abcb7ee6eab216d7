"""The part of Go's text/template that Prow's merge commit templates use, parsed at config load.

Supported: literal text, `{{ .Field }}`, `{{ if .F }}…{{ else if .G }}…{{ else }}…{{ end }}`,
`{{/* comments */}}` and `{{- ` / ` -}}` whitespace trimming. Anything else is a `TemplateError`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from tide.model import PullRequest

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

SUPPORTED = (
    "supported: literal text, {{ .Field }}, {{ if .Field }}...{{ else }}...{{ end }}, "
    "{{/* comments */}} and {{- -}} trimming"
)

_SPACE = " \t\r\n"
_FIELD = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)")


class TemplateError(ValueError):
    """A template that cannot be parsed; the message says where it is used and what is wrong."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(f"parsing {name}: {detail}")
        self.detail = detail


@dataclass(frozen=True, slots=True)
class _Text:
    value: str


@dataclass(frozen=True, slots=True)
class _Field:
    name: str


@dataclass(frozen=True, slots=True)
class _If:
    branches: tuple[tuple[str, tuple[_Node, ...]], ...]
    otherwise: tuple[_Node, ...]


_Node = _Text | _Field | _If


@dataclass(frozen=True, slots=True)
class _Action:
    """One `{{ ... }}` before parsing: its words, and the text it came from for messages."""

    words: tuple[str, ...]
    source: str


class _MissingField(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template; `render` fills it from a PR's fields."""

    source: str
    _nodes: tuple[_Node, ...]

    def render(self, fields: Mapping[str, object]) -> str | None:
        """The text, or None when a named field is missing (Prow then leaves it empty and logs)."""
        out: list[str] = []
        try:
            _emit(self._nodes, fields, out)
        except _MissingField:
            return None
        return "".join(out)


def parse_template(text: str, name: str = "template") -> Template:
    """Parse `text`; `name` says what it is for in errors (`template for commit title`)."""
    tokens = _lex(text, name)
    nodes, _, end = _parse_block(tokens, 0, name, in_if=False)
    assert end is None
    return Template(text, nodes)


def _is_space(char: str) -> bool:
    return char != "" and char in _SPACE


def _lex(text: str, name: str) -> list[_Text | _Action]:
    tokens: list[_Text | _Action] = []
    trim_next = False
    pos = 0
    while True:
        start = text.find("{{", pos)
        chunk = text[pos:] if start < 0 else text[pos:start]
        if trim_next:
            chunk = chunk.lstrip(_SPACE)
        if start < 0:
            tokens.append(_Text(chunk))
            return tokens
        inner = start + 2
        # "{{- " trims the text before; "{{-3}}" would be a number in Go, not a trim marker.
        if text[inner : inner + 1] == "-" and _is_space(text[inner + 1 : inner + 2]):
            chunk = chunk.rstrip(_SPACE)
            inner += 2
        tokens.append(_Text(chunk))
        if text.startswith("/*", inner):
            pos, trim_next = _skip_comment(text, inner, name)
            continue
        end = text.find("}}", inner)
        if end < 0:
            raise TemplateError(name, "unclosed action")
        content = text[inner:end]
        trim_next = content.endswith("-") and _is_space(content[-2:-1])
        if trim_next:
            content = content[:-1]
        tokens.append(_Action(tuple(content.split()), text[start : end + 2]))
        pos = end + 2


def _skip_comment(text: str, at: int, name: str) -> tuple[int, bool]:
    """Past `/* ... */}}` (or `*/ -}}`); the flag says whether to trim the text after it."""
    close = text.find("*/", at + 2)
    if close < 0:
        raise TemplateError(name, "unclosed comment")
    rest = close + 2
    if text.startswith("}}", rest):
        return rest + 2, False
    if _is_space(text[rest : rest + 1]) and text.startswith("-}}", rest + 1):
        return rest + 4, True
    raise TemplateError(name, "comment ends before closing delimiter")


def _condition(action: _Action, words: tuple[str, ...], name: str) -> str:
    if not words:
        raise TemplateError(name, "missing value for if")
    match = _FIELD.fullmatch(words[0]) if len(words) == 1 else None
    if match is None:
        raise TemplateError(name, f'unsupported condition in "{action.source}"; {SUPPORTED}')
    return match.group(1)


def _parse_block(
    tokens: list[_Text | _Action], i: int, name: str, *, in_if: bool
) -> tuple[tuple[_Node, ...], int, _Action | None]:
    """Nodes up to an `else`/`end` (returned as the third value) or the end of the tokens."""
    nodes: list[_Node] = []
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if isinstance(token, _Text):
            if token.value:
                nodes.append(token)
            continue
        words = token.words
        if not words:
            raise TemplateError(name, f'empty action "{token.source}"')
        head = words[0]
        if head in ("else", "end"):
            if not in_if:
                raise TemplateError(name, f"unexpected {{{{{head}}}}}")
            return tuple(nodes), i, token
        if head == "if":
            node, i = _parse_if(tokens, i, token, name)
            nodes.append(node)
            continue
        match = _FIELD.fullmatch(head) if len(words) == 1 else None
        if match is None:
            raise TemplateError(name, f'unsupported action "{token.source}"; {SUPPORTED}')
        nodes.append(_Field(match.group(1)))
    if in_if:
        raise TemplateError(name, "unexpected EOF (an {{ if }} has no {{ end }})")
    return tuple(nodes), i, None


def _parse_if(
    tokens: list[_Text | _Action], i: int, opening: _Action, name: str
) -> tuple[_If, int]:
    branches: list[tuple[str, tuple[_Node, ...]]] = []
    condition = _condition(opening, opening.words[1:], name)
    while True:
        body, i, closing = _parse_block(tokens, i, name, in_if=True)
        assert closing is not None
        branches.append((condition, body))
        words = closing.words
        if words == ("end",):
            return _If(tuple(branches), ()), i
        if words[0] == "else" and len(words) > 1 and words[1] == "if":
            condition = _condition(closing, words[2:], name)
            continue
        if words != ("else",):
            raise TemplateError(name, f'unsupported action "{closing.source}"; {SUPPORTED}')
        otherwise, i, last = _parse_block(tokens, i, name, in_if=True)
        assert last is not None
        if last.words != ("end",):
            raise TemplateError(name, f'expected {{{{end}}}}; found "{last.source}"')
        return _If(tuple(branches), otherwise), i


def _emit(nodes: tuple[_Node, ...], fields: Mapping[str, object], out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.value)
        elif isinstance(node, _Field):
            out.append(_format(_lookup(fields, node.name)))
        else:
            chosen = node.otherwise
            for condition, body in node.branches:
                if _lookup(fields, condition):
                    chosen = body
                    break
            _emit(chosen, fields, out)


def _lookup(fields: Mapping[str, object], name: str) -> object:
    if name not in fields:
        raise _MissingField(name)
    return fields[name]


def _format(value: object) -> str:
    """Values printed as Go's fmt would print the Prow field."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, datetime):
        return _go_time(value)
    return str(value)


def _go_time(value: datetime) -> str:
    # Go's Time.String(): "2006-01-02 15:04:05.999999999 -0700 MST", fraction trimmed.
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    offset = value.strftime("%z") or "+0000"
    zone = value.tzname() or "UTC"
    if zone.startswith("UTC") and zone != "UTC":
        zone = offset
    return f"{text} {offset} {zone}"


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
