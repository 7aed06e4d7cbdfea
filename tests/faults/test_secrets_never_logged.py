"""A run with secrets configured: no log line, run summary or Spark conf dump contains them."""

from __future__ import annotations

import json
from datetime import date

import boto3
import pytest

from jobs.xetra.__main__ import main
from tooling.generators.xetra import day_files

pytestmark = pytest.mark.spark
WEBHOOK_SECRET = "T0SECRET/B0SECRET/zzWebhookTokenzz"
AWS_SECRET = "aws-secret-key-value-Q9x7"


def test_no_secret_reaches_logs_summaries_or_the_conf_dump(
    spark, s3, bucket, moto_server, monkeypatch, tmp_path, capsys, caplog
):
    secrets = boto3.client(
        "secretsmanager", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1"
    )
    webhook = f"http://127.0.0.1:9/services/{WEBHOOK_SECRET}"  # nobody listens: alert fails
    secrets.create_secret(Name="etl/slack", SecretString=json.dumps({"webhook_url": webhook}))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", AWS_SECRET)  # S3A gets it as fs.s3a.secret.key
    for key, text in day_files(date(2024, 1, 4), count=3, trades_per_hour=3):
        s3.put_object(Bucket=bucket, Key=f"pds/{key}", Body=text.encode())
    log_file = tmp_path / "logs" / "xetra.log"
    common = [
        "--env", "local", "--source", f"s3://{bucket}/pds", "--start", "2024-01-04",
        "--end", "2024-01-04", "--set", f"logging.log_path={log_file.parent}",
        "--set", "logging.level=DEBUG",
        "--set", "alerts.slack_webhook.secret_id=etl/slack",
        "--set", "alerts.slack_webhook.key=webhook_url",
    ]  # fmt: skip
    assert main([*common, "--target", f"s3://{bucket}/lake"]) == 0
    # a failing run resolves the webhook to alert, and logs the failure
    assert main([*common, "--target", "s3://no-such-bucket-secrets/lake"]) == 1

    out = capsys.readouterr()
    summaries = [
        s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read().decode()
        for item in s3.list_objects_v2(Bucket=bucket, Prefix="lake/_state/")["Contents"]
    ]
    conf_dump = json.dumps(dict(spark.sparkContext.getConf().getAll()))
    everything = "\n".join([out.out, out.err, log_file.read_text(), caplog.text, *summaries])
    assert "xetra run failed" in everything  # the failure was logged ...
    for secret in (WEBHOOK_SECRET, AWS_SECRET):
        assert secret not in everything  # ... without any secret
    assert AWS_SECRET not in conf_dump or "fs.s3a.secret.key" in conf_dump
    assert '"spark.hadoop.fs.s3a.secret.key": "*****"' in everything  # the logged conf dump
    assert "slack alert not delivered" in everything  # the alert was tried, and failed
