"""Go's text/template in Python, for Prow's merge commit templates: parse once, run per PR."""

from __future__ import annotations

from dataclasses import dataclass

from tide.gotemplate.execute import execute
from tide.gotemplate.gofmt import Struct
from tide.gotemplate.lex import TemplateError
from tide.gotemplate.parse import parse

__all__ = ["GoTemplate", "Struct", "TemplateError", "parse_go_template"]


@dataclass(frozen=True, slots=True)
class GoTemplate:
    """A parsed template; `name` (where it is configured) leads every error message."""

    name: str
    source: str
    nodes: tuple[object, ...]

    def execute(self, data: object) -> str:
        return execute(self.nodes, data, self.source, self.name)


def parse_go_template(text: str, name: str) -> GoTemplate:
    return GoTemplate(name, text, parse(text, name))
