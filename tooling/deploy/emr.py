"""EMR requests as plain data: spark-submit steps (command-runner.jar) and transient clusters.

Pure functions: each returns the exact keyword arguments of one boto3 call, so tests compare
them with golden values and a moto server accepts them; tooling.deploy.__main__ sends them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lib.spark.delta import DELTA_SPARK_CONF
from tooling.deploy.artifacts import Release
from tooling.deploy.settings import EmrConfig

MAX_STEP_ARGS_CHARS = 10_240  # EMR rejects a step whose arguments are longer


class StepTooLong(ValueError):
    pass


def spark_submit_args(
    release: Release,
    job: str,
    job_args: Sequence[str],
    spark_conf: Mapping[str, Any] | None = None,
    deploy_mode: str = "cluster",
    delta: bool = False,
) -> list[str]:
    """`spark-submit --deploy-mode … --py-files <zip> --jars <jobs jar> --conf k=v … <entry>
    <job args>` as a list."""
    conf = {**(DELTA_SPARK_CONF if delta else {}), **dict(spark_conf or {})}
    # spark-submit's --jars replaces a spark.jars given with --conf: both go into --jars
    configured = [jar.strip() for jar in str(conf.pop("spark.jars", "")).split(",")]
    jars = [release.jobs_jar_uri, *filter(None, configured)]
    args = ["spark-submit", "--deploy-mode", deploy_mode, "--py-files", release.archive_uri,
            "--jars", ",".join(jars)]  # fmt: skip
    for key in sorted(conf):
        value = conf[key]
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        args += ["--conf", f"{key}={text}"]
    return [*args, release.entry_uri(job), *job_args]


def step(name: str, args: list[str], action_on_failure: str = "CONTINUE") -> dict[str, Any]:
    length = sum(len(arg) for arg in args) + len(args) - 1
    if length > MAX_STEP_ARGS_CHARS:
        raise StepTooLong(
            f"step {name!r} has {length} characters of arguments; EMR accepts at most "
            f"{MAX_STEP_ARGS_CHARS} (move settings into config shipped with the archive)"
        )
    return {
        "Name": name,
        "ActionOnFailure": action_on_failure,
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": list(args)},
    }


def add_steps_request(
    cluster_id: str, steps: list[dict[str, Any]], execution_role_arn: str | None = None
) -> dict[str, Any]:
    request: dict[str, Any] = {"JobFlowId": cluster_id, "Steps": steps}
    if execution_role_arn:
        request["ExecutionRoleArn"] = execution_role_arn
    return request


def job_step(
    release: Release, emr: EmrConfig, job: str, job_args: Sequence[str], delta: bool
) -> dict[str, Any]:
    args = spark_submit_args(
        release, job, job_args, emr.spark_conf, deploy_mode=emr.deploy_mode, delta=delta
    )
    return step(f"{job} {release.version}", args, emr.action_on_failure)


def cluster_configurations(delta: bool, spark_conf: Mapping[str, Any]) -> list[dict[str, Any]]:
    configurations: list[dict[str, Any]] = [
        {
            "Classification": "spark-env",
            "Configurations": [
                {
                    "Classification": "export",
                    "Properties": {"PYSPARK_PYTHON": "/usr/bin/python3.11"},
                }
            ],
            "Properties": {},
        },
        {
            "Classification": "spark-defaults",
            "Properties": {
                "spark.sql.session.timeZone": "UTC",
                **{key: str(value) for key, value in spark_conf.items()},
            },
        },
    ]
    if delta:
        configurations.append(
            {"Classification": "delta-defaults", "Properties": {"delta.enabled": "true"}}
        )
    return configurations


def delta_enabled(configurations: list[dict[str, Any]]) -> bool:
    """Whether a cluster's Configurations put Delta on its classpath (delta-defaults)."""
    return any(
        item.get("Classification") == "delta-defaults"
        and (item.get("Properties") or {}).get("delta.enabled") == "true"
        for item in configurations
    )


def run_job_flow_request(
    name: str,
    release: Release,
    emr: EmrConfig,
    steps: list[dict[str, Any]],
    delta: bool,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A transient cluster: Spark, the bootstrap action, the steps, then it terminates."""
    instances: dict[str, Any] = {
        "InstanceGroups": [
            {
                "Name": group.role.lower(),
                "InstanceRole": group.role,
                "Market": group.market,
                "InstanceType": group.instance_type,
                "InstanceCount": group.count,
            }
            for group in emr.instance_groups
        ],
        "KeepJobFlowAliveWhenNoSteps": False,
        "TerminationProtected": False,
    }
    if emr.subnet_id:
        instances["Ec2SubnetId"] = emr.subnet_id
    request: dict[str, Any] = {
        "Name": name,
        "ReleaseLabel": emr.release_label,
        "Applications": [{"Name": "Spark"}],
        "Configurations": cluster_configurations(delta, emr.spark_conf),
        "Instances": instances,
        "BootstrapActions": [
            {
                "Name": "install python dependencies",
                "ScriptBootstrapAction": {
                    "Path": release.bootstrap_uri,
                    "Args": [release.requirements_uri],
                },
            }
        ],
        "Steps": steps,
        "ServiceRole": emr.service_role,
        "JobFlowRole": emr.job_flow_role,
        "VisibleToAllUsers": True,
        "Tags": [{"Key": k, "Value": v} for k, v in sorted((tags or {}).items())],
    }
    if emr.log_uri:
        request["LogUri"] = emr.log_uri
    return request


def step_log_uris(log_uri: str | None, cluster_id: str, step_id: str) -> dict[str, str]:
    """Where EMR puts a step's stdout/stderr (gzipped) under the cluster's LogUri."""
    if not log_uri:
        return {}
    base = f"{log_uri.rstrip('/')}/{cluster_id}/steps/{step_id}"
    return {"stdout": f"{base}/stdout.gz", "stderr": f"{base}/stderr.gz"}
