"""Logging to CloudWatch from Spark executors, one stream per Python worker process.

On the driver, once:

    log_config = ExecutorLogConfig.from_config(config, app_id=spark.sparkContext.applicationId)
    prepare_log_group(log_config, retention_days=30, tags={"project": "datalake-etl"})
    driver_log = driver_logger(log_config)              # stream {prefix}/{app_id}/driver

In a task (the config is a small frozen dataclass: it pickles into the closure):

    def count_rows(rows, log_config=log_config):
        with task_logger(log_config) as log:            # stage/partition/attempt in every event
            n = sum(1 for _ in rows)
            log.info("partition done", rows=n)
        yield n

    rdd.mapPartitions(count_rows).sum()

Each Python worker process builds its sink once and reuses it across the tasks it runs (Spark
reuses workers): stream ``{prefix}/{app_id}/{host}-{pid}``. One stream per task would hit the
CreateLogStream limit (50 calls/s). The task scope always flushes at task end, also on error.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from lib.logging.base import BaseLogger, PerProcess, StdoutLogger, warn_stderr
from lib.logging.cloudwatch import CloudwatchLogs
from lib.logging.logger import Logger
from lib.redact import one_line


def _stream_name(name: str) -> str:
    """`name` with the characters CloudWatch refuses in stream names (: and *) as '-' (a
    scheduler's run id in the app id, such as scheduled__2026-12-03T10:00:00+00:00)."""
    return name.replace(":", "-").replace("*", "-")


@dataclass(frozen=True)
class ExecutorLogConfig:
    log_group_name: str
    app_id: str
    stream_prefix: str = "spark"
    region: str | None = None
    endpoint_url: str | None = None
    log_level: str = "INFO"
    context: tuple[tuple[str, str], ...] = ()
    flush_interval: float = 5.0
    batch_size: int = 10_000
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    flush_deadline: float = 10.0
    breaker_seconds: float = 60.0
    # given to the group when it is created (by prepare_log_group, or lazily by a sink)
    retention_days: int | None = None
    tags: tuple[tuple[str, str], ...] = ()
    driver_delivery: str = "process"  # the driver's sink's (CloudwatchLogs delivery)

    @classmethod
    def from_config(cls, config: Any, app_id: str, **overrides: Any) -> ExecutorLogConfig:
        """From a lib.config.AppConfig (logging.cloudwatch section, aws section, job, env)."""
        cloudwatch = config.logging.cloudwatch
        if not cloudwatch.log_group:
            raise ValueError("logging.cloudwatch.log_group is not configured")
        context = {"env": config.env}
        if config.job_name:
            context["job"] = config.job_name
        values = {
            "log_group_name": cloudwatch.log_group,
            "app_id": app_id,
            "stream_prefix": cloudwatch.stream_prefix,
            "region": config.aws.region,
            "endpoint_url": config.aws.endpoint_url,
            "log_level": config.logging.level,
            "context": tuple(sorted(context.items())),
            "connect_timeout": config.aws.connect_timeout,
            "read_timeout": config.aws.read_timeout,
            "flush_deadline": cloudwatch.flush_deadline,
            "breaker_seconds": cloudwatch.breaker_seconds,
            "retention_days": cloudwatch.retention_days,
            "tags": (("env", config.env), ("project", config.project)),
            "driver_delivery": cloudwatch.delivery,
        }
        values.update(overrides)
        return cls(**values)

    def driver_stream(self) -> str:
        return _stream_name(f"{self.stream_prefix}/{self.app_id}/driver")

    def worker_stream(self) -> str:
        return _stream_name(
            f"{self.stream_prefix}/{self.app_id}/{socket.gethostname()}-{os.getpid()}"
        )

    def sink(self, stream: str, delivery: str = "thread") -> CloudwatchLogs:
        return CloudwatchLogs(
            delivery=delivery,
            region=self.region,
            log_group_name=self.log_group_name,
            log_stream_name=stream,
            log_level=self.log_level,
            endpoint_url=self.endpoint_url,
            flush_interval=self.flush_interval,
            batch_size=self.batch_size,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            flush_deadline=self.flush_deadline,
            breaker_seconds=self.breaker_seconds,
            retention_days=self.retention_days,
            tags=dict(self.tags),
        )

    def driver_sink(self) -> CloudwatchLogs:
        """The driver's sink, with the configured delivery."""
        return self.sink(self.driver_stream(), delivery=self.driver_delivery)

    def base_context(self) -> dict[str, Any]:
        return {"app_id": self.app_id, **dict(self.context)}


# Per-process cache by design: a Python worker runs many tasks, and its sink must outlive them.
_WORKER_SINKS = PerProcess()


def worker_sink(config: ExecutorLogConfig) -> CloudwatchLogs:
    """This worker process's sink for `config`, built once. The stream (and the group, with
    its retention and tags) is created at the first send: never here, where a throttled or
    denied call would fail the task."""
    return _WORKER_SINKS.get(config, lambda: config.sink(config.worker_stream()))


@contextmanager
def task_logger(
    config: ExecutorLogConfig, extra_context: Mapping[str, Any] | None = None
) -> Iterator[Logger]:
    """A Logger for the current task; flushes the worker's sink when the task scope ends.

    Logging never fails the task: a sink that cannot be built is replaced by stderr, and what
    CloudWatch does not take goes to the sink's fallback (stderr) with its reason."""
    sinks: list[BaseLogger]
    try:
        sinks = [worker_sink(config)]
    except Exception as error:
        warn_stderr(f"executor CloudWatch logging is off for this task ({one_line(error)})")
        sinks = [StdoutLogger("executor", config.log_level, json_lines=True, stream="stderr")]
    logger = Logger(
        log_level=config.log_level,
        loggers=sinks,
        log_name="executor",
        context={**config.base_context(), **(extra_context or {})},
    )
    try:
        yield logger
    finally:
        logger.flush()


def prepare_log_group(
    config: ExecutorLogConfig,
    retention_days: int | None = None,
    tags: Mapping[str, str] | None = None,
) -> bool:
    """On the driver, once per run: the group (with retention and tags: the config's unless
    given here) and the driver stream.

    Returns False, after one line on stderr, when CloudWatch refuses or cannot be reached:
    logging set-up never fails the job (events then go to the sinks' fallback)."""
    sink = None
    try:
        sink = config.sink(config.driver_stream())
        sink.create_log_group(
            retention_days=config.retention_days if retention_days is None else retention_days,
            tags=dict(config.tags) if tags is None else tags,
        )
        sink.create_log_stream()
    except Exception as error:
        warn_stderr(
            f"CloudWatch log group {config.log_group_name} could not be prepared "
            f"({one_line(error)}); the job goes on, undelivered events go to stderr"
        )
        return False
    finally:
        if sink is not None:
            sink.close()
    return True


def driver_logger(config: ExecutorLogConfig, **logger_options: Any) -> Logger:
    """A Logger whose CloudWatch sink writes to ``{prefix}/{app_id}/driver``."""
    sink = config.driver_sink()
    return Logger(
        log_level=config.log_level,
        loggers=[sink],
        log_name="driver",
        context=config.base_context(),
        **logger_options,
    )
