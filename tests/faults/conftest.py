"""Helpers of the fault suite: synthetic PDS days in a bucket, the job as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date

import pytest

from tooling.generators.xetra import date_range, day_files

START, END = date(2024, 1, 8), date(2024, 1, 12)  # Mon..Fri
BAD_LINES = (
    '"DE000BAD0001","BAD","BAD ROW","Common stock","EUR",1,2024-01-09,10:05,-1,1,1,1,1,1\n'
    "not,enough,fields\n"
)


@pytest.fixture
def pds(s3, bucket):
    """A week of synthetic PDS files (quoting varies by day, one hour is missing), with two bad
    rows in one file."""
    for day in date_range(date(2024, 1, 4), END):
        for key, text in day_files(
            day, count=8, trades_per_hour=6, quote_all_strings=day.day % 2 == 0,
            missing_hours=(15,) if day == date(2024, 1, 9) else (),
        ):  # fmt: skip
            body = text + BAD_LINES if key.endswith("2024-01-09_BINS_XETR10.csv") else text
            s3.put_object(Bucket=bucket, Key=f"pds/{key}", Body=body.encode())
    return f"s3://{bucket}/pds"


def job_command(source: str, target: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "jobs.xetra", "--env", "local", "--source", source,
            "--target", target, "--start", START.isoformat(), "--end", END.isoformat(),
            "--set", "logging.log_path=", *extra]  # fmt: skip


def job_environment(endpoint_url: str) -> dict[str, str]:
    """This process's environment with boto3 and S3A pointed at `endpoint_url`."""
    return {**os.environ, "AWS_ENDPOINT_URL": endpoint_url, "SPARK_MASTER": "local[2]"}


def run_job_process(source: str, target: str, endpoint_url: str, *extra: str):
    return subprocess.run(
        job_command(source, target, *extra), env=job_environment(endpoint_url),
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def collected(frame, *order):
    """The rows now, ordered and held by the driver: later writes cannot change them."""
    rows = frame.orderBy(*order).collect()
    return frame.sparkSession.createDataFrame(rows, frame.schema)
