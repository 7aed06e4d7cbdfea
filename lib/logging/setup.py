"""A job's Logger from its configuration: stdout, a file locally, CloudWatch in dev/prod."""

from __future__ import annotations

from typing import Any

from lib.config import AppConfig
from lib.logging.base import DEFAULT_LOG_PATH
from lib.logging.executor import ExecutorLogConfig, prepare_log_group
from lib.logging.logger import Logger


def logger_from_config(config: AppConfig, app_id: str, aws: Any = None) -> Logger:
    """Sinks as `config.logging` says; the CloudWatch group is prepared once here (driver)."""
    settings = config.logging
    logger = Logger(
        log_name=config.job_name or config.project,
        log_level=settings.level,
        attach_default_stdout_logger=settings.stdout,
        attach_default_file_logger=settings.log_path is not None,
        log_path=settings.log_path or DEFAULT_LOG_PATH,
        context={
            "app_id": app_id,
            "env": config.env,
            **({"job": config.job_name} if config.job_name else {}),
        },
    )
    if settings.cloudwatch.enabled:
        log_config = ExecutorLogConfig.from_config(config, app_id=app_id)
        prepare_log_group(log_config)  # retention and tags from the config
        logger.add_sink(log_config.driver_sink())
    if aws is not None:
        aws.secrets.on_secret(logger.mask)  # secrets read from now on are redacted
    return logger


def executor_log_config(config: AppConfig, app_id: str) -> ExecutorLogConfig | None:
    """The config executors need to log to CloudWatch, or None when CloudWatch is off."""
    if not config.logging.cloudwatch.enabled:
        return None
    return ExecutorLogConfig.from_config(config, app_id=app_id)
