"""The Xetra job with CloudWatch logging on and its endpoint down (issue 13): a logging outage
costs seconds, never the data. file:// source and target; every AWS call goes to the outage."""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from jobs.xetra.job import REPORT_TABLE
from tests.faults.conftest import END, START, run_job_process
from tooling.generators.xetra import date_range, day_files
from tooling.local.outages import (
    ACCESS_DENIED,
    THROTTLED,
    OverridingProxy,
    ScriptedEndpoint,
    SilentEndpoint,
    refused_endpoint,
)

CLOUDWATCH_ON = ("--set", "logging.cloudwatch.enabled=true",
                 "--set", "logging.cloudwatch.log_group=/datalake-etl/outage")  # fmt: skip
SLOWER_AT_MOST = 30.0  # seconds


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("pds")
    for day in date_range(START.replace(day=START.day - 4), END):
        for key, text in day_files(day, count=8, trades_per_hour=6):
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return root.as_uri()


def report_rows(target: Path) -> list[tuple]:
    """The report as an independent reader (pyarrow) sees it, sorted."""
    table = pq.read_table(target / REPORT_TABLE)
    rows = [tuple(sorted(row.items())) for row in table.to_pylist()]
    return sorted(rows, key=repr)


def timed_run(source: str, target: Path, endpoint_url: str, *extra: str):
    started = time.monotonic()
    result = run_job_process(source, target.as_uri(), endpoint_url, *extra)
    return result, time.monotonic() - started


@pytest.fixture(scope="module")
def baseline(source, tmp_path_factory, emulator):
    target = tmp_path_factory.mktemp("baseline")
    result, seconds = timed_run(source, target, emulator.endpoint_url)
    assert result.returncode == 0, result.stderr[-3000:]
    return report_rows(target), seconds


def fallback_lines(stderr: str) -> list[dict]:
    """The sinks' stderr lines: undelivered events and their closing summaries."""
    return [
        json.loads(line)
        for line in stderr.splitlines()
        if line.startswith(('{"fallback": "cloudwatch"', '{"fallback_summary": "cloudwatch"'))
    ]


def fallback_records(stderr: str) -> tuple[Counter, list[dict]]:
    """Reasons of the events that went to the fallback, and the sinks' closing summaries."""
    reasons: Counter = Counter()
    summaries = []
    for record in fallback_lines(stderr):
        if "fallback_summary" in record:
            summaries.append(record["counters"])
        else:
            reasons[record["reason"].split(":")[0]] += 1
    return reasons, summaries


@pytest.mark.parametrize("outage", ["silent", "refused", "denied"])
def test_the_job_succeeds_with_the_same_report_when_cloudwatch_is_down(
    outage, source, baseline, tmp_path
):
    expected_rows, baseline_seconds = baseline
    target = tmp_path / "lake"
    if outage == "silent":
        with SilentEndpoint() as endpoint:
            result, seconds = timed_run(source, target, endpoint.endpoint_url, *CLOUDWATCH_ON)
    elif outage == "refused":
        result, seconds = timed_run(source, target, refused_endpoint(), *CLOUDWATCH_ON)
    else:
        with ScriptedEndpoint([ACCESS_DENIED]) as endpoint:
            result, seconds = timed_run(source, target, endpoint.endpoint_url, *CLOUDWATCH_ON)
    reasons, summaries = fallback_records(result.stderr)
    print(f"{outage}: {seconds:.1f} s (baseline {baseline_seconds:.1f} s), fallback {reasons}")
    assert result.returncode == 0, result.stderr[-3000:]
    assert report_rows(target) == expected_rows
    assert seconds - baseline_seconds <= SLOWER_AT_MOST, (seconds, baseline_seconds)
    expected_reason = {"silent": "gave_up", "refused": "gave_up", "denied": "access_denied"}
    assert reasons[expected_reason[outage]] >= 1, reasons
    assert set(reasons) <= {"gave_up", "endpoint_unavailable", "access_denied", "flush_deadline"}
    assert "could not be prepared" in result.stderr  # the driver said so, once
    assert summaries, "the driver's sink reports what missed CloudWatch when it closes"
    for figures in summaries:
        assert figures["pending"] == 0 and figures["dropped"] == 0, figures
        assert figures["enqueued"] == figures["sent"] + figures["to_fallback"], figures


@pytest.mark.parametrize(
    ("overrides", "what"),
    [
        ({"CreateLogStream": THROTTLED}, "CreateLogStream throttled (50/s account limit)"),
        ({"CreateLogGroup": ACCESS_DENIED}, "the group missing, no permission to create it"),
    ],
)
def test_executor_logging_set_up_failures_never_fail_a_task(
    overrides, what, source, baseline, tmp_path, moto_server
):
    expected_rows, _ = baseline
    target = tmp_path / "lake"
    with OverridingProxy(moto_server.endpoint_url, overrides) as proxy:
        result, _ = timed_run(source, target, proxy.endpoint_url, *CLOUDWATCH_ON)
    assert result.returncode == 0, (what, result.stderr[-3000:])
    assert report_rows(target) == expected_rows
    (operation,) = overrides
    assert proxy.answered[operation] >= 2, proxy.answered  # the driver and the executors tried
    executor_events = [
        line for line in fallback_lines(result.stderr)
        if "fallback_summary" not in line and not line["log_stream"].endswith("/driver")
    ]  # fmt: skip
    assert executor_events, "executors logged, and what CloudWatch did not take is on stderr"
    assert {line["reason"] for line in executor_events} == {"resource_not_found"}
