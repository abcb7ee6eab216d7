"""Loading and validating config.yaml, and resolving it into per-branch policies."""

from __future__ import annotations

from tide.config.context_options import ContextOptions
from tide.config.document import Config
from tide.config.load import load_config, parse_config
from tide.config.problems import ConfigError, Problem
from tide.config.queue_section import QueueSettings
from tide.config.sections import (
    AppSettings,
    GitHubSettings,
    HistorySettings,
    LogSettings,
    ServerSettings,
    WebhookSettings,
)
from tide.config.tide_section import TideSection

__all__ = [
    "AppSettings",
    "Config",
    "ConfigError",
    "ContextOptions",
    "GitHubSettings",
    "HistorySettings",
    "LogSettings",
    "Problem",
    "QueueSettings",
    "ServerSettings",
    "TideSection",
    "WebhookSettings",
    "load_config",
    "parse_config",
]
