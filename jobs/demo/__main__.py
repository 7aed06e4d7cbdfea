"""`python -m jobs.demo --env local --embedded-emulator`: the S3A round trip, end to end.

With --embedded-emulator the command starts a moto server, creates a bucket, uploads a small
synthetic CSV, runs the job over s3a:// and stops the server again: no AWS account needed.
"""

from __future__ import annotations

import argparse
import logging
import sys
from contextlib import ExitStack

from lib.config import ConfigError, load_config
from lib.spark import SparkFactory, SparkSetupError

LOG = logging.getLogger("jobs.demo")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m jobs.demo", description=__doc__)
    parser.add_argument("--env", default="local", choices=("local", "dev", "prod"))
    parser.add_argument("--bucket", default="demo-bucket")
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--embedded-emulator", action="store_true")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="K=V")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("py4j").setLevel(logging.WARNING)
    with ExitStack() as stack:
        if args.embedded_emulator:
            from lib.local.emulator import S3Emulator, patched_environ

            emulator = stack.enter_context(S3Emulator())
            stack.enter_context(patched_environ(emulator.environment()))
            LOG.info("moto server at %s", emulator.endpoint_url)
        try:
            config = load_config(args.env, job="demo", overrides=args.overrides)
            spark = SparkFactory.from_config(config).create_session(
                app_name=config.spark.app_name, log_level=config.spark.log_level
            )
        except (ConfigError, SparkSetupError) as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        stack.callback(spark.stop)
        import boto3

        from jobs.demo.job import run, synthetic_trades_csv

        s3 = boto3.client("s3", endpoint_url=config.aws.endpoint_url, region_name=config.aws.region)
        if args.embedded_emulator:
            s3.create_bucket(
                Bucket=args.bucket,
                CreateBucketConfiguration={"LocationConstraint": config.aws.region},
            )
            s3.put_object(
                Bucket=args.bucket, Key="raw/trades.csv", Body=synthetic_trades_csv(args.rows)
            )
        result = run(spark, f"s3a://{args.bucket}/raw/", f"s3a://{args.bucket}/curated/summary")
        spark.read.parquet(result.output_uri).orderBy("trade_date", "symbol").show(20, False)
        listing = s3.list_objects_v2(Bucket=args.bucket, Prefix="curated/summary/")
        keys = [item["Key"] for item in listing.get("Contents", [])]
        print(f"rows read: {result.rows_read}; summary rows: {result.summary_rows}")
        print(f"objects written under s3://{args.bucket}/curated/summary/: {len(keys)}")
        for key in keys:
            print(f"  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
