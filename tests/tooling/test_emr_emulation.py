"""The EMR emulation on requests EMR would run its own way (moto stores them, the emulation runs
them): step order within one request, ActionOnFailure, any command-runner command, a failing
bootstrap action. The Glue emulation's error message; both refuse a non-local endpoint."""

from __future__ import annotations

import gzip

import boto3
import pytest

from tooling.local.emr import EmrEmulation
from tooling.local.glue import _error_message
from tooling.local.platform_conf import NotLocal, require_local_endpoint


def cluster(emr, bootstrap=()):
    return emr.run_job_flow(
        Name="emulated", ReleaseLabel="emr-7.11.0", Applications=[{"Name": "Spark"}],
        Instances={"InstanceGroups": [{"Name": "m", "InstanceRole": "MASTER",
                                       "InstanceType": "m5.xlarge", "InstanceCount": 1}],
                   "KeepJobFlowAliveWhenNoSteps": True},
        BootstrapActions=list(bootstrap), LogUri="s3://emr-logs/", JobFlowRole="r",
        ServiceRole="s",
    )["JobFlowId"]  # fmt: skip


def command_step(name, command, on_failure="CONTINUE"):
    runner = {"Jar": "command-runner.jar", "Args": ["bash", "-c", command]}
    return {"Name": name, "ActionOnFailure": on_failure, "HadoopJarStep": runner}


def test_steps_of_one_request_run_in_order_and_a_failure_can_cancel_the_rest(
    moto_server, s3, tmp_path
):
    s3.create_bucket(Bucket="emr-logs",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # fmt: skip
    emr = boto3.client("emr")
    cluster_id = cluster(emr)
    emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=[
        command_step("first", "echo first; exit 3", "TERMINATE_CLUSTER"),
        command_step("second", "echo second"),
    ])  # fmt: skip
    result = EmrEmulation(emr, s3, tmp_path).run_cluster(cluster_id)
    assert [(step.name, step.state) for step in result.steps] == [
        ("first", "FAILED"), ("second", "CANCELLED"),
    ]  # fmt: skip
    first = result.steps[0]
    key = first.log_uris["stdout"].removeprefix("s3://emr-logs/")
    body = s3.get_object(Bucket="emr-logs", Key=key)["Body"].read()
    assert gzip.decompress(body).decode().strip() == "first"
    assert first.returncode == 3 and not result.ok


def test_a_failing_bootstrap_action_ends_the_cluster_with_errors(moto_server, s3, tmp_path):
    s3.create_bucket(Bucket="emr-logs",
                     CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # fmt: skip
    s3.put_object(Bucket="emr-logs", Key="boot.sh", Body=b"echo installing; exit 7\n")
    emr = boto3.client("emr")
    action = {"Name": "deps", "ScriptBootstrapAction": {"Path": "s3://emr-logs/boot.sh"}}
    cluster_id = cluster(emr, [action])
    emr.add_job_flow_steps(JobFlowId=cluster_id, Steps=[command_step("never", "echo no")])
    result = EmrEmulation(emr, s3, tmp_path).run_cluster(cluster_id)
    assert result.state == "TERMINATED_WITH_ERRORS"
    assert result.bootstrap[0]["returncode"] == 7 and "installing" in result.bootstrap[0]["output"]
    assert [step.state for step in result.steps] == ["CANCELLED"]


def test_the_emulations_refuse_an_endpoint_that_is_not_local():
    for url in ("", "https://elasticmapreduce.eu-west-1.amazonaws.com"):
        with pytest.raises(NotLocal, match="never against AWS"):
            require_local_endpoint({"AWS_ENDPOINT_URL": url})
    require_local_endpoint({"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"})
    local = {"AWS_ENDPOINT_URL": "http://localhost:5000"}
    for extra in ({"AWS_ENDPOINT_URL_S3": "https://s3.eu-west-1.amazonaws.com"},
                  {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}):  # fmt: skip
        with pytest.raises(NotLocal):
            require_local_endpoint({**local, **extra})
    real = boto3.client("s3", region_name="eu-west-1", endpoint_url="https://s3.amazonaws.com")
    with pytest.raises(NotLocal, match="client"):
        require_local_endpoint(local, [real])


def test_the_glue_error_message_is_the_scripts_not_sparks():
    output = "\n".join([
        "Traceback (most recent call last):",
        '  File "/tmp/x.py", line 3, in <module>',
        "ValueError: boom: the real reason",
        "26/12/02 14:09:08 INFO ShutdownHookManager: Deleting directory /tmp/spark-1",
    ])  # fmt: skip
    assert _error_message(output, 1) == "ValueError: boom: the real reason"
    assert _error_message("error: no source\n26/12/02 14:09:08 INFO x", 1) == "error: no source"
