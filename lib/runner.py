"""The one run lifecycle every job goes through: a job's `__main__` says only what is its own.

    JOB = JobSpec(
        name="my_job",                      # its section jobs.my_job in conf/*.yaml
        settings=MySettings,                # frozen dataclass typing that section
        arguments=add_my_arguments,         # its own options, beside the common ones
        prepare=build_request,              # (args, settings) -> request; checked before Spark
        body=run_my_job,                    # (RunContext) -> summary printed as JSON
        description=__doc__,
    )

    def main(argv: list[str] | None = None) -> int:
        return run_job(JOB, argv)

`run_job` parses the common options (--env, --run-id, --conf-dir, --set) and the job's own,
loads the configuration once, creates the SparkSession (or joins the active one and leaves it
open), builds the logger from the configuration with the library's own records attached, runs
the body, prints the summary on stdout and returns the exit code:

* 0: the body returned its summary.
* 1: the body raised. One line ``error: <reason>`` on stderr (redacted, at most 500 characters),
  the traceback in the job's logs, and a Slack alert when `alerts.slack_webhook` is configured.
  A :class:`JobFailed` carries a summary of its own, printed on stdout first.
* 2: wrong arguments (argparse exits 2 itself), configuration (ConfigError), a :class:`UsageError`
  or ValueError from `prepare`, or a Spark set-up that cannot start (SparkSetupError).

Nothing here knows a job: jobs/<name>/__main__.py hands in its JobSpec.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib.cli import job_parser, load_job_config, runtime_argv, usage_error
from lib.config import AppConfig, ConfigError
from lib.redact import Redactor
from lib.redact import one_line as redacted_line

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from lib.aws import AWS
    from lib.logging import Logger
    from lib.logging.executor import ExecutorLogConfig

MAX_REASON_CHARS = 500
LIBRARY_LOGGER = "lib"  # the library's own records (lib.*) go to the job's sinks too

Summary = Mapping[str, Any]


class UsageError(ValueError):
    """Arguments that parse but do not make a run (exit code 2)."""


class JobFailed(RuntimeError):
    """The run failed for a reason the job knows; `summary` is printed on stdout (exit code 1)."""

    def __init__(self, reason: str, summary: Summary | None = None) -> None:
        super().__init__(reason)
        self.summary = summary


@dataclass(frozen=True)
class JobSpec:
    """What a job says about itself. Everything else is the same for every job."""

    name: str
    body: Callable[[RunContext], Summary]
    settings: type | None = None
    arguments: Callable[[argparse.ArgumentParser], None] | None = None
    prepare: Callable[[argparse.Namespace, Any], Any] | None = None
    # False for jobs that never touch Spark (API extraction); a callable decides per run.
    uses_spark: bool | Callable[[argparse.Namespace], bool] = True
    description: str | None = None
    prog: str | None = None
    # What a run without Spark is called in logs (its app id is "<run name>-<run id>").
    run_name: Callable[[argparse.Namespace], str] | None = None
    # The URIs a run's Spark reads and writes, and its table format: a local session then
    # loads only the jars those need (SparkFactory.for_run). None: everything configured.
    spark_uses: Callable[[Any], tuple[Sequence[str], str | None]] | None = None

    def parser(self) -> argparse.ArgumentParser:
        parser = job_parser(self.prog or f"python -m jobs.{self.name}", self.description)
        if self.arguments is not None:
            self.arguments(parser)
        return parser

    def needs_spark(self, args: argparse.Namespace) -> bool:
        return self.uses_spark(args) if callable(self.uses_spark) else bool(self.uses_spark)

    def app_id_without_spark(self, args: argparse.Namespace) -> str:
        name = self.run_name(args) if self.run_name is not None else self.name
        return f"{name}-{args.run_id}"


@dataclass(frozen=True)
class RunContext:
    """What the body of a run gets: its arguments, configuration, session, clients and logger."""

    job: JobSpec
    args: argparse.Namespace
    config: AppConfig
    request: Any
    app_id: str
    aws: AWS
    log: Logger
    spark: SparkSession | None = None

    @property
    def run_id(self) -> str:
        return self.args.run_id

    @property
    def settings(self) -> Any:
        return self.config.job

    def executor_log_config(self) -> ExecutorLogConfig | None:
        """What executors need to log to CloudWatch (None when CloudWatch is off)."""
        from lib.logging.setup import executor_log_config

        return executor_log_config(self.config, self.app_id)


def one_line(
    error: BaseException, limit: int = MAX_REASON_CHARS, redactor: Redactor | None = None
) -> str:
    """lib.redact.one_line; a JobFailed is its message alone (no type)."""
    return redacted_line(error, limit, redactor, with_type=not isinstance(error, JobFailed))


def run_job(job: JobSpec, argv: list[str] | None = None, one_run_per_process: bool = False) -> int:
    """Parse, configure, start, run, report and clean up one run of `job`; the exit code.

    `one_run_per_process` (the entry scripts): the process runs this job only, so a local
    session loads only the jars this run needs (JobSpec.spark_uses); a process that runs
    several jobs keeps every configured jar (a JVM's class path is fixed at its start)."""
    args = job.parser().parse_args(argv)
    try:
        config = load_job_config(args, job.name, job.settings)
    except ConfigError as error:
        return usage_error(error)
    args.run_id = args.run_id or uuid.uuid4().hex[:12]
    try:
        request = job.prepare(args, config.job) if job.prepare is not None else None
    except ValueError as error:  # UsageError included
        return usage_error(error)

    from lib.aws import AWS
    from lib.logging.setup import logger_from_config

    spark, owns_session = None, False
    if job.needs_spark(args):
        from pyspark import SparkContext
        from pyspark.sql import SparkSession

        from lib.spark import SparkFactory, SparkSetupError

        owns_session = SparkSession.getActiveSession() is None
        factory = SparkFactory.from_config(config)
        # narrowed only in a process whose JVM this run starts (its class path is then fixed)
        if one_run_per_process and job.spark_uses is not None and SparkContext._gateway is None:
            factory = factory.for_run(*job.spark_uses(request))
        try:
            spark = factory.create_session(
                app_name=config.spark.app_name, log_level=config.spark.log_level
            )
        except SparkSetupError as error:
            started = SparkSession.getActiveSession()  # a class check fails after the start
            if owns_session and started is not None:
                started.stop()
            return usage_error(error)
    if spark is not None:
        app_id = spark.sparkContext.applicationId
    else:
        app_id = job.app_id_without_spark(args)
    aws = AWS.from_config(config.aws)
    library_records = logging.getLogger(LIBRARY_LOGGER)
    log = None
    try:
        log = logger_from_config(config, app_id=app_id, aws=aws)
        log.attach_to(library_records)
        if spark is not None and log.is_enabled_for("DEBUG"):
            # SparkContext.getConf() copies the conf, three py4j calls per entry (about 800):
            # only when it is logged
            log.debug("spark conf", conf=dict(spark.sparkContext.getConf().getAll()))
        context = RunContext(job, args, config, request, app_id, aws, log, spark)
        summary = job.body(context)
    except Exception as error:
        return _failed(job, config, aws, log, error, args.run_id)
    finally:
        if log is not None:
            log.detach_from(library_records)
            log.close()
        if owns_session and spark is not None:
            spark.stop()
    print(json.dumps(dict(summary), indent=2, default=str))
    return 0


def run_entry(job: JobSpec, argv: Sequence[str], leading: Sequence[str] = ()) -> int:
    """An entry script's run, under spark-submit or as a Glue script.

    With `awsglue` importable the arguments come through Glue's getResolvedOptions (its own
    arguments ignored); `leading` fixes what Glue cannot pass (a sub-command).
    """
    try:
        resolved = runtime_argv(list(argv), job.parser())
    except ValueError as error:  # Glue's arguments could not be resolved
        return usage_error(error)
    return run_job(job, [*leading, *resolved], one_run_per_process=True)


def _failed(
    job: JobSpec,
    config: AppConfig,
    aws: AWS,
    log: Logger | None,
    error: Exception,
    run_id: str,
) -> int:
    redactor = log.redactor if log is not None else Redactor()
    summary = getattr(error, "summary", None)
    if log is not None:  # None: the logger itself could not be built
        details = {"summary": dict(summary)} if summary is not None else {}
        log.exception(f"{job.name} run failed", run_id=run_id, **details)
    if summary is not None:
        print(redactor.text(json.dumps(dict(summary), indent=2, default=str)))
    print(f"error: {one_line(error, redactor=redactor)}", file=sys.stderr)
    _alert(job, config, aws, error, run_id, redactor)
    return 1


def _alert(
    job: JobSpec, config: AppConfig, aws: AWS, error: Exception, run_id: str, redactor: Redactor
) -> None:
    """The Slack alert, with the job's redactor (secrets read during the run are masked).
    Alerting never changes the run's outcome: its own failure is only logged."""
    if config.alerts.slack_webhook is None:
        return
    try:
        from lib.alerts import SlackAlerter

        alerter = SlackAlerter.from_config(config.alerts, secrets=aws.secrets, redactor=redactor)
        alerter.job_failed(job.name, config.env, run_id, error)
    except Exception as alert_error:  # e.g. str() of an error whose JVM is gone
        logging.getLogger(__name__).warning("slack alert not sent: %s", type(alert_error).__name__)
