"""Fixtures of the logging tests: CloudWatch sinks on the moto server."""

from __future__ import annotations

import io
import uuid

import boto3
import pytest

from lib.logging.cloudwatch import CloudwatchLogs
from tests.lib.logging import GROUP, balanced


@pytest.fixture
def logs_client(moto_server):
    return boto3.client("logs", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")


@pytest.fixture
def make_sink(moto_server, logs_client):
    """Sinks on moto, checked at teardown: the counter identity holds after every test."""
    sinks: list[CloudwatchLogs] = []

    def make(stream: str | None = None, create: bool = True, **options) -> CloudwatchLogs:
        options.setdefault("flush_interval", 0)
        options.setdefault("botocore_max_attempts", 1)
        options.setdefault("fallback", io.StringIO())
        sink = CloudwatchLogs(
            region="eu-west-1",
            log_group_name=GROUP,
            log_stream_name=stream or f"s-{uuid.uuid4().hex[:8]}",
            endpoint_url=moto_server.endpoint_url,
            **options,
        )
        if create:
            sink.create_log_group(retention_days=7)
            sink.create_log_stream()
        sinks.append(sink)
        return sink

    yield make
    for sink in sinks:
        balanced(sink)
