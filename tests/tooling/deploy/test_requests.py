"""Deployment requests as plain data: golden values, then the same requests sent to moto."""

from __future__ import annotations

import gzip
import json

import boto3
import pytest
from botocore.stub import Stubber

from tooling.deploy import emr, glue
from tooling.deploy.__main__ import main as deploy_main
from tooling.deploy.artifacts import Release
from tooling.deploy.settings import EmrConfig, GlueConfig, InstanceGroupConfig
from tooling.deploy.submit import (
    WaitTimeout,
    create_or_update_glue_job,
    fetch_step_logs,
    wait_glue_run,
    wait_step,
)

RELEASE = Release("s3://artifacts/etl", "datalake-etl", "1.2.3", "datalake_etl-1.2.3-abc123.zip")
ROOT = "s3://artifacts/etl/datalake-etl/1.2.3"


def test_emr_step_golden():
    step = emr.job_step(
        RELEASE,
        EmrConfig(
            action_on_failure="CANCEL_AND_WAIT",
            spark_conf={"spark.dynamicAllocation.enabled": True},
        ),
        "xetra",
        ["--env", "prod", "--start", "2024-01-02", "--end", "2024-01-02"],
        delta=False,
    )
    assert step == {
        "Name": "xetra 1.2.3",
        "ActionOnFailure": "CANCEL_AND_WAIT",
        "HadoopJarStep": {
            "Jar": "command-runner.jar",
            "Args": [
                "spark-submit", "--deploy-mode", "cluster",
                "--py-files", f"{ROOT}/datalake_etl-1.2.3-abc123.zip",
                "--jars", f"{ROOT}/datalake-etl-jobs-1.2.3-abc123.jar",
                "--conf", "spark.dynamicAllocation.enabled=true",
                f"{ROOT}/entries/xetra.py",
                "--env", "prod", "--start", "2024-01-02", "--end", "2024-01-02",
            ],
        },
    }  # fmt: skip


def test_step_arguments_over_10240_characters_are_refused_before_sending():
    with pytest.raises(emr.StepTooLong, match="10240"):
        emr.step("big", ["spark-submit", "x" * 10_240])
    emr.step("fits", ["a" * 5000, "b" * 5239])  # 10,240 with the separator


def test_add_steps_request_with_execution_role():
    request = emr.add_steps_request("j-1", [{"Name": "s"}], "arn:aws:iam::1:role/r")
    assert request == {
        "JobFlowId": "j-1",
        "Steps": [{"Name": "s"}],
        "ExecutionRoleArn": "arn:aws:iam::1:role/r",
    }


def test_transient_cluster_golden_parts():
    config = EmrConfig(
        log_uri="s3://logs/emr/",
        instance_groups=(InstanceGroupConfig("MASTER", "m6g.xlarge", 1),),
        subnet_id="subnet-1",
    )
    step = emr.job_step(RELEASE, config, "xetra", ["--env", "prod"], delta=True)
    request = emr.run_job_flow_request("etl", RELEASE, config, [step], delta=True)
    assert request["ReleaseLabel"] == "emr-7.11.0"
    assert request["Applications"] == [{"Name": "Spark"}]
    assert request["Instances"]["KeepJobFlowAliveWhenNoSteps"] is False
    assert request["Instances"]["Ec2SubnetId"] == "subnet-1"
    assert request["BootstrapActions"][0]["ScriptBootstrapAction"] == {
        "Path": f"{ROOT}/bootstrap/emr_install_python_deps.sh",
        "Args": [f"{ROOT}/requirements.txt"],
    }
    classifications = {c["Classification"]: c for c in request["Configurations"]}
    assert classifications["spark-env"]["Configurations"][0]["Properties"] == {
        "PYSPARK_PYTHON": "/usr/bin/python3.11"
    }
    assert classifications["delta-defaults"]["Properties"] == {"delta.enabled": "true"}
    assert (
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension"
        in step["HadoopJarStep"]["Args"]
    )
    assert request["LogUri"] == "s3://logs/emr/"


def test_glue_refuses_requirements_it_would_split_on_their_commas():
    """Glue splits --additional-python-modules on commas: "boto3>=1.34,<2" arrives as
    "boto3>=1.34" and "<2", and pip fails (found by the Glue emulation)."""
    with pytest.raises(ValueError, match="splits --additional-python-modules on commas"):
        glue.job_definition(RELEASE, GlueConfig(role="arn:aws:iam::1:role/glue"), "xetra",
                            "prod", ["boto3>=1.34,<2"], delta=False)  # fmt: skip


