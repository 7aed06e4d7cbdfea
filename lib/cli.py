"""What every job's command line shares: --env, --set, --run-id, --conf-dir; Glue's arguments."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from lib.config import ENVIRONMENTS, AppConfig, load_config


def job_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """A parser with the common options. Full option names only (Glue 6 rejects abbreviations)."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        allow_abbrev=False,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_options(parser)
    return parser


def add_common_options(parser: argparse.ArgumentParser, env_required: bool = True) -> None:
    parser.add_argument("--env", required=env_required, choices=ENVIRONMENTS)
    parser.add_argument("--run-id", help="an id for this run (default: random)")
    parser.add_argument(
        "--conf-dir",
        help="config folder or URI (s3://…, file://…); default: the copy inside the package",
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set spark.shuffle_partitions=16",
    )


def common_options(argv: Sequence[str]) -> argparse.Namespace:
    """The common options in a job's arguments (the job's own are ignored): what a tool reads to
    resolve the configuration the job will run with (env, --set overrides, --conf-dir).

    Raises ValueError for a malformed one (``--env bogus``, ``--env`` without a value); never
    exits and never prints help."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False, exit_on_error=False)
    add_common_options(parser, env_required=False)
    try:
        known, _ = parser.parse_known_args(list(argv))
    except argparse.ArgumentError as error:
        raise ValueError(f"in the job's arguments: {error}") from None
    return known


def load_job_config(args: argparse.Namespace, job: str, schema: type | None) -> AppConfig:
    """The job's configuration from the common options (raises lib.config.ConfigError)."""
    return load_config(
        args.env,
        job=job,
        job_schema=schema,
        overrides=args.overrides,
        conf_dir=getattr(args, "conf_dir", None),
    )


def usage_error(error: Any) -> int:
    """Print ``error: <reason>`` on stderr; the exit code for wrong arguments (2)."""
    print(f"error: {error}", file=sys.stderr)
    return 2


GLUE_RUN_ARGUMENTS = ("--JOB_ID", "--JOB_RUN_ID", "--JOB_NAME")


def runtime_argv(argv: list[str], parser: argparse.ArgumentParser) -> list[str]:
    """The job's arguments under spark-submit (argv as given) or under AWS Glue.

    Glue passes job arguments as ``--key value`` pairs mixed with its own (``--JOB_ID``,
    ``--JOB_RUN_ID``, ``--job-bookmark-option``, ``--TempDir`` ...); the script is under Glue when
    `awsglue` is importable and Glue's run arguments are there. Then Glue's
    `awsglue.utils.getResolvedOptions` picks the options the job declares: only those present
    (it fails on absent ones), each once (Glue cannot repeat a key: several overrides ride in
    one ``--set "a=1; b=2"``). It returns them under argparse's names (``--run-id`` as
    ``run_id``).
    """
    if not any(flag in argv for flag in GLUE_RUN_ARGUMENTS):
        return list(argv)
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        return list(argv)
    names = [
        option[2:]
        for action in parser._actions
        for option in action.option_strings[:1]
        if option.startswith("--") and option != "--help"
    ]
    present = [name for name in names if f"--{name}" in argv]
    try:
        resolved = getResolvedOptions(["entry", *argv], present)
    except Exception as error:  # awsglue's GlueArgumentError: an option without its value
        raise ValueError(f"Glue arguments: {error}") from None
    result: list[str] = []
    for name in present:
        result += [f"--{name}", resolved[name.replace("-", "_")]]
    return result
