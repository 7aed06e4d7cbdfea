"""Sending the plain-data requests, and waiting for what they started (injectable sleep/clock)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

STEP_DONE = {"COMPLETED", "CANCELLED", "FAILED", "INTERRUPTED"}
GLUE_DONE = {"SUCCEEDED", "FAILED", "STOPPED", "TIMEOUT", "ERROR", "EXPIRED"}
SERVERLESS_DONE = {"SUCCESS", "FAILED", "CANCELLED"}


class WaitTimeout(TimeoutError):
    pass


@dataclass(frozen=True)
class Finished:
    state: str
    detail: dict[str, Any]

    @property
    def ok(self) -> bool:
        return self.state in ("COMPLETED", "SUCCEEDED", "SUCCESS")


def _poll(
    read: Callable[[], tuple[str, dict[str, Any]]],
    done: set[str],
    timeout: float = 6 * 3600,
    interval: float = 30,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_state: Callable[[str], None] | None = None,
) -> Finished:
    """Read the state every `interval` seconds until it is one of `done`, or time out."""
    started = clock()
    last = None
    while True:
        state, detail = read()
        if state != last and on_state is not None:
            on_state(state)
        last = state
        if state in done:
            return Finished(state, detail)
        if clock() - started + interval > timeout:
            raise WaitTimeout(f"still {state} after {timeout:.0f} s")
        sleep(interval)


def wait_step(emr: Any, cluster_id: str, step_id: str, **polling: Any) -> Finished:
    """An EMR step until COMPLETED/CANCELLED/FAILED/INTERRUPTED (polling: see _poll)."""

    def read() -> tuple[str, dict[str, Any]]:
        step = emr.describe_step(ClusterId=cluster_id, StepId=step_id)["Step"]
        return step["Status"]["State"], step

    return _poll(read, STEP_DONE, **polling)


def wait_glue_run(glue: Any, job_name: str, run_id: str, **polling: Any) -> Finished:
    """A Glue job run until SUCCEEDED/FAILED/STOPPED/TIMEOUT/ERROR/EXPIRED."""

    def read() -> tuple[str, dict[str, Any]]:
        run = glue.get_job_run(JobName=job_name, RunId=run_id)["JobRun"]
        return run["JobRunState"], run

    return _poll(read, GLUE_DONE, **polling)


def wait_serverless_run(client: Any, application_id: str, run_id: str, **polling: Any) -> Finished:
    """An EMR Serverless job run until SUCCESS/FAILED/CANCELLED."""

    def read() -> tuple[str, dict[str, Any]]:
        run = client.get_job_run(applicationId=application_id, jobRunId=run_id)["jobRun"]
        return run["state"], run

    return _poll(read, SERVERLESS_DONE, **polling)


def create_or_update_glue_job(glue: Any, definition: dict[str, Any]) -> str:
    """create_job, or update_job with the whole definition when the job exists."""
    from tooling.deploy.glue import update_request

    try:
        glue.get_job(JobName=definition["Name"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "EntityNotFoundException":
            raise
        glue.create_job(**definition)
        return "created"
    glue.update_job(**update_request(definition))
    return "updated"


def fetch_step_logs(s3: Any, log_uris: dict[str, str]) -> dict[str, str]:
    """The step's stdout/stderr from the cluster's LogUri, when EMR has written them."""
    import gzip

    from lib.aws.s3 import parse_s3_uri

    found = {}
    for name, uri in log_uris.items():
        bucket, key = parse_s3_uri(uri)
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError:
            continue
        found[name] = gzip.decompress(body).decode("utf-8", errors="replace")
    return found
