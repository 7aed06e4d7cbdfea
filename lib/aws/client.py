"""AWS: one boto3 session, cached clients with an explicit retry configuration, and helpers.

    aws = AWS(region="eu-west-1")                  # or region_name=..., or AWS.from_config(...)
    aws.s3.get_matching_objects(bucket_name="bucket", prefix="2024-01-02/", suffix=".csv")
    aws.secrets.get_secret("datalake-etl/prod/slack", key="webhook_url")
    sink = aws.logs(log_group_name="/datalake-etl/dev", log_stream_name="my-job/driver")

Every client gets ``Config(retries={"mode": retry_mode, "total_max_attempts": max_attempts},
connect_timeout=..., read_timeout=...)``: botocore's default retry mode changed between
versions (Glue/EMR ship older ones), and its default time-outs (60 s each, per attempt) would
let one silent endpoint hold a job for minutes.
`endpoint_url=None` leaves the endpoint to botocore, which honours ``AWS_ENDPOINT_URL`` (the
local moto server) by itself.
"""

from __future__ import annotations

import os
import threading
from typing import Any

from lib.aws.limits import check_client_settings
from lib.aws.s3 import S3
from lib.aws.secrets import Secrets
from lib.config import AwsConfig

DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 60.0


def client_config(
    region: str | None,
    max_attempts: int,
    retry_mode: str = "standard",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    parameter_validation: bool = True,
) -> Any:
    """The botocore Config every client of the library gets: region, explicit retries and
    explicit time-outs (seconds, per attempt). `parameter_validation=False` only for callers
    that build every request themselves (botocore's check walks each value of it)."""
    from botocore.config import Config

    check_client_settings(max_attempts, connect_timeout, read_timeout)
    return Config(
        region_name=region,
        retries={"total_max_attempts": max_attempts, "mode": retry_mode},
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        parameter_validation=parameter_validation,
    )


def new_client(
    service: str,
    region: str | None = None,
    profile: str | None = None,
    endpoint_url: str | None = None,
    max_attempts: int = 10,
    retry_mode: str = "standard",
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    parameter_validation: bool = True,
) -> Any:
    """A boto3 client on its own session (for objects that outlive a pickle, like log sinks)."""
    import boto3

    session = boto3.session.Session(region_name=region, profile_name=profile)
    config = client_config(
        region, max_attempts, retry_mode, connect_timeout, read_timeout, parameter_validation
    )
    return session.client(service, endpoint_url=endpoint_url, config=config)


DEFAULT_REGION = "eu-west-1"


class AWS:
    """One session and its cached clients; ``s3``, ``secrets`` and ``logs(...)`` on top.

    `region` and `region_name` are the same setting (the predecessors' documentation uses
    both); without either, the environment's AWS_REGION / AWS_DEFAULT_REGION, else eu-west-1.
    """

    def __init__(
        self,
        region: str | None = None,
        profile: str | None = None,
        endpoint_url: str | None = None,
        max_attempts: int = 10,
        retry_mode: str = "standard",
        secret_ttl_seconds: float = 300.0,
        *,
        region_name: str | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
    ) -> None:
        if region and region_name and region != region_name:
            raise TypeError(
                f"AWS() got region={region!r} and region_name={region_name!r}: give one"
            )
        self.region = (
            region
            or region_name
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or DEFAULT_REGION
        )
        self.profile = profile
        self.endpoint_url = endpoint_url
        self.max_attempts = max_attempts
        self.retry_mode = retry_mode
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        check_client_settings(max_attempts, connect_timeout, read_timeout)  # fail at once
        self._lock = threading.Lock()
        self._pid = os.getpid()
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self.s3 = S3(lambda: self.client("s3"))
        self.secrets = Secrets(
            lambda: self.client("secretsmanager"), ttl_seconds=secret_ttl_seconds
        )

    @classmethod
    def from_config(cls, config: AwsConfig) -> AWS:
        return cls(
            region=config.region,
            profile=config.profile,
            endpoint_url=config.endpoint_url,
            max_attempts=config.max_attempts,
            retry_mode=config.retry_mode,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
        )

    def _check_process(self) -> None:
        # boto3 sessions and clients are not safe to share across fork
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._lock = threading.Lock()
            self._session = None
            self._clients = {}

    def get_session(self) -> Any:
        import boto3

        self._check_process()
        with self._lock:
            if self._session is None:
                self._session = boto3.session.Session(
                    region_name=self.region, profile_name=self.profile
                )
            return self._session

    def client_config(self) -> Any:
        return client_config(
            self.region, self.max_attempts, self.retry_mode, self.connect_timeout, self.read_timeout
        )

    def client(self, service: str) -> Any:
        """The cached boto3 client for `service` (thread-safe: boto3 clients are)."""
        self._check_process()
        client = self._clients.get(service)
        if client is not None:
            return client
        session = self.get_session()
        with self._lock:
            if service not in self._clients:
                self._clients[service] = session.client(
                    service, endpoint_url=self.endpoint_url, config=self.client_config()
                )
            return self._clients[service]

    def logs(
        self,
        log_group_name: str,
        log_stream_name: str,
        log_level: str | int = "INFO",
        **options: Any,
    ) -> Any:
        """A batched CloudWatch Logs sink in this account/region (lib.logging.cloudwatch).

        The sink is a logging handler and lives with the other sinks in lib.logging; it is
        imported here, when called, for the predecessors' documented ``aws.logs(...)``: loading
        lib.aws never loads lib.logging.
        """
        from lib.logging.cloudwatch import CloudwatchLogs

        return CloudwatchLogs(
            region=self.region,
            log_group_name=log_group_name,
            log_stream_name=log_stream_name,
            log_level=log_level,
            endpoint_url=self.endpoint_url,
            profile=self.profile,
            **{
                "connect_timeout": self.connect_timeout,
                "read_timeout": self.read_timeout,
                **options,
            },
        )
