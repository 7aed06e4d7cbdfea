"""Glue 5.x job definitions as plain data (create_job / update_job / start_job_run kwargs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lib.spark.delta import DELTA_SPARK_CONF
from tooling.deploy.artifacts import Release
from tooling.deploy.settings import GlueConfig

# Glue takes one --conf argument: further pairs ride inside its value as " --conf k=v"
DELTA_CONF = " --conf ".join(f"{key}={value}" for key, value in DELTA_SPARK_CONF.items())


def job_name(glue: GlueConfig, job: str, env: str) -> str:
    return f"{glue.job_name_prefix}-{job}-{env}"


def job_definition(
    release: Release,
    glue: GlueConfig,
    job: str,
    env: str,
    requirements: Sequence[str],
    delta: bool,
) -> dict[str, Any]:
    """Everything create_job needs; update_job gets the same (it replaces the whole job)."""
    if not glue.role:
        raise ValueError("deploy.glue.role is not configured (the job's IAM role)")
    with_commas = [requirement for requirement in requirements if "," in requirement]
    if with_commas:
        raise ValueError(
            f"Glue splits --additional-python-modules on commas, so {with_commas} would arrive "
            "in pieces: write each as one specifier (boto3~=1.34 for >=1.34,<2)"
        )
    arguments = {
        "--extra-py-files": release.archive_uri,
        "--extra-jars": release.jobs_jar_uri,
        "--additional-python-modules": ",".join(requirements),
        "--job-bookmark-option": "job-bookmark-disable",
        "--enable-continuous-cloudwatch-log": "true",
        "--env": env,
    }
    if delta:
        arguments["--datalake-formats"] = "delta"
        arguments["--conf"] = DELTA_CONF
    return {
        "Name": job_name(glue, job, env),
        "Role": glue.role,
        "Command": {
            "Name": "glueetl",
            "ScriptLocation": release.entry_uri(job),
            "PythonVersion": "3",
        },
        "GlueVersion": glue.glue_version,
        "WorkerType": glue.worker_type,
        "NumberOfWorkers": glue.number_of_workers,
        "Timeout": glue.timeout_minutes,
        "MaxRetries": glue.max_retries,
        "DefaultArguments": arguments,
        "Tags": {"project": release.project, "version": release.version},
    }


def update_request(definition: Mapping[str, Any]) -> dict[str, Any]:
    """update_job replaces the whole definition: send all of it (tags are not part of it)."""
    update = {k: v for k, v in definition.items() if k not in ("Name", "Tags")}
    return {"JobName": definition["Name"], "JobUpdate": update}


def start_run_request(name: str, job_args: Sequence[str]) -> dict[str, Any]:
    """Job arguments as Glue wants them: {"--key": "value"} (full names, each once)."""
    arguments: dict[str, str] = {}
    items = list(job_args)
    index = 0
    while index < len(items):
        key = items[index]
        if not key.startswith("--") or "=" in key or index + 1 >= len(items):
            raise ValueError(
                f"Glue job arguments are --key value pairs (not --key=value), got {key!r}"
            )
        if key in arguments:
            raise ValueError(f"{key} given twice: Glue takes each argument once")
        arguments[key] = items[index + 1]
        index += 2
    return {"JobName": name, "Arguments": arguments}
