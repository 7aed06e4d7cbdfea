"""python -m jobs.xetra --env local --source <uri> --target <uri> [--start D --end D] [--format F]

Exit code 0 on success; 1 with a one-line reason on stderr (and a Slack alert when configured)
when the run fails; 2 when the arguments or the configuration are wrong. URIs are s3://, s3a://
or file://. Without --start/--end, every date from jobs.xetra.first_date to today whose source
files are new or changed is processed, plus the later dates that depend on them.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from jobs.xetra.job import RunRequest, XetraSettings, run
from lib.alerts import SlackAlerter
from lib.aws import AWS
from lib.cli import job_parser, load_job_config, usage_error
from lib.config import AppConfig
from lib.logging.setup import executor_log_config, logger_from_config
from lib.spark import SparkFactory, SparkSetupError


def build_parser() -> argparse.ArgumentParser:
    parser = job_parser("python -m jobs.xetra", __doc__)
    parser.add_argument("--source", help="the PDS root (default: jobs.xetra.source)")
    parser.add_argument("--target", help="the lake root (default: jobs.xetra.target)")
    parser.add_argument("--start", type=date.fromisoformat, help="first date, YYYY-MM-DD")
    parser.add_argument("--end", type=date.fromisoformat, help="last date, YYYY-MM-DD")
    parser.add_argument("--format", choices=("parquet", "delta"), help="report table format")
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_request(args: argparse.Namespace, settings: XetraSettings) -> RunRequest:
    source = args.source or settings.source
    target = args.target or settings.target
    if not source or not target:
        raise ValueError("a source and a target are needed (--source/--target or config)")
    options = {"run_id": args.run_id} if args.run_id else {}
    return RunRequest(
        source=source,
        target=target,
        fmt=args.format or settings.format,
        start=args.start,
        end=args.end,
        **options,
    )


def alert_failure(config: AppConfig, aws: AWS, error: BaseException, run_id: str) -> None:
    if config.alerts.slack_webhook is None:
        return
    alerter = SlackAlerter.from_config(config.alerts, secrets=aws.secrets)
    alerter.job_failed("xetra", config.env, run_id, error)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = load_job_config(args, "xetra", XetraSettings)
    if config is None:
        return 2
    try:
        request = build_request(args, config.job)
    except ValueError as error:
        return usage_error(error)

    from pyspark.sql import SparkSession

    owns_session = SparkSession.getActiveSession() is None
    try:
        spark = SparkFactory.from_config(config).create_session(
            app_name=config.spark.app_name, log_level=config.spark.log_level
        )
    except SparkSetupError as error:
        return usage_error(error)
    aws = AWS.from_config(config.aws)
    app_id = spark.sparkContext.applicationId
    log = logger_from_config(config, app_id=app_id, aws=aws)
    log.attach_to(logging.getLogger("lib"))  # the library's own records, redacted, same sinks
    log.debug("spark conf", conf=dict(spark.sparkContext.getConf().getAll()))
    try:
        summary = run(spark, request, config.job, aws, log, executor_log_config(config, app_id))
    except Exception as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())[:500]
        log.exception("xetra run failed", run_id=request.run_id)
        alert_failure(config, aws, error, request.run_id)
        print(f"error: {log.redactor.text(reason)}", file=sys.stderr)
        return 1
    finally:
        log.detach_from(logging.getLogger("lib"))
        log.close()
        if owns_session:
            spark.stop()
    print(json.dumps({k: v for k, v in summary.items() if k != "per_date"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
