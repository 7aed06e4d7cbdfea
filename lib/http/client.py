"""An HTTP client for REST APIs: timeouts, retries, rate limit, parallel fan-out.

    client = HttpClient("https://api.example.com", rate_per_second=10,
                        auth=ApiKeyAuth("X-Api-Key", secret_value))
    page = client.get_json("/v3.1/alpha/DEU")
    results = client.fetch_all(["/v3.1/alpha/DEU", "/v3.1/alpha/FRA"], max_workers=8)

* Retries: urllib3's ``Retry`` on connection errors, read errors, 429 and 5xx, exponential
  backoff, ``Retry-After`` honoured up to `backoff_max` (no hand-rolled loop).
* Time-outs: (connect, read) on every request.
* Rate limit: a token bucket shared by all threads of the client.
* Fan-out: a bounded ThreadPoolExecutor; results come back in request order, and every failure is
  reported (URL, status, error), never swallowed.
* Credentials (API key header, basic auth) come from Secrets Manager or the environment via a
  config SecretRef; they are masked in everything the client logs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from lib.redact import Redactor

LOG = logging.getLogger(__name__)
RETRY_STATUSES = (429, 500, 502, 503, 504)


class HttpError(RuntimeError):
    def __init__(self, url: str, status: int | None, message: str) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


@dataclass(frozen=True)
class Response:
    url: str
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    elapsed: float = 0.0

    def json(self) -> Any:
        import json

        return json.loads(self.body)


@dataclass(frozen=True)
class Failure:
    index: int
    url: str
    status: int | None
    error: str


@dataclass(frozen=True)
class FanOutResult:
    """Results in request order (None where a request failed) and every failure."""

    responses: list[Response | None]
    failures: list[Failure]

    @property
    def ok(self) -> bool:
        return not self.failures


class RateLimiter:
    """Token bucket: at most `rate` requests a second on average, bursts up to `burst`."""

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = max(1, burst)
        self._tokens = float(self.burst)
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)


class ApiKeyAuth(requests.auth.AuthBase):
    """An API key in a header (``X-Api-Key: …`` or ``Authorization: Bearer …``)."""

    def __init__(self, header: str, value: str, prefix: str = "") -> None:
        self.header = header
        self.value = value
        self.prefix = prefix

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self.header] = f"{self.prefix}{self.value}"
        return request


def basic_auth(user: str, password: str) -> requests.auth.HTTPBasicAuth:
    return requests.auth.HTTPBasicAuth(user, password)


class CappedRetry(Retry):
    """urllib3's Retry whose wait for a ``Retry-After`` is capped by `backoff_max` (urllib3
    itself would wait up to 6 hours for what a server asks)."""

    def get_retry_after(self, response: Any) -> float | None:
        wait = super().get_retry_after(response)
        return None if wait is None else min(wait, self.backoff_max)


class HttpClient:
    def __init__(
        self,
        base_url: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_retries: int = 5,
        backoff_factor: float = 0.5,
        backoff_max: float = 30.0,
        rate_per_second: float | None = None,
        burst: int = 1,
        auth: requests.auth.AuthBase | None = None,
        headers: Mapping[str, str] | None = None,
        pool_size: int = 16,
        redactor: Redactor | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.timeout = (connect_timeout, read_timeout)
        self.redactor = redactor or Redactor()
        retry = CappedRetry(
            total=max_retries,
            connect=max_retries,
            read=max_retries,
            status=max_retries,
            other=0,
            backoff_factor=backoff_factor,
            backoff_max=backoff_max,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}),
            respect_retry_after_header=True,
            raise_on_status=False,  # the last response comes back; we report its status
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=pool_size, pool_maxsize=pool_size)
        self.session = requests.Session()
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"Accept": "application/json", **(headers or {})})
        self.session.auth = auth
        if isinstance(auth, ApiKeyAuth):
            self.redactor.mask(auth.value)
        if isinstance(auth, requests.auth.HTTPBasicAuth):
            self.redactor.mask(auth.password)
        self.limiter = RateLimiter(rate_per_second, burst) if rate_per_second else None

    def url(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return urljoin(self.base_url, path_or_url.lstrip("/"))

    def get(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Response:
        """One GET (retried as configured); raises HttpError unless the final status is 2xx."""
        url = self.url(path_or_url)
        if self.limiter is not None:
            self.limiter.acquire()
        started = time.monotonic()
        try:
            answer = self.session.get(url, params=params, timeout=self.timeout)
        except requests.RequestException as error:
            message = self.redactor.text(f"{type(error).__name__}: {error}")
            raise HttpError(url, None, message) from None
        full_url = answer.url
        if not 200 <= answer.status_code < 300:
            body = self.redactor.text(answer.text[:300])
            raise HttpError(full_url, answer.status_code, f"HTTP {answer.status_code}: {body}")
        return Response(
            full_url,
            answer.status_code,
            answer.content,
            dict(answer.headers),
            time.monotonic() - started,
        )

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.get(path_or_url, params).json()

    def fetch_all(
        self,
        requests_: Iterable[str | tuple[str, Mapping[str, Any]]],
        max_workers: int = 8,
    ) -> FanOutResult:
        """GET every request in parallel (bounded); results keep the request order."""
        items = [(item, None) if isinstance(item, str) else item for item in requests_]

        def one(item: tuple[str, Mapping[str, Any] | None]) -> Response | Failure:
            path, params = item
            try:
                return self.get(path, params)
            except HttpError as error:
                return Failure(-1, error.url, error.status, str(error))

        with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
            outcomes = list(pool.map(one, items))
        responses: list[Response | None] = []
        failures: list[Failure] = []
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, Failure):
                failures.append(Failure(index, outcome.url, outcome.status, outcome.error))
                responses.append(None)
            else:
                responses.append(outcome)
        for failure in failures:
            LOG.warning("request failed: %s", self.redactor.text(failure.error))
        return FanOutResult(responses, failures)

    def close(self) -> None:
        self.session.close()
