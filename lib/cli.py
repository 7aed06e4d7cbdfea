"""What every job's command line shares: --env, --set, --run-id, and loading the config once."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from lib.config import AppConfig, ConfigError, load_config


def job_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A parser with the common options. Full option names only (Glue 6 rejects abbreviations)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--env", required=True, choices=("local", "dev", "prod"))
    parser.add_argument("--run-id", help="an id for this run (default: random)")
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set spark.shuffle_partitions=16",
    )
    return parser


def load_job_config(args: argparse.Namespace, job: str, schema: type) -> AppConfig | None:
    """The job's configuration, or None after printing the reason (main then returns 2)."""
    try:
        return load_config(args.env, job=job, job_schema=schema, overrides=args.overrides)
    except ConfigError as error:
        usage_error(error)
        return None


def usage_error(error: Any) -> int:
    print(f"error: {error}", file=sys.stderr)
    return 2
