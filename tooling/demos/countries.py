"""`make run-countries`: the fake API server + a moto server + both countries jobs, end to end."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from tooling.local.api_server import FakeApiServer
from tooling.local.emulator import S3Emulator, patched_environ


def main(argv: list[str] | None = None) -> int:
    day = datetime.now(UTC).date().isoformat()
    with (
        S3Emulator() as emulator,
        patched_environ(emulator.environment()),
        FakeApiServer(latency=0.05) as api,
    ):
        import boto3

        from jobs.countries.__main__ import main as countries_main

        s3 = boto3.client("s3", endpoint_url=emulator.endpoint_url, region_name="eu-west-1")
        s3.create_bucket(
            Bucket="lake-demo", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        print(f"fake REST Countries API at {api.base_url} ({len(api.countries)} countries)")
        common = ["--env", "local", "--date", day, "--set", "logging.log_path="]
        code = countries_main(
            ["extract", *common, "--base-url", api.base_url, "--target", "s3://lake-demo/raw"]
        )
        if code != 0:
            return code
        return countries_main(
            ["transform", *common, "--source", "s3://lake-demo/raw",
             "--target", "s3://lake-demo/curated"]
        )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
