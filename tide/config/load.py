"""Reading config.yaml: text -> YAML with lines -> validated `Config`, or every problem at once."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from tide.config.diagnostics import validation_problems
from tide.config.problems import ConfigError, Problem
from tide.config.root import Config
from tide.config.source import YamlSyntaxError, read_yaml


def load_config(path: str | Path) -> Config:
    """Load and validate the file at `path`; raises `ConfigError` listing every problem."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            [Problem("", None, f"cannot read the config file: {reason}", source)]
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem("", None, f"the config file is not UTF-8 text: {exc.reason}", source)]
        ) from None
    return parse_config(text, source)


def parse_config(text: str, source: str = "config.yaml") -> Config:
    """Validate config YAML given as text; `source` names it in problems."""
    try:
        doc = read_yaml(text, source)
    except YamlSyntaxError as exc:
        raise ConfigError([exc.problem]) from None
    data = _without_nulls({} if doc.data is None else doc.data)
    if not isinstance(data, dict):
        raise ConfigError([Problem("", 1, "the top level must be a mapping of sections", source)])
    problems = list(doc.problems)
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems += validation_problems(exc, doc, Config)
    if problems:
        raise ConfigError(problems)
    return config


def _without_nulls(value: object) -> object:
    # A key left empty (`missingLabels:`) means "not set", as in Prow's Go decoding.
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
