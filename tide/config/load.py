"""Reading config.yaml: text -> YAML with lines -> validated `Config`, or every problem at once.

Several files (Prow's layout) are read by `tide.config.layout.ConfigFiles`; these two are the
one-file forms, for tide's own config file.
"""

from __future__ import annotations

from pathlib import Path

from tide.config.document import Config
from tide.config.layout import ConfigFiles, parse_text


def load_config(path: str | Path) -> Config:
    """Load and validate the file at `path`; raises `ConfigError` listing every problem."""
    return ConfigFiles(config=Path(path)).load()


def parse_config(text: str, source: str = "config.yaml") -> Config:
    """Validate config YAML given as text; `source` names it in problems."""
    return parse_text(text, source)
