"""lib.aws.retry on a fake clock: what is retried, how long it waits, what comes back."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError, EndpointConnectionError

from lib.aws import retry


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Response:
    def __init__(self, status_code: int, headers=None) -> None:
        self.status_code = status_code
        self.headers = headers or {}


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "Op",
    )


def sequence(*outcomes):
    calls = []

    def call():
        outcome = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return call, calls


def make(time_, **options):
    return retry(sleep=time_.sleep, clock=time_.clock, random=lambda: 1.0, **options)


def test_retries_non_200_responses_until_success():
    time_ = FakeTime()
    call, calls = sequence(Response(503), Response(500), Response(200))
    result = make(time_, backoff_factor=0.5)(call)()
    assert result.status_code == 200
    assert len(calls) == 3
    assert time_.sleeps == [0.5, 1.0]  # exponential: base * 2**attempt (jitter fixed at 1.0)


def test_boto3_dict_responses_and_2xx_are_success():
    time_ = FakeTime()
    call, calls = sequence({"ResponseMetadata": {"HTTPStatusCode": 204}})
    make(time_)(call)()
    assert len(calls) == 1


def test_returns_the_last_response_when_attempts_run_out():
    time_ = FakeTime()
    call, calls = sequence(Response(503))
    result = make(time_, max_attempts=4)(call)()
    assert result.status_code == 503
    assert len(calls) == 4
    assert len(time_.sleeps) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 406, 412, 413, 415, 422, 501])
def test_never_retries_validation_or_access_denied_statuses(status):
    time_ = FakeTime()
    call, calls = sequence(Response(status), Response(200))
    assert make(time_)(call)().status_code == status
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        client_error("AccessDeniedException", 400),
        client_error("ValidationException", 400),
        ValueError("a bug"),
    ],
)
def test_never_retries_access_denied_validation_or_unknown_errors(error):
    time_ = FakeTime()
    call, calls = sequence(error, Response(200))
    with pytest.raises(type(error)):
        make(time_)(call)()
    assert len(calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        client_error("ThrottlingException", 400),
        client_error("SlowDown", 503),
        client_error("InternalError", 500),
        EndpointConnectionError(endpoint_url="http://x"),
        ConnectionResetError("reset"),
        TimeoutError("slow"),
    ],
)
def test_retries_throttling_5xx_and_connection_errors(error):
    time_ = FakeTime()
    call, calls = sequence(error, Response(200))
    assert make(time_)(call)().status_code == 200
    assert len(calls) == 2


def test_reraises_the_last_exception_when_attempts_run_out():
    time_ = FakeTime()
    call, calls = sequence(ConnectionResetError("again"))
    with pytest.raises(ConnectionResetError, match="again"):
        make(time_, max_attempts=3)(call)()
    assert len(calls) == 3


def test_total_deadline_stops_early():
    time_ = FakeTime()
    call, calls = sequence(Response(503))
    result = make(time_, max_attempts=50, backoff_factor=1.0, max_delay=4.0, deadline=10.0)(call)()
    assert result.status_code == 503
    assert time_.now <= 10.0
    assert sum(time_.sleeps) <= 10.0
    assert len(calls) < 50


def test_equal_jitter_grows_each_time_and_is_capped():
    time_ = FakeTime()
    call, _ = sequence(Response(500), Response(500), Response(500), Response(200))
    draws = iter([1.0, 0.0, 0.5])
    retry(
        sleep=time_.sleep,
        clock=time_.clock,
        random=lambda: next(draws),
        max_attempts=4,
        backoff_factor=1.0,
        max_delay=3.0,
    )(call)()
    # caps 1, 2, 3 (max_delay); each wait in [cap/2, cap]: never shorter than the one before
    assert time_.sleeps == [1.0, 1.0, 2.25]


def test_bare_decorator_makes_three_attempts_by_default():
    time_ = FakeTime()
    call, calls = sequence(Response(503))
    assert make(time_)(call)().status_code == 503
    assert len(calls) == 3
    assert time_.sleeps == [0.5, 1.0]


def test_retry_after_header_is_a_lower_bound():
    time_ = FakeTime()
    call, _ = sequence(Response(429, {"Retry-After": "7"}), Response(200))
    make(time_, backoff_factor=0.1)(call)()
    assert time_.sleeps == [7.0]


def test_bare_decorator_and_metadata():
    @retry
    def fine():
        """doc"""
        return Response(200)

    assert fine().status_code == 200
    assert fine.__name__ == "fine"
    assert fine.__doc__ == "doc"
    with pytest.raises(ValueError, match="max_attempts"):
        retry(max_attempts=0)


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError("refused"),
        requests.exceptions.ConnectTimeout("slow connect"),
        requests.exceptions.ReadTimeout("slow read"),
        requests.exceptions.ChunkedEncodingError("cut"),
    ],
)
def test_retries_requests_connection_errors_and_time_outs(error):
    time_ = FakeTime()
    call, calls = sequence(error, Response(200))
    assert make(time_)(call)().status_code == 200
    assert len(calls) == 2


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503, 504])
def test_retries_transient_statuses(status):
    time_ = FakeTime()
    call, calls = sequence(Response(status), Response(200))
    assert make(time_)(call)().status_code == 200
    assert len(calls) == 2
