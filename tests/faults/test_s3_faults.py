"""S3 on a bad day: the Xetra job over s3a through a proxy that answers 503 SlowDown, 500 and
drops connections on a seeded fraction of requests produces exactly what a clean run produces."""

from __future__ import annotations

import json

import pytest
from chispa import assert_df_equality

from jobs.xetra.__main__ import main
from jobs.xetra.job import QUARANTINE_TABLE, read_report
from lib.spark.io import read_table
from tests.faults.conftest import collected, job_command, run_job_process
from tooling.local.fault_proxy import FaultProxy

pytestmark = pytest.mark.spark

# retries from configuration (--set), as a deployment would tune them: boto3 for listing and
# state, S3A (AWS SDK attempts, then S3A's own retry policy) for Spark's reads and writes
RETRIES = [
    "--set", "aws.max_attempts=12",
    "--set", "spark.conf.spark.hadoop.fs.s3a.attempts.maximum=12",
    "--set", "spark.conf.spark.hadoop.fs.s3a.retry.limit=12",
    "--set", "spark.conf.spark.hadoop.fs.s3a.retry.interval=50ms",
    "--set", "spark.conf.spark.hadoop.fs.s3a.retry.throttle.limit=12",
    "--set", "spark.conf.spark.hadoop.fs.s3a.retry.throttle.interval=50ms",
]  # fmt: skip


def summary_of(s3, bucket, prefix):
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/_state/xetra/runs/")
    [item] = listing["Contents"]
    return json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())


def test_faults_on_a_tenth_of_requests_change_nothing(spark, s3, bucket, pds, moto_server):
    clean, faulty = f"s3://{bucket}/clean", f"s3://{bucket}/faulty"
    assert main(job_command(pds, clean)[3:]) == 0
    with FaultProxy(moto_server.endpoint_url, slowdown=0.05, error=0.03, drop=0.03,
                    seed=11) as proxy:  # fmt: skip
        result = run_job_process(pds, faulty, proxy.endpoint_url, *RETRIES)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    # the faults happened, of every kind, on both clients
    assert proxy.requests > 100
    assert min(proxy.faults[kind] for kind in ("slowdown", "error", "drop")) > 0
    assert sum(proxy.faults.values()) > 0.05 * proxy.requests

    order = ("trade_date", "isin")
    assert_df_equality(collected(read_report(spark, faulty), *order),
                       collected(read_report(spark, clean), *order))  # fmt: skip
    clean_quarantine = read_table(spark, f"{clean}/{QUARANTINE_TABLE}", "parquet")
    faulty_quarantine = read_table(spark, f"{faulty}/{QUARANTINE_TABLE}", "parquet")
    assert clean_quarantine.count() == 2  # the fixture's bad rows
    columns = clean_quarantine.columns
    assert_df_equality(collected(faulty_quarantine.select(columns), *columns),
                       collected(clean_quarantine, *columns))  # fmt: skip
    clean_rows, faulty_rows = (summary_of(s3, bucket, p)["rows"] for p in ("clean", "faulty"))
    assert faulty_rows == clean_rows
