"""The deploy tooling's settings: the `deploy` section of conf/*.yaml, typed here, not in lib.

The run-time AppConfig skips this section (lib.config.schema.TOOLING_SECTIONS), so EMR and Glue
settings never travel to executors; `load_deploy_config` reads the same layered files (and a
job's own section when a job is named) with the deploy section typed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from lib.config import AppConfig, ConfScalar, load_config


@dataclass(frozen=True)
class InstanceGroupConfig:
    role: Literal["MASTER", "CORE", "TASK"]
    instance_type: str = "m5.xlarge"
    count: int = 1
    market: Literal["ON_DEMAND", "SPOT"] = "ON_DEMAND"


@dataclass(frozen=True)
class EmrConfig:
    release_label: str = "emr-7.11.0"
    log_uri: str | None = None
    service_role: str = "EMR_DefaultRole"
    job_flow_role: str = "EMR_EC2_DefaultRole"
    execution_role_arn: str | None = None
    action_on_failure: Literal["CONTINUE", "CANCEL_AND_WAIT", "TERMINATE_CLUSTER"] = "CONTINUE"
    deploy_mode: Literal["cluster", "client"] = "cluster"
    subnet_id: str | None = None
    instance_groups: tuple[InstanceGroupConfig, ...] = (
        InstanceGroupConfig("MASTER", "m5.xlarge", 1),
        InstanceGroupConfig("CORE", "m5.xlarge", 2),
    )
    serverless_application_id: str | None = None
    serverless_execution_role_arn: str | None = None
    spark_conf: Mapping[str, ConfScalar] = field(default_factory=dict)


@dataclass(frozen=True)
class GlueConfig:
    role: str | None = None
    glue_version: str = "5.1"
    worker_type: str = "G.1X"
    number_of_workers: int = 2
    timeout_minutes: int = 120
    max_retries: int = 0
    job_name_prefix: str = "datalake-etl"


@dataclass(frozen=True)
class DeployConfig:
    # s3://bucket/prefix where `upload` puts <project>/<version>/...
    artifacts_uri: str | None = None
    emr: EmrConfig = field(default_factory=EmrConfig)
    glue: GlueConfig = field(default_factory=GlueConfig)


@dataclass(frozen=True)
class DeployAppConfig(AppConfig):
    """The run-time configuration plus the deploy section."""

    deploy: DeployConfig = field(default_factory=DeployConfig)


def load_deploy_config(env: str, **options: Any) -> DeployAppConfig:
    """lib.config.load_config(env, job=…, job_schema=…, overrides=…, conf_dir=…) with the deploy
    section typed."""
    return cast(DeployAppConfig, load_config(env, schema=DeployAppConfig, **options))
