"""Shared fixtures: a moto server over HTTP and one SparkSession (local[2]) for the whole run.

`pytest` alone works from the repository root after `make setup`: nothing here depends on a
variable that only the Makefile sets. The emulator's address is exported as AWS_ENDPOINT_URL
(with dummy credentials) for the test process, so boto3 and S3A both talk to it.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    # a hung JVM or server must fail the run, not stall CI
    if hasattr(config.option, "timeout") and not config.option.timeout:
        config.option.timeout = 900
    config.addinivalue_line("markers", "spark: uses the shared SparkSession")


@pytest.fixture(scope="session")
def emulator():
    """A moto server on a free port for the whole run, its address in the environment."""
    from tooling.local.emulator import S3Emulator

    with S3Emulator() as server, pytest.MonkeyPatch.context() as patch:
        for key, value in server.environment().items():
            patch.setenv(key, value)
        yield server


@pytest.fixture
def moto_server(emulator):
    """The emulator, emptied before the test."""
    emulator.reset()
    return emulator


@pytest.fixture
def s3(moto_server):
    import boto3

    return boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")


@pytest.fixture
def bucket(s3) -> str:
    """A fresh bucket per test."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return name


@pytest.fixture(scope="session")
def spark(emulator, tmp_path_factory):
    """local[2], UTC, 4 shuffle partitions, UI off, S3A on the emulator, Delta, magic committer."""
    from lib.spark import SparkFactory

    warehouse = tmp_path_factory.mktemp("warehouse")
    factory = SparkFactory(
        master="local[2]",
        profile="local",
        s3_endpoint=emulator.endpoint_url,
        delta=True,
        committer="magic",
        shuffle_partitions=4,
        ui_enabled=False,
    )
    session = factory.create_session(
        app_name="tests",
        log_level="ERROR",
        extra_args={"spark.sql.warehouse.dir": str(warehouse)},
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """../shared/data beside the checkout; tests that need it skip in a user's clone."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (only in the project's own workspace and CI)")
    return SHARED_DATA


@pytest.fixture
def aws(moto_server):
    """The library's AWS facade on the emulator (emptied before the test)."""
    from lib.aws import AWS

    return AWS(region="eu-west-1", endpoint_url=moto_server.endpoint_url, max_attempts=2)


@pytest.fixture
def put_empty_objects(s3):
    """put_empty_objects(bucket, keys): many small objects, a few requests at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def put(bucket: str, keys: list[str]) -> None:
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(lambda key: s3.put_object(Bucket=bucket, Key=key, Body=b""), keys))

    return put


@pytest.fixture(scope="session")
def country_records():
    """The real 250 REST Countries records when ../shared is there, else the built-in fixture."""
    from tooling.local.api_server import load_countries

    return load_countries()


@pytest.fixture
def api(country_records):
    """The fake REST API server on a free port."""
    from tooling.local.api_server import FakeApiServer

    with FakeApiServer(countries=country_records) as server:
        yield server
