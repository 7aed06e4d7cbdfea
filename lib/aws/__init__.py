"""The AWS interface: sessions and clients, S3 helpers, secrets, retry.

The CloudWatch Logs sink is a logging handler: it lives in lib.logging.cloudwatch and takes its
client from here. `lib.aws.CloudwatchLogs` and `lib.aws.logs.CloudwatchLogs` still name it (loaded
on first use, so importing lib.aws never imports lib.logging).
"""

from typing import Any

from lib.aws.client import AWS
from lib.aws.errors import (
    AwsAccessDenied,
    AwsError,
    S3AccessDenied,
    S3BucketNotFound,
    S3Error,
    S3ObjectNotFound,
    SecretError,
    SecretNotFound,
)
from lib.aws.retry import retry
from lib.aws.s3 import S3, DeleteResult, S3Object, parse_s3_uri

__all__ = [
    "AWS",
    "S3",
    "AwsAccessDenied",
    "AwsError",
    "DeleteResult",
    "S3AccessDenied",
    "S3BucketNotFound",
    "S3Error",
    "S3Object",
    "S3ObjectNotFound",
    "SecretError",
    "SecretNotFound",
    "parse_s3_uri",
    "retry",
]


def __getattr__(name: str) -> Any:
    if name == "CloudwatchLogs":
        from lib.logging.cloudwatch import CloudwatchLogs

        return CloudwatchLogs
    raise AttributeError(f"module 'lib.aws' has no attribute {name!r}")
