"""The run-time configuration schema: frozen dataclasses, one per section.

Only what jobs need on the driver and executors lives here. Top-level sections that tooling types
(`deploy`, see tooling/deploy/settings.py) are read from the same files but skipped here, so they
never travel to executors inside AppConfig.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ENVIRONMENTS = ("local", "dev", "prod")
DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:5000"
# Sections a job may overlay on the global ones, from its `jobs.<name>` block.
OVERLAY_SECTIONS = ("aws", "spark", "logging", "alerts")
# Top-level sections of the config files that the run-time schema does not type (tooling does).
TOOLING_SECTIONS = ("deploy",)

ConfScalar = str | int | float | bool


@dataclass(frozen=True)
class SecretRef:
    """Where a secret lives: a Secrets Manager id (optionally one JSON key in it) or an env var."""

    secret_id: str | None = None
    env: str | None = None
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.secret_id is None) == (self.env is None):
            raise ValueError("a secret reference names exactly one of 'secret_id' or 'env'")

    def describe(self) -> str:
        if self.secret_id is not None:
            return f"secretsmanager:{self.secret_id}" + (f"#{self.key}" if self.key else "")
        return f"env:{self.env}"


@dataclass(frozen=True)
class AwsConfig:
    region: str = "eu-west-1"
    profile: str | None = None
    # None = AWS's own endpoints. The local env sets it from AWS_ENDPOINT_URL (moto server).
    endpoint_url: str | None = None
    max_attempts: int = 10
    retry_mode: Literal["standard", "adaptive", "legacy"] = "standard"
    # seconds per attempt, for every client (botocore's default is 60 s each)
    connect_timeout: float = 5.0
    read_timeout: float = 60.0

    def __post_init__(self) -> None:
        from lib.aws.limits import check_client_settings  # what every client is built with

        check_client_settings(self.max_attempts, self.connect_timeout, self.read_timeout)


@dataclass(frozen=True)
class S3ABucketConfig:
    """Per-bucket S3A settings (fs.s3a.bucket.<name>.*)."""

    anonymous: bool = False
    endpoint: str | None = None
    region: str | None = None
    conf: Mapping[str, ConfScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class SparkConfig:
    app_name: str
    # None: take the master from spark-submit / the platform (EMR, Glue).
    master: str | None = None
    # local: S3A on an emulator endpoint with the project's jars; cloud: the platform's setup.
    profile: Literal["local", "cloud"] = "cloud"
    log_level: Literal["ALL", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"] = "WARN"
    delta: bool = False
    # magic/directory/partitioned: S3A committers (local profile); platform: leave it to EMR/Glue.
    committer: Literal["magic", "directory", "partitioned", "platform"] = "platform"
    committer_conflict_mode: Literal["fail", "append", "replace"] = "append"
    shuffle_partitions: int | None = None
    ui_enabled: bool = True
    driver_memory: str | None = None
    executor_memory: str | None = None
    executor_cores: int | None = None
    jars_dir: str | None = None
    # local profile: the driver JVM's class-data-sharing archive ("auto": the one `make setup`
    # writes into the jar folder; none when it is not there)
    class_data_archive: str | None = None
    conf: Mapping[str, ConfScalar] = field(default_factory=dict)
    s3a_buckets: Mapping[str, S3ABucketConfig] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudWatchConfig:
    enabled: bool = False
    log_group: str | None = None
    stream_prefix: str = "spark"
    retention_days: int = 30
    # seconds a flush may take (task end, buffer cap, exit); each PutLogEvents attempt gets
    # min(aws.read_timeout, what is left of it); after an unreachable endpoint the sinks of
    # a process send to the fallback for breaker_seconds instead of paying the time-out again
    flush_deadline: float = 10.0
    breaker_seconds: float = 60.0
    # how the driver's sink sends: "process", from a child process of its own (a logging call
    # only queues its line: lib.logging.shipper), or "thread", from a thread of the driver's;
    # executors' sinks send from a thread (a child per Python worker would cost a process each)
    delivery: Literal["process", "thread"] = "process"

    def __post_init__(self) -> None:
        from lib.aws.limits import check_retention_days  # the service's accepted values

        check_retention_days(self.retention_days)
        if not self.flush_deadline > 0 or self.breaker_seconds < 0:
            raise ValueError("flush_deadline must be > 0 and breaker_seconds >= 0 seconds")


@dataclass(frozen=True)
class LoggingConfig:
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    stdout: bool = True
    log_path: str | None = None  # a folder; the file is <log_path>/<job name>.log
    cloudwatch: CloudWatchConfig = field(default_factory=CloudWatchConfig)


@dataclass(frozen=True)
class AlertsConfig:
    slack_webhook: SecretRef | None = None
    timeout_seconds: float = 5.0


@dataclass(frozen=True)
class AppConfig:
    env: str
    project: str
    aws: AwsConfig
    spark: SparkConfig
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    alerts: AlertsConfig = field(default_factory=AlertsConfig)
    job_name: str | None = None
    # The job's own settings, typed by the job's schema dataclass (None when no job is given).
    job: Any = None
    sources: tuple[str, ...] = ()
