"""python -m jobs.xetra --env local --source <uri> --target <uri> [--start D --end D] [--format F]

Exit code 0 on success; 1 with a one-line reason on stderr (and a Slack alert when configured)
when the run fails; 2 when the arguments or the configuration are wrong. URIs are s3://,
s3a://, file:///path or a local path (none of {}[]*?\\ in it: Spark would read it as a
pattern). Without --start/--end, every date from jobs.xetra.first_date to today whose source
files are new or changed is processed, plus the later dates that depend on them.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from typing import Any

from jobs.xetra.job import RunRequest, XetraSettings, run
from lib.runner import JobSpec, RunContext, UsageError, run_job


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="the PDS root (default: jobs.xetra.source)")
    parser.add_argument("--target", help="the lake root (default: jobs.xetra.target)")
    parser.add_argument("--start", type=date.fromisoformat, help="first date, YYYY-MM-DD")
    parser.add_argument("--end", type=date.fromisoformat, help="last date, YYYY-MM-DD")
    parser.add_argument("--format", choices=("parquet", "delta"), help="report table format")


def build_request(args: argparse.Namespace, settings: XetraSettings) -> RunRequest:
    source = args.source or settings.source
    target = args.target or settings.target
    if not source or not target:
        raise UsageError("a source and a target are needed (--source/--target or config)")
    return RunRequest(
        source=source,
        target=target,
        fmt=args.format or settings.format,
        start=args.start,
        end=args.end,
        run_id=args.run_id,
    )


def run_xetra(context: RunContext) -> dict[str, Any]:
    summary = run(
        context.spark,
        context.request,
        context.settings,
        context.aws,
        context.log,
        context.executor_log_config(),
    )
    return {key: value for key, value in summary.items() if key != "per_date"}


def spark_uses(request: RunRequest) -> tuple[list[str], str]:
    return [request.source, request.target], request.fmt


JOB = JobSpec(
    name="xetra",
    spark_uses=spark_uses,
    settings=XetraSettings,
    arguments=add_arguments,
    prepare=build_request,
    body=run_xetra,
    description=__doc__,
)


def main(argv: list[str] | None = None) -> int:
    return run_job(JOB, argv)


if __name__ == "__main__":
    sys.exit(main())
