"""The moto server in a process of its own (what the bench times clients against)."""

from __future__ import annotations

import boto3
import pytest

from tooling.local.emulator import S3Emulator


def test_a_separate_process_serves_resets_and_ends_with_stop():
    emulator = S3Emulator(separate_process=True).start()
    try:
        child = emulator._server
        s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, **emulator_credentials())
        location = {"LocationConstraint": "eu-west-1"}
        s3.create_bucket(Bucket="lake", CreateBucketConfiguration=location)
        assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["lake"]
        emulator.reset()
        assert s3.list_buckets()["Buckets"] == []
    finally:
        emulator.stop()
    assert child.poll() is not None  # the child is gone, not left serving
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url


def test_a_port_in_use_is_a_clear_error_and_leaves_no_process():
    with S3Emulator(separate_process=True) as first:
        taken = int(first.endpoint_url.rsplit(":", 1)[1])
        second = S3Emulator(port=taken, separate_process=True)
        with pytest.raises(RuntimeError, match=r"did not start.*in use"):
            second.start()
        assert second._server is None
        # the first server still answers: the failed start did not take its port over
        s3 = boto3.client("s3", endpoint_url=first.endpoint_url, **emulator_credentials())
        assert s3.list_buckets()["Buckets"] == []


def emulator_credentials() -> dict[str, str]:
    return {
        "region_name": "eu-west-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
