"""`make run`: the Xetra job end to end on an embedded moto server, no AWS account needed.

Starts a moto server, writes a few trading days of synthetic PDS files (tooling.generators.xetra)
into a bucket there, runs the job over s3a:// exactly as a scheduler would
(`python -m jobs.xetra --env local --source s3://… --target s3://…`), prints the run summary and
the first report rows, runs it once more to show that an unchanged source is skipped, and stops
the server.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date

from tooling.local.emulator import S3Emulator, patched_environ

SOURCE_BUCKET = "xetra-pds-demo"
TARGET_BUCKET = "lake-demo"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tooling.demos.xetra", description=__doc__)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 1, 5))
    parser.add_argument("--instruments", type=int, default=25)
    parser.add_argument("--format", choices=("parquet", "delta"), default="parquet")
    return parser.parse_args(argv)


def upload_synthetic_days(s3, start: date, end: date, instruments: int) -> int:
    from tooling.generators.xetra import date_range, day_files

    count = 0
    for day in date_range(start, end):
        # 2017-style quoting on odd days, newer style on even ones; one missing hour
        for key, text in day_files(
            day, count=instruments, quote_all_strings=day.day % 2 == 1, missing_hours=(18,)
        ):
            s3.put_object(Bucket=SOURCE_BUCKET, Key=key, Body=text.encode())
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.getLogger("py4j").setLevel(logging.WARNING)
    with S3Emulator() as emulator, patched_environ(emulator.environment()):
        import boto3

        from jobs.xetra.__main__ import main as xetra_main
        from jobs.xetra.job import XetraSettings, read_report

        s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="eu-west-1")
        for bucket in (SOURCE_BUCKET, TARGET_BUCKET):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
        files = upload_synthetic_days(s3, args.start, args.end, args.instruments)
        print(f"moto server at {emulator.endpoint_url}: {files} synthetic hour files uploaded")
        job_args = [
            "--env",
            "local",
            "--source",
            f"s3://{SOURCE_BUCKET}",
            "--target",
            f"s3://{TARGET_BUCKET}/lake",
            "--format",
            args.format,
            "--set",
            f"job.first_date={args.start.isoformat()}",
        ]
        from pyspark.sql import SparkSession

        from lib.config import load_config
        from lib.spark import SparkFactory

        # one session for both runs and the read-back (the job joins it and leaves it open)
        config = load_config("local", job="xetra", job_schema=XetraSettings)
        spark = SparkFactory.from_config(config).create_session(
            app_name=config.spark.app_name, log_level="ERROR"
        )
        try:
            code = xetra_main(job_args)
            if code != 0:
                return code
            print("\nfirst report rows:")
            report = read_report(spark, f"s3://{TARGET_BUCKET}/lake", args.format)
            report.orderBy("trade_date", "isin").show(10, truncate=False)
            print("second run, nothing changed in the source:")
            code = xetra_main(job_args)
        finally:
            if SparkSession.getActiveSession() is not None:
                spark.stop()
    return code


if __name__ == "__main__":
    sys.exit(main())
