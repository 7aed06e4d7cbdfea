"""Layered YAML configuration loaded once into frozen dataclasses.

    config = load_config("dev", job="my_job", job_schema=MySettings, overrides=["x.y=1"])

* lib.config.schema: the sections (aws, spark, logging, alerts) and AppConfig
* lib.config.loading: files, layers, ``${VAR}`` interpolation, the config folder, load_config
* lib.config.coercion: typing the merged tree, text from the environment or --set, secret refusal
* lib.config.overrides: ``--set dotted.key=value``
* lib.config.errors: ConfigError names the dotted key and the file it came from
"""

from lib.config.errors import ConfigError, SecretInConfigError
from lib.config.loading import CONF_DIR_ENV, default_conf_dir, load_config
from lib.config.overrides import parse_override, split_overrides
from lib.config.schema import (
    DEFAULT_LOCAL_ENDPOINT,
    ENVIRONMENTS,
    AlertsConfig,
    AppConfig,
    AwsConfig,
    CloudWatchConfig,
    ConfScalar,
    LoggingConfig,
    S3ABucketConfig,
    SecretRef,
    SparkConfig,
)

__all__ = [
    "CONF_DIR_ENV",
    "DEFAULT_LOCAL_ENDPOINT",
    "ENVIRONMENTS",
    "AlertsConfig",
    "AppConfig",
    "AwsConfig",
    "CloudWatchConfig",
    "ConfScalar",
    "ConfigError",
    "LoggingConfig",
    "S3ABucketConfig",
    "SecretInConfigError",
    "SecretRef",
    "SparkConfig",
    "default_conf_dir",
    "load_config",
    "parse_override",
    "split_overrides",
]
