"""EMR Serverless runs and schedules: golden values, moto, and the waiting logic."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.stub import Stubber

from tooling.deploy import serverless
from tooling.deploy.artifacts import Release
from tooling.deploy.submit import wait_serverless_run

RELEASE = Release("s3://artifacts/etl", "datalake-etl", "1.2.3", "datalake_etl-1.2.3-abc.zip")
ROOT = "s3://artifacts/etl/datalake-etl/1.2.3"


def test_serverless_run_golden():
    request = serverless.start_job_run_request(
        RELEASE, "00app", "arn:aws:iam::1:role/run", "xetra", ["--env", "prod"], delta=True,
        log_uri="s3://logs/serverless/",
    )  # fmt: skip
    assert request["jobDriver"]["sparkSubmit"]["entryPoint"] == f"{ROOT}/entries/xetra.py"
    assert request["jobDriver"]["sparkSubmit"]["entryPointArguments"] == ["--env", "prod"]
    parameters = request["jobDriver"]["sparkSubmit"]["sparkSubmitParameters"]
    assert parameters.startswith(f"--py-files {ROOT}/datalake_etl-1.2.3-abc.zip")
    assert "--jars /usr/share/aws/delta/lib/delta-spark.jar" in parameters
    assert "--conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in parameters
    assert request["configurationOverrides"]["monitoringConfiguration"] == {
        "s3MonitoringConfiguration": {"logUri": "s3://logs/serverless/"}
    }


def test_schedules_golden_and_cron_checks():
    trigger = serverless.glue_trigger_request("t", "job", "0 1 * * ? *", {"--env": "prod"})
    assert trigger["Schedule"] == "cron(0 1 * * ? *)"
    assert trigger["Actions"] == [{"JobName": "job", "Arguments": {"--env": "prod"}}]
    run = {"applicationId": "a", "executionRoleArn": "r", "jobDriver": {}}
    schedule = serverless.scheduler_request("s", "0 1 * * ? *", run, "arn:aws:iam::1:role/s")
    assert schedule["Target"]["Arn"] == "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun"
    assert json.loads(schedule["Target"]["Input"]) == run
    assert schedule["ScheduleExpressionTimezone"] == "UTC"
    with pytest.raises(ValueError, match="6 fields"):
        serverless.glue_trigger_request("t", "job", "0 1 * * *")
    with pytest.raises(ValueError, match=r"\?"):
        serverless.glue_trigger_request("t", "job", "0 1 * * * *")


def test_moto_accepts_the_serverless_run_and_the_trigger(moto_server):
    endpoint = {"endpoint_url": moto_server.endpoint_url, "region_name": "eu-west-1"}
    emr = boto3.client("emr-serverless", **endpoint)
    app = emr.create_application(name="etl", releaseLabel="emr-7.11.0", type="SPARK")
    request = serverless.start_job_run_request(
        RELEASE, app["applicationId"], "arn:aws:iam::123456789012:role/run", "xetra",
        ["--env", "dev"], delta=False,
    )  # fmt: skip
    run = emr.start_job_run(**request)
    stored = emr.get_job_run(applicationId=app["applicationId"], jobRunId=run["jobRunId"])
    driver = stored["jobRun"]["jobDriver"]["sparkSubmit"]
    assert driver["entryPoint"] == f"{ROOT}/entries/xetra.py"

    glue = boto3.client("glue", **endpoint)
    glue.create_job(Name="job", Role="r", Command={"Name": "glueetl", "ScriptLocation": "s3://x"})
    glue.create_trigger(**serverless.glue_trigger_request("daily", "job", "0 1 * * ? *"))
    assert glue.get_trigger(Name="daily")["Trigger"]["Schedule"] == "cron(0 1 * * ? *)"


def serverless_run(state):
    """An AWS-shaped jobRun (botocore validates responses given to Stubber)."""
    role = "arn:aws:iam::123456789012:role/emr-serverless-run"
    return {
        "applicationId": "00fabcdefg12345",
        "jobRunId": "00fabcdefg67890",
        "arn": "arn:aws:emr-serverless:eu-west-1:123456789012:/applications/00f/jobruns/00f0",
        "createdBy": "arn:aws:iam::123456789012:user/deployer",
        "createdAt": 0,
        "updatedAt": 0,
        "executionRole": role,
        "state": state,
        "stateDetails": state.lower(),
        "releaseLabel": "emr-7.11.0",
        "jobDriver": {"sparkSubmit": {"entryPoint": "s3://a/entries/xetra.py"}},
    }


def test_wait_serverless_run(moto_server):
    client = boto3.client(
        "emr-serverless", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1"
    )
    with Stubber(client) as stub:
        for state in ("SCHEDULED", "RUNNING", "SUCCESS"):
            stub.add_response("get_job_run", {"jobRun": serverless_run(state)})
        finished = wait_serverless_run(client, "a", "r", interval=1, sleep=lambda s: None)
    assert finished.ok
