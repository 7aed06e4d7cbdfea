"""EMR Serverless job runs and schedules (Glue triggers, EventBridge Scheduler) as plain data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lib.spark.delta import DELTA_SPARK_CONF
from tooling.deploy.artifacts import Release

DELTA_JARS = "/usr/share/aws/delta/lib/delta-spark.jar,/usr/share/aws/delta/lib/delta-storage.jar"


def spark_submit_parameters(release: Release, delta: bool) -> str:
    parts = [f"--py-files {release.archive_uri}"]
    parts.append(f"--jars {DELTA_JARS},{release.jobs_jar_uri}" if delta
                 else f"--jars {release.jobs_jar_uri}")  # fmt: skip
    if delta:
        parts += [f"--conf {key}={value}" for key, value in sorted(DELTA_SPARK_CONF.items())]
    parts.append("--conf spark.sql.session.timeZone=UTC")
    return " ".join(parts)


def start_job_run_request(
    release: Release,
    application_id: str,
    execution_role_arn: str,
    job: str,
    job_args: Sequence[str],
    delta: bool,
    log_uri: str | None = None,
    name: str | None = None,
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "applicationId": application_id,
        "executionRoleArn": execution_role_arn,
        "name": name or f"{job}-{release.version}",
        "jobDriver": {
            "sparkSubmit": {
                "entryPoint": release.entry_uri(job),
                "entryPointArguments": list(job_args),
                "sparkSubmitParameters": spark_submit_parameters(release, delta),
            }
        },
    }
    if log_uri:
        request["configurationOverrides"] = {
            "monitoringConfiguration": {"s3MonitoringConfiguration": {"logUri": log_uri}}
        }
    return request


def glue_trigger_request(
    name: str, glue_job: str, cron: str, job_args: dict[str, str] | None = None
) -> dict[str, Any]:
    """A scheduled Glue trigger: `cron` in AWS's six-field form, e.g. "0 1 * * ? *"."""
    _check_cron(cron)
    action: dict[str, Any] = {"JobName": glue_job}
    if job_args:
        action["Arguments"] = dict(job_args)
    return {
        "Name": name,
        "Type": "SCHEDULED",
        "Schedule": f"cron({cron})",
        "Actions": [action],
        "StartOnCreation": True,
    }


def scheduler_request(
    name: str, cron: str, run_request: dict[str, Any], scheduler_role_arn: str
) -> dict[str, Any]:
    """An EventBridge Scheduler schedule that starts the EMR Serverless run (universal target)."""
    _check_cron(cron)
    return {
        "Name": name,
        "ScheduleExpression": f"cron({cron})",
        "ScheduleExpressionTimezone": "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": "arn:aws:scheduler:::aws-sdk:emrserverless:startJobRun",
            "RoleArn": scheduler_role_arn,
            "Input": json.dumps(run_request, sort_keys=True),
        },
    }


def _check_cron(cron: str) -> None:
    fields = cron.split()
    if len(fields) != 6:
        raise ValueError(f"AWS cron has 6 fields (min hour day month weekday year), got {cron!r}")
    if "?" not in (fields[2], fields[4]):
        raise ValueError(f"AWS cron needs ? in day-of-month or day-of-week: {cron!r}")
