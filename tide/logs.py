"""Logging set-up: JSON lines for machines, a readable coloured console for people.

Every module logs through `structlog.get_logger()`; events carry keys, never tokens.
Libraries that log through the standard `logging` module (apscheduler, aiohttp) and
Python's warnings go through the same renderer, so with `json` every line tide prints
is one JSON object. `TIDE_LOG_LEVEL` / `TIDE_LOG_FORMAT` (or the CLI's `--log-level` /
`--log-format`) override the config file.
"""

from __future__ import annotations

import logging
import os
import sys
import traceback
from collections.abc import Mapping
from types import TracebackType
from typing import TextIO

import structlog

LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
FORMATS = ("auto", "json", "console")
QUIET_LIBRARIES = ("apscheduler", "aiohttp.access", "aiohttp.server")
LEVEL_ENV = "TIDE_LOG_LEVEL"
FORMAT_ENV = "TIDE_LOG_FORMAT"

_state: dict[str, object] = {"json": False, "handler": None}


def overrides(
    level: str | None, fmt: str | None, env: Mapping[str, str] | None = None
) -> tuple[str | None, str | None]:
    """The level and format the command line or the environment force (None: the config's)."""
    env = os.environ if env is None else env
    level = level or env.get(LEVEL_ENV) or None
    fmt = fmt or env.get(FORMAT_ENV) or None
    if level is not None and level not in LEVELS:
        raise ValueError(f"{LEVEL_ENV}={level!r}: use one of {', '.join(LEVELS)}")
    if fmt is not None and fmt not in FORMATS:
        raise ValueError(f"{FORMAT_ENV}={fmt!r}: use one of {', '.join(FORMATS)}")
    return level, fmt


def is_json() -> bool:
    """Whether logs are JSON lines now (so plain text must not be printed beside them)."""
    return bool(_state["json"])


def configure_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """`fmt`: `json`, `console`, or `auto` (console on a terminal, JSON otherwise)."""
    out = stream or sys.stdout
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
    renderer: structlog.types.Processor
    if use_console:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty(), sort_keys=False)
    else:
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
    _state["json"] = not use_console
    threshold = LEVELS.get(level, logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    _route_stdlib(out, renderer, shared, threshold)


def _route_stdlib(
    out: TextIO,
    renderer: structlog.types.Processor,
    shared: list[structlog.types.Processor],
    threshold: int,
) -> None:
    """apscheduler, aiohttp and `warnings` speak `logging`: render them like our events."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    previous = _state["handler"]
    if isinstance(previous, logging.Handler):
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(threshold)
    # apscheduler narrates every job and aiohttp every request (probes included) at info:
    # only their warnings matter unless debug is asked for.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(
            threshold if threshold <= logging.DEBUG else logging.WARNING
        )
    _state["handler"] = handler
    logging.captureWarnings(True)


def reset_logging() -> None:
    """Back to structlog's defaults, the standard-library handler removed (tests)."""
    handler = _state["handler"]
    if isinstance(handler, logging.Handler):
        logging.getLogger().removeHandler(handler)
    _state["handler"] = None
    _state["json"] = False
    logging.captureWarnings(False)
    structlog.reset_defaults()


def log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """`sys.excepthook` for JSON mode: a crash is one `crashed` event, not a raw traceback."""
    if not is_json() or issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, tb)
        return
    text = "".join(traceback.format_exception(kind, exc, tb))
    structlog.get_logger().critical("crashed", error=f"{kind.__name__}: {exc}", exception=text)


def fatal(message: str) -> None:
    """A reason tide cannot start or finish: one JSON event, or one `tide:` line on stderr."""
    if is_json():
        structlog.get_logger().error("fatal", reason=message)
    else:
        print(f"tide: {message}", file=sys.stderr)
