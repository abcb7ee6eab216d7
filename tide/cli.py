"""The `tide` command: run the daemon, check a config, or watch the demo."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from tide.config import Config, ConfigError
from tide.config.layout import SUPPLEMENTAL_SUFFIX, ConfigFiles

DEFAULT_CONFIG = "config.yaml"
DEFAULT_URL = "http://127.0.0.1:8888"


def _config_path(arg: str | None) -> Path:
    return Path(arg or os.environ.get("TIDE_CONFIG") or DEFAULT_CONFIG)


def config_files(args: argparse.Namespace) -> ConfigFiles:
    """The files the flags name: tide's own (--config) and/or Prow's (--config-path, ...)."""
    prow = getattr(args, "config_path", None)
    own = getattr(args, "config", None)
    if prow is None:
        own = _config_path(own)
    elif own is None and os.environ.get("TIDE_CONFIG"):
        own = os.environ["TIDE_CONFIG"]
    job_config = getattr(args, "job_config_path", None)
    return ConfigFiles(
        config=Path(own) if own else None,
        prow_config=Path(prow) if prow else None,
        supplemental_dirs=tuple(
            Path(d) for d in getattr(args, "supplemental_prow_config_dir", None) or ()
        ),
        supplemental_suffix=getattr(args, "supplemental_prow_configs_filename_suffix", None)
        or SUPPLEMENTAL_SUFFIX,
        job_config=Path(job_config) if job_config else None,
    )


def _load(args: argparse.Namespace) -> tuple[Config | None, ConfigFiles]:
    files = config_files(args)
    try:
        return files.load(), files
    except ConfigError as exc:
        from tide.logs import is_json

        for problem in exc.problems:
            if is_json():
                import structlog

                structlog.get_logger().error("config_invalid", problem=str(problem))
            else:
                print(problem, file=sys.stderr)
        return None, files


def cmd_check_config(args: argparse.Namespace) -> int:
    config, files = _load(args)
    if config is None:
        return 2
    pools = len(config.queries)
    print(f"{files.describe()}: OK ({pools} quer{'y' if pools == 1 else 'ies'})")
    if config.presubmit_repos:
        print(f"  presubmits: required contexts for {config.presubmit_repos} repositories")
    if config.prow_sections_not_used:
        print(f"  not used by tide: {', '.join(config.prow_sections_not_used)}")
    print(f"  {_ci_policy(config)}")
    return 0


def _ci_policy(config: Config) -> str:
    """Silence is never success: say which repositories, if any, merge with no CI at all."""
    scopes = config.queue.scopes_where("no_ci")
    if scopes:
        return f"queue.no_ci: PRs merge with no CI context reported in: {', '.join(scopes)}"
    return (
        "CI: a PR merges only once a CI context has reported on it and every one finished "
        "(for repositories without CI, set queue.no_ci)"
    )


def cmd_run(args: argparse.Namespace) -> int:
    from tide.logs import configure_logging, log_uncaught, overrides
    from tide.service import run_service

    try:
        level, fmt = overrides(args.log_level, args.log_format)
    except ValueError as exc:
        print(f"tide: {exc}", file=sys.stderr)
        return 2
    if fmt is not None:
        # Known before the config is read, so that even its problems come out in this format.
        configure_logging(level or "info", fmt)
    sys.excepthook = log_uncaught
    config, files = _load(args)
    if config is None:
        return 2
    return asyncio.run(
        run_service(
            config,
            files,
            once=args.once,
            dry_run=args.dry_run,
            serve=not args.no_server,
            log_level=level,
            log_format=fmt,
        )
    )


def _direct_config(args: argparse.Namespace) -> tuple[bool, Config | None]:
    """(ok, config): the config when --direct asks for one."""
    if not args.direct:
        return True, None
    config, _ = _load(args)
    return config is not None, config


def cmd_status(args: argparse.Namespace) -> int:
    from tide.cli_readers import status_command

    ok, config = _direct_config(args)
    if not ok:
        return 2
    return asyncio.run(status_command(url=args.url, config=config, as_json=args.json))


def cmd_explain(args: argparse.Namespace) -> int:
    from tide.cli_readers import explain_command

    ok, config = _direct_config(args)
    if not ok:
        return 2
    return asyncio.run(explain_command(args.pr, url=args.url, config=config, as_json=args.json))


def _reader_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        default=os.environ.get("TIDE_URL") or DEFAULT_URL,
        help=f"the daemon's HTTP address (default: $TIDE_URL or {DEFAULT_URL})",
    )
    parser.add_argument(
        "--direct", action="store_true", help="ask GitHub with the config instead of the daemon"
    )
    parser.add_argument("--config", help="config file for --direct (default: ./config.yaml)")
    parser.add_argument("--json", action="store_true", help="print the API's JSON")


def cmd_demo(args: argparse.Namespace) -> int:
    from tide.demo import run_demo

    return asyncio.run(run_demo(forever=args.forever, speed=args.speed, port=args.port))


def _version() -> str:
    """The installed distribution's version (a source tree without metadata says so)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tide-merge-queue")
    except PackageNotFoundError:
        return "unknown (not installed)"


