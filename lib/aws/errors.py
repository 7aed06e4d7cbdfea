"""Specific exceptions that say which bucket, key or secret an AWS call failed on."""

from __future__ import annotations

from botocore.exceptions import ClientError

ACCESS_DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnrecognizedClientException",
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "403",
    }
)
# credentials that a refresh may fix (an expired session token, a rotated key)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "RequestExpired",
    }
)
NOT_FOUND_CODES = frozenset(
    {"NoSuchKey", "NoSuchBucket", "NotFound", "404", "ResourceNotFoundException"}
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "ServiceException",
        "500",
        "502",
        "503",
        "504",
    }
)
VALIDATION_CODES = frozenset(
    {
        "ValidationException",
        "ValidationError",
        "InvalidParameterException",
        "InvalidParameterValue",
        "InvalidParameterCombination",
        "InvalidRequest",
        "InvalidArgument",
        "MalformedPolicyDocument",
        "InvalidSequenceTokenException",
        "DataAlreadyAcceptedException",
        "400",
    }
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def http_status(error: ClientError) -> int | None:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")


class AwsError(RuntimeError):
    """An AWS call failed; `code` is the service's error code when there was one."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class AwsAccessDenied(AwsError):
    pass


class S3Error(AwsError):
    def __init__(self, message: str, bucket: str, key: str | None = None, code: str | None = None):
        where = f"s3://{bucket}/{key}" if key is not None else f"s3://{bucket}"
        super().__init__(f"{message}: {where}", code)
        self.bucket = bucket
        self.key = key


class S3ObjectNotFound(S3Error):
    pass


class S3BucketNotFound(S3Error):
    pass


class S3AccessDenied(S3Error, AwsAccessDenied):
    pass


class SecretError(AwsError):
    def __init__(self, message: str, secret_id: str, code: str | None = None):
        super().__init__(f"{message}: secret {secret_id!r}", code)
        self.secret_id = secret_id


class SecretNotFound(SecretError):
    pass


def wrap_s3_error(error: ClientError, operation: str, bucket: str, key: str | None) -> S3Error:
    code = error_code(error)
    message = f"{operation} failed ({code or http_status(error)})"
    if code in ("NoSuchBucket",):
        return S3BucketNotFound(message, bucket, key, code)
    if code in NOT_FOUND_CODES:
        return S3ObjectNotFound(message, bucket, key, code)
    if code in ACCESS_DENIED_CODES:
        return S3AccessDenied(message, bucket, key, code)
    return S3Error(message, bucket, key, code)
