"""Seconds per Spark job and stage of one run, from Spark's own event log (issue 15: every
change is judged on this table). The bench session writes its event log; after a run, the
jobs that started within the run's wall-clock window are listed with what started them (the
job description, else the Python call site) and the stages they ran."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EVENT_LOG_CONF = "spark.eventLog.enabled"


def event_log_conf(folder: Path) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    return {EVENT_LOG_CONF: "true", "spark.eventLog.dir": folder.as_uri(),
            "spark.eventLog.compress": "false"}  # fmt: skip


@dataclass
class SparkJob:
    job_id: int
    what: str
    started_ms: int
    ended_ms: int | None = None
    stages: list[dict[str, Any]] = field(default_factory=list)

    @property
    def seconds(self) -> float:
        return ((self.ended_ms or self.started_ms) - self.started_ms) / 1000


def _events(folder: Path) -> list[dict[str, Any]]:
    events = []
    for path in sorted(folder.iterdir()):
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:  # a line still being written
                    continue
    return events


def jobs_between(folder: Path, start_ms: int, end_ms: int) -> list[SparkJob]:
    """The Spark jobs that started in [start_ms, end_ms], with their stages."""
    jobs: dict[int, SparkJob] = {}
    stage_job: dict[int, int] = {}
    stages: dict[int, dict[str, Any]] = {}
    for event in _events(folder):
        kind = event.get("Event")
        if kind == "SparkListenerJobStart":
            started = event["Submission Time"]
            if not start_ms <= started <= end_ms:
                continue
            props = event.get("Properties") or {}
            what = props.get("spark.job.description") or props.get("callSite.short") or "?"
            jobs[event["Job ID"]] = SparkJob(event["Job ID"], what, started)
            for stage_id in event.get("Stage IDs", []):
                stage_job[stage_id] = event["Job ID"]
        elif kind == "SparkListenerJobEnd" and event["Job ID"] in jobs:
            jobs[event["Job ID"]].ended_ms = event["Completion Time"]
        elif kind == "SparkListenerStageCompleted":
            info = event["Stage Info"]
            if info["Stage ID"] in stage_job and "Completion Time" in info:
                stages[info["Stage ID"]] = {
                    "stage": info["Stage ID"],
                    "name": info.get("Stage Name", ""),
                    "tasks": info.get("Number of Tasks", 0),
                    "seconds": (info["Completion Time"] - info["Submission Time"]) / 1000,
                }
    for stage_id, stage in sorted(stages.items()):
        jobs[stage_job[stage_id]].stages.append(stage)
    return sorted(jobs.values(), key=lambda job: job.job_id)


def stage_table(jobs: list[SparkJob], run_seconds: float) -> str:
    """Seconds per Spark job (and its stages) of one run, and what is outside Spark jobs."""
    rows = [f"{'job':>5}{'seconds':>9}  what (stages: id tasks seconds)"]
    in_jobs = 0.0
    for job in jobs:
        in_jobs += job.seconds
        detail = ", ".join(f"{s['stage']}:{s['tasks']}t {s['seconds']:.2f}s" for s in job.stages)
        rows.append(f"{job.job_id:>5}{job.seconds:>9.2f}  {job.what[:70]}  [{detail}]")
    rows.append(f"{'':>5}{in_jobs:>9.2f}  in {len(jobs)} Spark jobs (they may overlap)")
    outside = max(run_seconds - in_jobs, 0.0)
    rows.append(f"{'':>5}{outside:>9.2f}  outside Spark jobs (driver: listing, planning, "
                f"state, Python) of a {run_seconds:.2f} s run")  # fmt: skip
    return "\n".join(rows)