def prow_options(parser: argparse.ArgumentParser) -> None:
    """Prow's own flags, so a Prow deployment's files load unchanged."""
    group = parser.add_argument_group(
        "Prow layout", "read Prow's files as Prow does (tide's own settings stay in --config)"
    )
    group.add_argument("--config-path", help="a whole Prow config.yaml (its tide: section)")
    group.add_argument(
        "--supplemental-prow-config-dir",
        action="append",
        help="a directory of supplemental Prow configs, merged by Prow's rules (repeatable)",
    )
    group.add_argument(
        "--supplemental-prow-configs-filename-suffix",
        default=SUPPLEMENTAL_SUFFIX,
        help=f"file name suffix of supplemental configs (default: {SUPPLEMENTAL_SUFFIX})",
    )
    group.add_argument(
        "--job-config-path",
        help="Prow's job config (file or directory): presubmits add required contexts",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tide", description="A merge queue for GitHub.")
    parser.add_argument("--version", action="version", version=f"tide {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run the merge queue daemon")
    run.add_argument("--config", help="config file (default: $TIDE_CONFIG or ./config.yaml)")
    prow_options(run)
    run.add_argument("--once", action="store_true", help="one full sync, then exit")
    run.add_argument("--dry-run", action="store_true", help="decide and log; change nothing")
    run.add_argument(
        "--no-server", action="store_true", help="no HTTP server (API, metrics, dashboard)"
    )
    run.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="overrides log.level (also $TIDE_LOG_LEVEL)",
    )
    run.add_argument(
        "--log-format",
        choices=("auto", "json", "console"),
        help="overrides log.format (also $TIDE_LOG_FORMAT)",
    )
    run.set_defaults(func=cmd_run)

    status = sub.add_parser("status", help="print every pool's queue")
    _reader_options(status)
    status.set_defaults(func=cmd_status)

    explain = sub.add_parser("explain", help="why isn't a pull request merging?")
    explain.add_argument("pr", help="org/repo#123, or the pull request's URL")
    _reader_options(explain)
    explain.set_defaults(func=cmd_explain)

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("--config", help="config file (default: $TIDE_CONFIG or ./config.yaml)")
    prow_options(check)
    check.set_defaults(func=cmd_check_config)

    demo = sub.add_parser("demo", help="run the queue against the built-in GitHub simulator")
    demo.add_argument("--forever", action="store_true", help="keep running after the queue drains")
    demo.add_argument(
        "--speed", type=float, default=1.0, help="CI speed factor (2 = twice as fast)"
    )
    demo.add_argument(
        "--port", type=int, default=8888, help="dashboard port (any free one if taken)"
    )
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
