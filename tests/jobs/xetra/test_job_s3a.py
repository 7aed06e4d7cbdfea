"""The Xetra job end to end over s3a:// on a moto server, with generated PDS files."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

import boto3
import pytest
from chispa import assert_df_equality

from jobs.xetra.__main__ import main
from jobs.xetra.job import read_report
from tooling.generators.xetra import date_range, day_files

pytestmark = pytest.mark.spark

START, END = date(2024, 1, 3), date(2024, 1, 9)  # Wed..Tue: a weekend inside


@pytest.fixture
def pds(s3, bucket):
    """A source bucket with a week of synthetic PDS files (small: 6 instruments)."""
    for day in date_range(START, END):
        for key, text in day_files(
            day, count=6, trades_per_hour=8, quote_all_strings=day.day % 2 == 0,
            missing_hours=(15,) if day == date(2024, 1, 4) else (),
        ):  # fmt: skip
            s3.put_object(Bucket=bucket, Key=f"pds/{key}", Body=text.encode())
    return f"s3://{bucket}/pds"


def run_job(source, target, *extra, first=START):
    code = main(
        [
            "--env",
            "local",
            "--source",
            source,
            "--target",
            target,
            "--set",
            "logging.log_path=",
            "--set",
            f"job.first_date={first.isoformat()}",
            *extra,
        ]
    )
    assert code == 0
    return code


def summaries(s3, bucket, prefix):
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=f"{prefix}/_state/xetra/runs/")
    items = sorted(listing.get("Contents", []), key=lambda item: item["LastModified"])
    return [json.loads(s3.get_object(Bucket=bucket, Key=i["Key"])["Body"].read()) for i in items]


def ordered(frame):
    return frame.orderBy("trade_date", "isin")


def snapshot(frame):
    """The rows now, held by the driver: later writes cannot change what we compare with."""
    return frame.sparkSession.createDataFrame(frame.collect(), frame.schema)


def test_end_to_end_idempotent_split_invariant_and_delta_equal(spark, s3, bucket, pds):
    range_args = ["--start", "2024-01-05", "--end", "2024-01-08"]  # Fri..Mon
    lake = f"s3://{bucket}/lake"

    # one run over the range
    run_job(pds, lake, *range_args)
    first = snapshot(ordered(read_report(spark, lake)))
    dates = sorted({str(r.trade_date) for r in first.select("trade_date").collect()})
    assert dates == ["2024-01-05", "2024-01-08"]  # no weekend rows
    assert first.where("change_prev_closing_pct is null").count() == 0  # lookback reached 01-04
    summary = summaries(s3, bucket, "lake")[-1]
    rows = summary["rows"]
    assert rows["read"] == rows["used"] + rows["duplicates"] + rows["quarantined"] > 0
    assert summary["report_rows"] == first.count() == 12
    state = s3.get_object(Bucket=bucket, Key="lake/_state/xetra/units/2024-01-06.json")
    record = json.loads(state["Body"].read())
    assert record["objects"] == 24  # a Saturday: 24 header-only files
    assert record["counts"]["read"] == record["counts"]["report_rows"] == 0

    # the same run again: identical output, still one file per date
    run_job(pds, lake, *range_args)
    assert_df_equality(ordered(read_report(spark, lake)), first)
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="lake/xetra_daily_report/")
            ["Contents"]]  # fmt: skip
    assert len([k for k in keys if k.endswith(".parquet")]) == 2

    # day by day gives exactly what the range run gave
    by_day = f"s3://{bucket}/by-day"
    for day in date_range(date(2024, 1, 5), date(2024, 1, 8)):
        run_job(pds, by_day, "--start", day.isoformat(), "--end", day.isoformat())
    assert_df_equality(ordered(read_report(spark, by_day)), first)

    # the Delta variant gives the same report
    delta = f"s3://{bucket}/delta"
    run_job(pds, delta, *range_args, "--format", "delta")
    assert_df_equality(ordered(read_report(spark, delta, "delta")), first)
    log = s3.list_objects_v2(Bucket=bucket, Prefix="delta/xetra_daily_report/_delta_log/")
    assert any(o["Key"].endswith(".json") for o in log["Contents"])


def test_a_redelivered_hour_reprocesses_its_date_and_the_dates_after(spark, s3, bucket, pds):
    lake = f"s3://{bucket}/lake"
    run_job(pds, lake, first=START)
    before = snapshot(ordered(read_report(spark, lake)))
    first_summary = summaries(s3, bucket, "lake")[-1]
    assert first_summary["dates"][0] == "2024-01-03"

    # nothing changed: nothing to do
    run_job(pds, lake, first=START)
    assert summaries(s3, bucket, "lake")[-1]["dates"] == []

    # re-deliver the last trading hour of 2024-01-05 with higher closing prices
    key = "pds/2024-01-05/2024-01-05_BINS_XETR15.csv"
    lines = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()
    header, rows = lines[0], lines[1:]
    assert rows
    bumped = []
    for line in rows:
        fields = line.split(",")
        fields[-3] = str(round(float(fields[-3]) * 1.5, 4))  # EndPrice
        fields[-5] = str(max(float(fields[-5]), float(fields[-3])))  # MaxPrice >= EndPrice
        bumped.append(",".join(fields))
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join([header, *bumped]) + "\n").encode())

    run_job(pds, lake, first=START)
    summary = summaries(s3, bucket, "lake")[-1]
    assert summary["reasons"]["2024-01-05"] == "changed"
    # every later processed date within the lookback is recomputed
    assert summary["reasons"]["2024-01-08"] == "depends_on:2024-01-05"
    assert summary["reasons"]["2024-01-09"] == "depends_on:2024-01-05"
    assert "2024-01-04" not in summary["reasons"]

    after = snapshot(ordered(read_report(spark, lake)))
    changed = after.subtract(before)
    assert {str(r.trade_date) for r in changed.collect()} >= {"2024-01-05", "2024-01-08"}

    # and the result is what a fresh run on the new source gives
    fresh = f"s3://{bucket}/fresh"
    run_job(pds, fresh, "--start", "2024-01-03", "--end", "2024-01-09")
    assert_df_equality(after, ordered(read_report(spark, fresh)))


def test_bad_rows_are_quarantined_with_file_and_reason(spark, s3, bucket):
    header = (
        "ISIN,Mnemonic,SecurityDesc,SecurityType,Currency,SecurityID,Date,Time,StartPrice,"
        "MaxPrice,MinPrice,EndPrice,TradedVolume,NumberOfTrades"
    )
    good = (
        '"DE0005190003","BMW","BMW AG, ST","Common stock","EUR",2504287,"2024-01-04","08:00",'
        "80,81,79,80.5,100,3"
    )
    rows = [
        good,
        good,  # duplicate
        good.replace('"08:00",80,81,79', '"08:01",80,81,82'),  # min above max
        good.replace('"2024-01-04","08:00"', '"2024-01-05","08:02"'),  # wrong date for file
        '"DE0005190003","BMW","BMW AG, ST","Common stock"',  # too few fields
        good.replace("100,3", "-100,3").replace("08:00", "08:03"),  # negative volume
    ]  # fmt: skip
    key = "pds/2024-01-04/2024-01-04_BINS_XETR08.csv"
    s3.put_object(Bucket=bucket, Key=key, Body=("\n".join([header, *rows]) + "\n").encode())
    lake = f"s3://{bucket}/lake"
    # with CloudWatch on (as in dev/prod), here on the moto server
    run_job(
        f"s3://{bucket}/pds", lake, "--start", "2024-01-04", "--end", "2024-01-04",
        "--set", "logging.cloudwatch.enabled=true",
        "--set", "logging.cloudwatch.log_group=/datalake-etl/xetra-test",
    )  # fmt: skip

    summary = summaries(s3, bucket, "lake")[-1]
    assert summary["rows"] == {
        "read": 6,
        "used": 1,
        "duplicates": 1,
        "quarantined": 4,
        "quarantined_by_reason": {
            "date_mismatch": 1,
            "malformed_row": 1,
            "min_above_max": 1,
            "negative_volume": 1,
        },
    }
    quarantine = spark.read.parquet(f"s3a://{bucket}/lake/quarantine/xetra").collect()
    assert sorted(r.reject_reason for r in quarantine) == [
        "date_mismatch",
        "malformed_row",
        "min_above_max",
        "negative_volume",
    ]
    assert all(r.source_file.endswith(key) for r in quarantine)
    assert all(str(r.source_date) == "2024-01-04" for r in quarantine)
    report = read_report(spark, lake).collect()
    assert [(r.isin, r.daily_traded_volume) for r in report] == [("DE0005190003", 100)]

    # the driver and the executors logged to CloudWatch while it ran
    logs = boto3.client("logs", endpoint_url=s3.meta.endpoint_url, region_name="eu-west-1")
    streams = logs.describe_log_streams(logGroupName="/datalake-etl/xetra-test")["logStreams"]
    messages = defaultdict(list)
    for stream in streams:
        events = logs.get_log_events(
            logGroupName="/datalake-etl/xetra-test", logStreamName=stream["logStreamName"]
        )["events"]
        kind = "driver" if stream["logStreamName"].endswith("/driver") else "executor"
        messages[kind] += [json.loads(event["message"]) for event in events]
    assert {"planned", "run finished"} <= {m["message"] for m in messages["driver"]}
    parsed = [m for m in messages["executor"] if m["message"] == "partition parsed"]
    assert sum(m["fields"]["files"] for m in parsed) == 1
    assert sum(m["fields"]["rows_quarantined"] for m in parsed) == 4
    assert all("partition" in m["context"] for m in parsed)

    # the file is fixed and re-delivered: the stale quarantine rows go away
    s3.put_object(Bucket=bucket, Key=key, Body=(header + "\n" + good + "\n").encode())
    run_job(f"s3://{bucket}/pds", lake, "--start", "2024-01-04", "--end", "2024-01-04")
    listing = s3.list_objects_v2(Bucket=bucket, Prefix="lake/quarantine/xetra/source_date=")
    assert listing.get("KeyCount", 0) == 0


def test_bad_arguments_exit_2_with_a_reason(capsys):
    assert main(["--env", "local", "--source", "s3://a", "--target", "s3://b",
                 "--start", "2024-01-05", "--end", "2024-01-04"]) == 2  # fmt: skip
    assert "is after" in capsys.readouterr().err
    assert main(["--env", "local", "--source", "s3://a", "--target", "s3://b",
                 "--start", "2024-01-05"]) == 2  # fmt: skip
    assert "both --start and --end" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--env", "local", "--sour", "s3://a"])  # no abbreviations (Glue 6 rejects them)
    # a path Spark would read as a pattern (g?src also reads gXsrc): refused before any read
    assert main(["--env", "local", "--source", "/tmp/g?src", "--target", "s3://b",
                 "--start", "2024-01-04", "--end", "2024-01-04"]) == 2  # fmt: skip
    assert "glob pattern" in capsys.readouterr().err


def test_a_local_source_folder_that_does_not_exist_fails_and_keeps_the_report(
    spark, tmp_path, capsys
):
    """No folder is not "no files": the dates asked would get empty reports, replacing theirs."""
    target = tmp_path / "lake"
    (target / "xetra_daily_report" / "trade_date=2024-01-04").mkdir(parents=True)
    kept = target / "xetra_daily_report" / "trade_date=2024-01-04" / "part-0.parquet"
    kept.write_bytes(b"PAR1")
    days = ["--start", "2024-01-04", "--end", "2024-01-04", "--set", "logging.log_path="]
    for source in (tmp_path / "no such folder", f"file://{tmp_path}/no%20such%20folder"):
        code = main(["--env", "local", "--source", str(source), "--target", str(target), *days])
        assert code == 1
        assert "does not exist" in capsys.readouterr().err
    # a folder without that date's files (a date's folder given as the root, say): its report
    # would be replaced by an empty one
    empty = tmp_path / "pds" / "2024-01-04"
    empty.mkdir(parents=True)
    assert main(["--env", "local", "--source", str(empty), "--target", str(target), *days]) == 1
    assert "no source files for 2024-01-04, whose report is in" in capsys.readouterr().err
    # a link whose target's name Spark would glob: refused on the resolved path
    globbed = tmp_path / "g?src"
    globbed.mkdir()
    (tmp_path / "link").symlink_to(globbed)
    source = str(tmp_path / "link")
    assert main(["--env", "local", "--source", source, "--target", str(target), *days]) == 1
    assert "glob pattern" in capsys.readouterr().err
    assert kept.read_bytes() == b"PAR1"
    assert main(["--env", "local", "--source", "file:/tmp/x", "--target", str(target), *days]) == 2
    assert "file:///absolute/path" in capsys.readouterr().err


def test_a_failing_run_exits_1_with_a_one_line_reason(spark, s3, bucket, capsys):
    code = main(
        ["--env", "local", "--source", f"s3://{bucket}/pds", "--target", "s3://no-such-bucket-x/l",
         "--start", "2024-01-04", "--end", "2024-01-04", "--set", "logging.log_path="]
    )  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len([line for line in err if line.startswith("error: ")]) == 1