def test_glue_job_definition_golden():
    definition = glue.job_definition(
        RELEASE, GlueConfig(role="arn:aws:iam::1:role/glue"), "xetra", "prod",
        ["boto3~=1.34", "pyyaml~=6.0"], delta=True,
    )  # fmt: skip
    assert definition == {
        "Name": "datalake-etl-xetra-prod",
        "Role": "arn:aws:iam::1:role/glue",
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": f"{ROOT}/entries/xetra.py",
            "PythonVersion": "3",
        },
        "GlueVersion": "5.1",
        "WorkerType": "G.1X",
        "NumberOfWorkers": 2,
        "Timeout": 120,
        "MaxRetries": 0,
        "DefaultArguments": {
            "--extra-py-files": f"{ROOT}/datalake_etl-1.2.3-abc123.zip",
            "--extra-jars": f"{ROOT}/datalake-etl-jobs-1.2.3-abc123.jar",
            "--additional-python-modules": "boto3~=1.34,pyyaml~=6.0",
            "--job-bookmark-option": "job-bookmark-disable",
            "--enable-continuous-cloudwatch-log": "true",
            "--env": "prod",
            "--datalake-formats": "delta",
            "--conf": glue.DELTA_CONF,
        },
        "Tags": {"project": "datalake-etl", "version": "1.2.3"},
    }
    update = glue.update_request(definition)
    assert update["JobName"] == "datalake-etl-xetra-prod"
    assert set(update["JobUpdate"]) == set(definition) - {"Name", "Tags"}  # the whole job


def test_glue_run_arguments_are_full_names_given_once():
    assert glue.start_run_request("j", ["--env", "prod", "--start", "2024-01-02"]) == {
        "JobName": "j",
        "Arguments": {"--env": "prod", "--start": "2024-01-02"},
    }
    with pytest.raises(ValueError, match="twice"):
        glue.start_run_request("j", ["--set", "a=1", "--set", "b=2"])
    with pytest.raises(ValueError, match="--key value"):
        glue.start_run_request("j", ["positional"])


# ------------------------------------------------------------------ against moto


