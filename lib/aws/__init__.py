"""The AWS interface: sessions and clients, S3 helpers, secrets, retry, CloudWatch Logs sink."""

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
from lib.aws.logs import CloudwatchLogs
from lib.aws.retry import retry
from lib.aws.s3 import S3, DeleteResult, S3Object, parse_s3_uri

__all__ = [
    "AWS",
    "S3",
    "AwsAccessDenied",
    "AwsError",
    "CloudwatchLogs",
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
