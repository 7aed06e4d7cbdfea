"""Crash mid-write: the Xetra job is killed (SIGKILL, with its JVM) while it writes.

Afterwards no report date is partial (each date present is exactly the clean run's), the job
state did not advance, and a re-run completes with output identical to a clean run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from chispa import assert_df_equality

from jobs.xetra.__main__ import main
from jobs.xetra.job import REPORT_TABLE, read_report
from tests.faults.conftest import collected, job_command, job_environment

pytestmark = pytest.mark.spark


def rows(frame):
    return collected(frame, "trade_date", "isin")


def keys(s3, bucket, prefix):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def kill_when_writing(process, s3, bucket, prefix, timeout=300):
    """SIGKILL the job's process group at the first object written under `prefix`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the job ended (exit {process.returncode}) before it was killed")
        written = keys(s3, bucket, prefix)
        if written:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return written
        time.sleep(0.02)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail("the job wrote nothing in time")


def test_a_kill_while_writing_leaves_no_partial_date_and_a_rerun_repairs(
    spark, s3, bucket, pds, moto_server
):
    clean, crashed = f"s3://{bucket}/clean", f"s3://{bucket}/crashed"
    assert main(job_command(pds, clean)[3:]) == 0
    expected = rows(read_report(spark, clean))

    process = subprocess.Popen(
        job_command(pds, crashed), env=job_environment(moto_server.endpoint_url),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    written = kill_when_writing(process, s3, bucket, f"crashed/{REPORT_TABLE}/")
    assert process.returncode == -signal.SIGKILL
    assert written  # killed with the write under way

    # no partial date: what a reader sees now is, date by date, all of the clean run or nothing
    visible = [k for k in keys(s3, bucket, f"crashed/{REPORT_TABLE}/") if k.endswith(".parquet")
               and "/__magic" not in k and "/_temporary" not in k]  # fmt: skip
    if visible:
        partial = rows(read_report(spark, crashed))
        dates = [r.trade_date for r in partial.select("trade_date").distinct().collect()]
        assert_df_equality(partial, rows(expected.where(expected.trade_date.isin(dates))))
    # the state did not advance: no date recorded, no run summary
    assert keys(s3, bucket, "crashed/_state/") == []

    assert main(job_command(pds, crashed)[3:]) == 0
    assert_df_equality(rows(read_report(spark, crashed)), expected)
    units = keys(s3, bucket, "crashed/_state/xetra/units/")
    assert len(units) == 5