@pytest.fixture
def emr_client(moto_server):
    return boto3.client("emr", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")


@pytest.fixture
def glue_client(moto_server):
    return boto3.client("glue", endpoint_url=moto_server.endpoint_url, region_name="eu-west-1")


def test_moto_accepts_the_cluster_and_the_step(emr_client):
    config = EmrConfig(log_uri="s3://logs/emr/")
    step = emr.job_step(RELEASE, config, "xetra", ["--env", "dev"], delta=False)
    cluster = emr_client.run_job_flow(
        **emr.run_job_flow_request("etl-test", RELEASE, config, [step], delta=False)
    )
    cluster_id = cluster["JobFlowId"]
    added = emr_client.add_job_flow_steps(
        **emr.add_steps_request(cluster_id, [emr.job_step(RELEASE, config, "xetra", [], False)])
    )
    described = emr_client.describe_step(ClusterId=cluster_id, StepId=added["StepIds"][0])
    assert described["Step"]["Config"]["Args"][:3] == ["spark-submit", "--deploy-mode", "cluster"]
    assert described["Step"]["Config"]["Jar"] == "command-runner.jar"
    assert len(emr_client.list_steps(ClusterId=cluster_id)["Steps"]) == 2
    assert emr_client.describe_cluster(ClusterId=cluster_id)["Cluster"]["ReleaseLabel"] == (
        "emr-7.11.0"
    )


def test_glue_job_create_then_update_and_run(glue_client):
    definition = glue.job_definition(
        RELEASE, GlueConfig(role="arn:aws:iam::123456789012:role/glue"), "xetra", "dev", [], False
    )
    assert create_or_update_glue_job(glue_client, definition) == "created"
    stored = glue_client.get_job(JobName=definition["Name"])["Job"]
    assert stored["Command"]["ScriptLocation"] == f"{ROOT}/entries/xetra.py"
    assert stored["DefaultArguments"]["--extra-py-files"].endswith(".zip")
    run = glue_client.start_job_run(**glue.start_run_request(definition["Name"], ["--env", "dev"]))
    state = glue_client.get_job_run(JobName=definition["Name"], RunId=run["JobRunId"])
    assert state["JobRun"]["JobRunState"] in ("STARTING", "RUNNING", "SUCCEEDED")

    # moto has no update_job: the update path (the whole definition) goes through Stubber
    with Stubber(glue_client) as stub:
        stub.add_response("get_job", {"Job": {"Name": definition["Name"]}})
        stub.add_response("update_job", {"JobName": definition["Name"]},
                          expected_params=glue.update_request(definition))  # fmt: skip
        assert create_or_update_glue_job(glue_client, definition) == "updated"


def test_wait_step_polls_until_done_and_times_out(emr_client):
    slept = []
    with Stubber(emr_client) as stub:
        for state in ("PENDING", "RUNNING", "COMPLETED"):
            stub.add_response(
                "describe_step",
                {"Step": {"Id": "s-1", "Name": "x", "Status": {"State": state}}},
            )
        finished = wait_step(emr_client, "j-1", "s-1", interval=5, sleep=slept.append)
    assert finished.ok and finished.state == "COMPLETED"
    assert slept == [5, 5]
    clock = iter(range(0, 1000, 10))
    with Stubber(emr_client) as stub:
        for _ in range(5):
            stub.add_response(
                "describe_step", {"Step": {"Id": "s", "Name": "x", "Status": {"State": "PENDING"}}}
            )
        with pytest.raises(WaitTimeout, match="still PENDING"):
            wait_step(emr_client, "j-1", "s", timeout=25, interval=5,
                      sleep=lambda s: None, clock=lambda: next(clock))  # fmt: skip


def test_wait_glue_run_reports_failure(glue_client):
    with Stubber(glue_client) as stub:
        stub.add_response("get_job_run", {"JobRun": {"JobRunState": "RUNNING"}})
        stub.add_response(
            "get_job_run", {"JobRun": {"JobRunState": "FAILED", "ErrorMessage": "boom"}}
        )
        finished = wait_glue_run(glue_client, "j", "jr", interval=1, sleep=lambda s: None)
    assert not finished.ok
    assert finished.detail["ErrorMessage"] == "boom"


def test_step_logs_are_fetched_from_the_log_uri(s3, bucket):
    uris = emr.step_log_uris(f"s3://{bucket}/emr-logs/", "j-1", "s-1")
    assert uris["stdout"] == f"s3://{bucket}/emr-logs/j-1/steps/s-1/stdout.gz"
    s3.put_object(Bucket=bucket, Key="emr-logs/j-1/steps/s-1/stdout.gz",
                  Body=gzip.compress(b"job output\\n"))  # fmt: skip
    assert fetch_step_logs(s3, uris) == {"stdout": "job output\\n"}


def test_cli_dry_run_prints_the_request_and_sends_nothing(capsys, emulator, monkeypatch):
    monkeypatch.setenv("ETL_ARTIFACTS_URI", "s3://artifacts/etl")
    code = deploy_main(["emr-step", "--env", "dev", "--job", "xetra", "--cluster-id", "j-XYZ",
                        "--dry-run", "--",
                        "--env", "dev", "--format", "delta"])  # fmt: skip
    assert code == 0
    request = json.loads(capsys.readouterr().out)
    args = request["Steps"][0]["HadoopJarStep"]["Args"]
    assert request["JobFlowId"] == "j-XYZ"
    assert args[-4:] == ["--env", "dev", "--format", "delta"]
    assert "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension" in args
    assert (
        deploy_main(["glue-job", "--env", "dev", "--job", "xetra", "--dry-run"]) == 2
    )  # no Glue role configured
    assert "deploy.glue.role" in capsys.readouterr().err


def test_config_is_read_from_an_explicit_s3_uri(s3, bucket):
    """Jobs read config shipped in the archive, or from --conf-dir; never by scanning --files."""
    from pathlib import Path

    from jobs.xetra.job import XetraSettings
    from lib.cli import job_parser, load_job_config

    for path in (Path(__file__).resolve().parents[3] / "conf").glob("*.yaml"):
        text = path.read_text().replace('first_date: "2022-01-01"', 'first_date: "2023-03-03"')
        s3.put_object(Bucket=bucket, Key=f"conf/v1/{path.name}", Body=text.encode())
    args = job_parser("x", None).parse_args(
        ["--env", "prod", "--conf-dir", f"s3://{bucket}/conf/v1"]
    )
    config = load_job_config(args, "xetra", XetraSettings)
    assert config.sources[0] == f"s3://{bucket}/conf/v1/base.yaml"
    assert config.job.first_date == "2023-03-03"


def test_a_spark_jars_setting_joins_the_jobs_jar_in_the_steps_jars():
    """spark-submit's --jars replaces a --conf spark.jars: one list carries both."""
    args = emr.spark_submit_args(RELEASE, "xetra", [], {"spark.jars": "s3://b/x.jar,s3://b/y.jar"})
    assert args[args.index("--jars") + 1] == (
        f"{ROOT}/datalake-etl-jobs-1.2.3-abc123.jar,s3://b/x.jar,s3://b/y.jar"
    )
    assert not any(arg.startswith("spark.jars=") for arg in args)
