"""`make deploy-demo`: the deploy tool end to end against a local moto server.

package + upload to an artifacts bucket, a transient EMR cluster with the Xetra step, one more
step on it, the Glue job created (moto has no update_job: tests cover that path with Stubber),
a Glue run waited for, and a schedule; every
request goes over HTTP to the emulator, exactly as it would to AWS.
"""

from __future__ import annotations

import sys

from tooling.local.emulator import S3Emulator, patched_environ


def main(argv: list[str] | None = None) -> int:
    with S3Emulator() as emulator:
        environment = {
            **emulator.environment(),
            "ETL_ARTIFACTS_URI": "s3://artifacts-demo/releases",
            "ETL_EMR_LOG_URI": "s3://artifacts-demo/emr-logs/",
            "ETL_GLUE_ROLE": "arn:aws:iam::123456789012:role/datalake-etl-glue",
        }
        with patched_environ(environment):
            import boto3

            from tooling.deploy.__main__ import main as deploy

            boto3.client("s3").create_bucket(
                Bucket="artifacts-demo",
                CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
            )
            job = ["--env", "dev", "--start", "2024-01-02", "--end", "2024-01-02"]
            steps = [
                ["upload", "--env", "dev"],
                ["emr-cluster", "--env", "dev", "--job", "xetra", "--", *job],
            ]
            for step in steps:
                print(f"\n$ python -m tooling.deploy {' '.join(step)}")
                if deploy(step) != 0:
                    return 1
            emr = boto3.client("emr")
            cluster_id = emr.list_clusters()["Clusters"][0]["Id"]
            for step in (
                ["emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", cluster_id,
                 "--", *job],
                ["glue-job", "--env", "dev", "--job", "xetra"],
                ["glue-run", "--env", "dev", "--job", "xetra", "--wait", "--poll-seconds", "0.2",
                 "--timeout-seconds", "60", "--", *job],
                ["schedule", "--env", "dev", "--job", "xetra", "--cron", "0 1 * * ? *", "--",
                 "--env", "dev"],
            ):  # fmt: skip
                print(f"\n$ python -m tooling.deploy {' '.join(step)}")
                if deploy(step) != 0:
                    return 1
            listed = emr.list_steps(ClusterId=cluster_id)["Steps"]
            print(f"\ncluster {cluster_id} has {len(listed)} steps:")
            for item in listed:
                print(f"  {item['Id']} {item['Name']} {item['Status']['State']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
