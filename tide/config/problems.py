"""What is wrong with a config file: `Problem` (one finding: key path, line) and `ConfigError`.

Validators deep in the models report `Issue`s relative to the value they check; the loader turns
them into `Problem`s once it knows the absolute key path and the YAML line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from pydantic_core import PydanticCustomError

from tide.redaction import redact

PathSegment = str | int
KeyPath = tuple[PathSegment, ...]

RULES_ERROR_TYPE = "tide_rules"

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a config file, as `tide check-config` prints it."""

    path: str
    line: int | None
    message: str
    source: str

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The config could not be loaded; `problems` lists every finding, file by file."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        # A token pasted into the wrong key would otherwise be echoed back in every message,
        # log line, /readyz answer and dashboard banner that shows the problem.
        shown = [Problem(redact(p.path), p.line, redact(p.message), p.source) for p in problems]
        # File by file (in the order the files were read), in line order within each.
        order: dict[str, int] = {}
        for p in shown:
            order.setdefault(p.source, len(order))
        self.problems: list[Problem] = sorted(
            shown, key=lambda p: (order[p.source], p.line if p.line is not None else 0, p.path)
        )
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Issue:
    """A broken rule, located relative to the value being validated."""

    path: KeyPath
    message: str


def reject(issues: Sequence[Issue]) -> NoReturn:
    """Fail a pydantic validator with every issue found, not only the first."""
    summary = "; ".join(i.message for i in issues)
    raise PydanticCustomError(RULES_ERROR_TYPE, "{summary}", {"summary": summary, "issues": issues})


def format_path(path: KeyPath) -> str:
    """`("tide", "queries", 0, "labels")` -> `tide.queries[0].labels`; odd keys are quoted."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        elif _PLAIN_KEY.fullmatch(segment):
            out += f".{segment}" if out else segment
        else:
            out += f"[{json.dumps(segment, ensure_ascii=False)}]"
    return out


def quoted(values: Iterable[str]) -> str:
    """`"a", "b"`: how messages list names the user wrote."""
    return ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
