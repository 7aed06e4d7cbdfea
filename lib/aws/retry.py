"""`retry`: exponential backoff with full jitter for calls botocore does not already retry.

    @retry                      # bare: three attempts in all, waits of ~0.5 s then ~1 s
    def make_request():
        return requests.get("http://example.com")

    @retry(max_attempts=4, backoff_factor=0.2, deadline=30)
    def post(): return session.post(url, json=payload)

The wrapped call is attempted again (at most `max_attempts` times in all, 3 by default) while it

* returns a response with a transient HTTP status: 408, 425, 429 or a transient 5xx
  (``status_code`` of a requests response, ``status`` of urllib's,
  ``ResponseMetadata.HTTPStatusCode`` of a boto3 dict), or
* raises a retryable exception: connection errors and time-outs (the built-in ones, requests'
  and botocore's), and botocore errors whose code is throttling or a transient 5xx.

Any other status is returned at once: a success (any 2xx), and the answers a repeat cannot
change (400, 401, 403, 404, 405, 406, 409, 410, 412, 413, 415, 422, 501, ...); validation and
access-denied errors are raised at once. When the attempts or the
total `deadline` run out, the last response is returned (the predecessor's contract) or the last
exception re-raised.

The n-th wait (n from 0) is ``backoff_factor * 2**n``, capped at `max_delay`, with "equal
jitter": a random point in its upper half, so concurrent callers spread out and every wait is
still at least as long as the one before. A ``Retry-After`` header (seconds) is honoured as the
lower bound of a wait. `sleep`, `clock` and `random` are injectable so tests run on a fake clock;
the default `sleep` is looked up when the call waits (``time.sleep``).

botocore clients already retry (see lib.aws.client): use this for HTTP APIs and multi-step
operations, not around single boto3 calls.
"""

from __future__ import annotations

import functools
import logging
import random as random_module
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import requests
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from lib.aws.errors import (
    ACCESS_DENIED_CODES,
    THROTTLING_CODES,
    TRANSIENT_CODES,
    VALIDATION_CODES,
    error_code,
)

LOG = logging.getLogger(__name__)
T = TypeVar("T")

# Retried: time-outs, "too early", throttling and the transient 5xx. Every other status is an
# answer that a repeat cannot change (400..., 406, 412, 413, 415, 501, 505, ...).
# 520-524 and 529: the origin errors and overload answers of CDNs in front of many APIs
RETRY_STATUSES = frozenset(
    {408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524, 529, 598, 599}
)
RETRYABLE_EXCEPTIONS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    # requests' own: they derive from OSError, not from the built-in ConnectionError
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    EndpointConnectionError,
    ConnectionClosedError,
    ReadTimeoutError,
)


def response_status(response: Any) -> int | None:
    """The HTTP status of a requests/urllib response or a boto3 response dict; None if none."""
    for attribute in ("status_code", "status"):
        value = getattr(response, attribute, None)
        if isinstance(value, int):
            return value
    if isinstance(response, dict):
        status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int):
            return status
        status = response.get("status_code", response.get("statusCode"))
        if isinstance(status, int):
            return status
    return None


def retry_after_seconds(response: Any) -> float | None:
    headers = getattr(response, "headers", None)
    if not headers:
        return None
    value = headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None  # an HTTP date: rare for APIs; fall back to our own backoff


def is_retryable_exception(error: BaseException) -> bool:
    if isinstance(error, ClientError):
        code = error_code(error)
        if code in ACCESS_DENIED_CODES or code in VALIDATION_CODES:
            return False
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500
    return isinstance(error, RETRYABLE_EXCEPTIONS)


def _should_retry_status(status: int | None) -> bool:
    return status in RETRY_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff_factor: float = 0.5
    max_delay: float = 20.0
    deadline: float | None = 60.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Equal jitter: uniform in [cap/2, cap], cap = min(max_delay, factor * 2**attempt)."""
        cap = min(self.max_delay, self.backoff_factor * (2**attempt))
        return cap / 2 + rng() * cap / 2


def retry(
    function: Callable[..., T] | None = None,
    *,
    max_attempts: int = 3,
    backoff_factor: float = 0.5,
    max_delay: float = 20.0,
    deadline: float | None = 60.0,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    random: Callable[[], float] = random_module.random,
    retry_on: Callable[[BaseException], bool] = is_retryable_exception,
) -> Any:
    """Decorator (bare or with arguments); see the module documentation for the contract."""
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    policy = RetryPolicy(max_attempts, backoff_factor, max_delay, deadline)

    def decorate(wrapped: Callable[..., T]) -> Callable[..., T]:
        @functools.wraps(wrapped)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            started = clock()
            attempt = 0
            while True:
                failure: BaseException | None = None
                try:
                    result = wrapped(*args, **kwargs)
                except Exception as error:
                    if not retry_on(error) or attempt + 1 >= policy.max_attempts:
                        raise
                    wait = policy.delay(attempt, random)
                    reason: Any = error
                    failure = error
                else:
                    status = response_status(result)
                    if not _should_retry_status(status) or attempt + 1 >= policy.max_attempts:
                        return result
                    wait = max(policy.delay(attempt, random), retry_after_seconds(result) or 0.0)
                    reason = f"HTTP {status}"
                if policy.deadline is not None and clock() - started + wait > policy.deadline:
                    LOG.warning("%s: giving up, deadline %.1fs", wrapped.__name__, policy.deadline)
                    if failure is not None:
                        raise failure
                    return result
                attempt += 1
                LOG.info(
                    "%s: attempt %d/%d failed (%s); retrying in %.2fs",
                    wrapped.__name__,
                    attempt,
                    policy.max_attempts,
                    reason,
                    wait,
                )
                (sleep or time.sleep)(wait)

        return wrapper

    return decorate(function) if function is not None else decorate
