"""python -m tooling.deploy <command> --env ENV [--dry-run] ... [-- <job args>]

    jobs                                      the deployable jobs found under jobs/
    package                                   dist/: archive (version + git sha), entries, reqs
    upload                                    put them under <artifacts>/<project>/<version>/
    emr-step --job J --cluster-id j-… [--wait] -- <job args>
    emr-cluster --job J [--name N] -- <job args>     a transient cluster that runs the step
    emr-serverless --job J --application-id … [--wait] -- <job args>
    glue-job --job J                          create or update the Glue 5.1 job
    glue-run --job J [--wait] -- <job args>
    schedule --job J --cron "0 1 * * ? *" [--target glue|emr-serverless] -- <job args>

--dry-run prints the exact request(s) as JSON and sends nothing. Artifacts, roles, release
label, instance groups and Glue settings come from the `deploy` section of the config (the
tool's own --set takes deploy.* and aws.*). Whether the platform loads Delta comes from the
job's resolved configuration: `spark.delta` for the job's --env, its `jobs.<name>.spark` section
and the --set / --conf-dir in its arguments after `--`, exactly as the job will load it. Jobs are
found by convention (tooling/deploy/jobs.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from lib import PROJECT_NAME, __version__
from lib.aws import AWS
from lib.aws.errors import AwsError
from lib.aws.s3 import parse_s3_uri
from lib.cli import common_options, usage_error
from lib.config import (
    ENVIRONMENTS,
    AppConfig,
    ConfigError,
    load_config,
    parse_override,
    split_overrides,
)
from lib.runner import one_line
from tooling.deploy import emr as emr_requests
from tooling.deploy import glue as glue_requests
from tooling.deploy import serverless
from tooling.deploy.artifacts import RUNTIME_REQUIREMENTS, Release
from tooling.deploy.jobs import UnknownJob, discover, find
from tooling.deploy.package import archive_name, build_release, git_revision
from tooling.deploy.settings import DeployAppConfig, load_deploy_config
from tooling.deploy.submit import (
    WaitTimeout,
    create_or_update_glue_job,
    fetch_step_logs,
    wait_glue_run,
    wait_serverless_run,
    wait_step,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]  # tooling/ sits in the checkout it deploys


class DeployError(ValueError):
    """A request that cannot be built from the configuration and arguments (exit code 2)."""


@dataclass(frozen=True)
class Deploy:
    """What every command works with: its arguments, the config, the release, the job."""

    args: argparse.Namespace
    job_args: list[str]
    config: DeployAppConfig
    job: str | None = None  # the deployable's name (xetra, countries-extract)
    spec: Any = None  # the job's lib.runner.JobSpec
    job_config: AppConfig | None = None  # the configuration the job will run with

    @cached_property
    def job_defaults(self) -> AppConfig | None:
        """The job's configuration without run arguments: what a Glue job definition is built
        from (read only by the Glue commands)."""
        return resolve_job_config(self.spec, self.args, []) if self.spec is not None else None

    @property
    def release(self) -> Release:
        if not self.config.deploy.artifacts_uri:
            raise DeployError("deploy.artifacts_uri is not configured (s3://bucket/prefix)")
        return Release(
            self.config.deploy.artifacts_uri,
            PROJECT_NAME,
            __version__,
            archive_name(__version__, git_revision(self.args.root)),
        )

    @property
    def delta(self) -> bool:
        """Delta on the platform when the job's resolved configuration turns it on."""
        return self.job_config is not None and self.job_config.spark.delta

    @property
    def aws(self) -> AWS:
        return AWS.from_config(self.config.aws)

    def glue_definition(self) -> dict[str, Any]:
        """The Glue job as `glue-job` defines it: DefaultArguments `--env` and no run arguments,
        so its Delta setting is the job's configuration for that env."""
        requirements = (self.args.root / RUNTIME_REQUIREMENTS).read_text().split()
        defined_delta = self.job_defaults is not None and self.job_defaults.spark.delta
        return glue_requests.job_definition(
            self.release, self.config.deploy.glue, self.job, self.args.env, requirements,
            defined_delta,
        )  # fmt: skip

    def glue_run_name(self) -> str:
        """The Glue job a run starts; refused when the run's arguments need another Delta
        setting than the job was defined with (Glue loads Delta by the definition)."""
        definition = self.glue_definition()
        defined = "--datalake-formats" in definition["DefaultArguments"]
        if defined != self.delta:
            raise DeployError(
                f"the run's arguments turn Delta {'on' if self.delta else 'off'} but the Glue job "
                f"{definition['Name']} is defined with it {'on' if defined else 'off'}: change "
                "spark.delta in conf/ (or jobs.<name>.spark) and run glue-job again"
            )
        return definition["Name"]

    @property
    def submit_args(self) -> list[str]:
        """The job's arguments as spark-submit passes them (EMR, EMR Serverless): the job
        requires --env, so the tool's is added when the arguments after `--` have none (a
        different one is refused by resolve_job_config)."""
        if common_options(self.job_args).env is not None:
            return list(self.job_args)
        return ["--env", self.args.env, *self.job_args]

    def emr_step(self) -> dict[str, Any]:
        emr = self.config.deploy.emr
        return emr_requests.job_step(self.release, emr, self.job, self.submit_args, self.delta)

    def wait_options(self, label: str) -> dict[str, Any]:
        return {
            "timeout": self.args.timeout_seconds,
            "interval": self.args.poll_seconds,
            "on_state": lambda state: print(f"{label}: {state}"),
        }


def show(request: Any) -> None:
    print(json.dumps(request, indent=2, default=str))


# ------------------------------------------------------------------ commands


def list_jobs(deploy: Deploy) -> int:
    for name, deployable in discover(deploy.args.root).items():
        spec = deployable.spec()
        print(f"{name:24} {deployable.entry:36} config jobs.{spec.name}")
    return 0


def package(deploy: Deploy) -> int:
    files = build_release(deploy.args.root, deploy.args.dist)
    for path, key in files.uploads():
        print(f"{path} -> {key}")
    return 0


def upload(deploy: Deploy) -> int:
    release = deploy.release
    files = build_release(deploy.args.root, deploy.args.dist)
    bucket, prefix = parse_s3_uri(release.root)
    aws = None if deploy.args.dry_run else deploy.aws
    for path, key in files.uploads():
        target = f"{prefix}/{key}"
        if aws is None:
            print(f"would upload {path} -> s3://{bucket}/{target}")
        else:
            aws.s3.upload_file(bucket_name=bucket, object_name=target, path=path)
            print(f"uploaded s3://{bucket}/{target}")
    return 0


def emr_step(deploy: Deploy) -> int:
    args = deploy.args
    if not args.cluster_id:
        raise DeployError("--cluster-id is required")
    emr_settings = deploy.config.deploy.emr
    step = deploy.emr_step()
    request = emr_requests.add_steps_request(
        args.cluster_id, [step], emr_settings.execution_role_arn
    )
    if args.dry_run:
        show(request)
        return 0
    aws = deploy.aws
    emr = aws.client("emr")
    if deploy.delta:  # the step's Delta settings need the cluster's Delta jars
        configurations = emr.describe_cluster(ClusterId=args.cluster_id)["Cluster"].get(
            "Configurations"
        )
        if not emr_requests.delta_enabled(configurations or []):
            raise DeployError(
                f"the job runs with Delta but cluster {args.cluster_id} has no delta-defaults "
                "delta.enabled=true (its classpath lacks the Delta jars): start the cluster "
                "with emr-cluster for this job, or run the job with --set spark.delta=false"
            )
    step_id = emr.add_job_flow_steps(**request)["StepIds"][0]
    print(f"step {step_id} added to {args.cluster_id}")
    if not args.wait:
        return 0
    finished = wait_step(emr, args.cluster_id, step_id, **deploy.wait_options(f"step {step_id}"))
    cluster = emr.describe_cluster(ClusterId=args.cluster_id)["Cluster"]
    logs = emr_requests.step_log_uris(cluster.get("LogUri"), args.cluster_id, step_id)
    print(json.dumps({"state": finished.state, "logs": logs}, indent=2))
    for name, text in fetch_step_logs(aws.client("s3"), logs).items():
        print(f"----- {name} -----\n{text[-5000:]}")
    return 0 if finished.ok else 1


def emr_cluster(deploy: Deploy) -> int:
    args = deploy.args
    request = emr_requests.run_job_flow_request(
        args.name or f"{PROJECT_NAME}-{deploy.job}-{args.env}",
        deploy.release,
        deploy.config.deploy.emr,
        [deploy.emr_step()],
        deploy.delta,
        tags={"project": PROJECT_NAME, "env": args.env, "version": __version__},
    )
    if args.dry_run:
        show(request)
        return 0
    cluster_id = deploy.aws.client("emr").run_job_flow(**request)["JobFlowId"]
    print(f"cluster {cluster_id} started")
    return 0


def _serverless_run_request(deploy: Deploy) -> dict[str, Any]:
    emr = deploy.config.deploy.emr
    application_id = deploy.args.application_id or emr.serverless_application_id
    if not application_id or not emr.serverless_execution_role_arn:
        raise DeployError(
            "EMR Serverless needs --application-id (or deploy.emr.serverless_application_id) "
            "and deploy.emr.serverless_execution_role_arn"
        )
    return serverless.start_job_run_request(
        deploy.release, application_id, emr.serverless_execution_role_arn, deploy.job,
        deploy.submit_args, deploy.delta, log_uri=emr.log_uri,
    )  # fmt: skip


def emr_serverless(deploy: Deploy) -> int:
    request = _serverless_run_request(deploy)
    if deploy.args.dry_run:
        show(request)
        return 0
    client = deploy.aws.client("emr-serverless")
    application_id = request["applicationId"]
    run_id = client.start_job_run(**request)["jobRunId"]
    print(f"EMR Serverless run {run_id} started on {application_id}")
    if not deploy.args.wait:
        return 0
    finished = wait_serverless_run(
        client, application_id, run_id, **deploy.wait_options(f"run {run_id}")
    )
    print(json.dumps({"state": finished.state, "details": finished.detail.get("stateDetails")}))
    return 0 if finished.ok else 1


def glue_job(deploy: Deploy) -> int:
    definition = deploy.glue_definition()
    if deploy.args.dry_run:
        show({"create_job": definition, "update_job": glue_requests.update_request(definition)})
        return 0
    outcome = create_or_update_glue_job(deploy.aws.client("glue"), definition)
    print(f"glue job {definition['Name']} {outcome}")
    return 0


def glue_run(deploy: Deploy) -> int:
    name = deploy.glue_run_name()
    request = glue_requests.start_run_request(name, deploy.job_args)
    if deploy.args.dry_run:
        show(request)
        return 0
    glue = deploy.aws.client("glue")
    run_id = glue.start_job_run(**request)["JobRunId"]
    print(f"glue run {run_id} of {name} started")
    if not deploy.args.wait:
        return 0
    finished = wait_glue_run(glue, name, run_id, **deploy.wait_options(f"run {run_id}"))
    print(json.dumps({"state": finished.state, "error": finished.detail.get("ErrorMessage")}))
    return 0 if finished.ok else 1


def schedule(deploy: Deploy) -> int:
    args = deploy.args
    if args.target == "emr-serverless":
        if not args.scheduler_role_arn:
            raise DeployError("--scheduler-role-arn is required for an EMR Serverless schedule")
        request = serverless.scheduler_request(
            f"{PROJECT_NAME}-{deploy.job}-{args.env}", args.cron,
            _serverless_run_request(deploy), args.scheduler_role_arn,
        )  # fmt: skip
        if args.dry_run:
            show(request)
            return 0
        deploy.aws.client("scheduler").create_schedule(**request)
        print(f"schedule {request['Name']}: {request['ScheduleExpression']} UTC")
        return 0
    name = deploy.glue_run_name()
    arguments = glue_requests.start_run_request(name, deploy.job_args)["Arguments"]
    request = serverless.glue_trigger_request(f"{name}-schedule", name, args.cron, arguments)
    if args.dry_run:
        show(request)
        return 0
    deploy.aws.client("glue").create_trigger(**request)
    print(f"trigger {request['Name']}: {request['Schedule']}")
    return 0


# ------------------------------------------------------------------ command line


@dataclass(frozen=True)
class Command:
    name: str
    run: Callable[[Deploy], int]
    help: str
    needs_job: bool = True
    options: Callable[[argparse.ArgumentParser], None] | None = None
    takes_job_args: bool = True


def _wait_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action="store_true", help="poll until the run ends")
    parser.add_argument("--poll-seconds", type=float, default=30)
    parser.add_argument("--timeout-seconds", type=float, default=6 * 3600)


def _emr_step_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster-id", help="the running cluster (j-…)")
    _wait_options(parser)


def _emr_cluster_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", help="cluster name (default: <project>-<job>-<env>)")


def _serverless_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--application-id", help="EMR Serverless application")
    _wait_options(parser)


def _schedule_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cron", default="0 1 * * ? *", help="AWS cron, UTC (daily 01:00)")
    parser.add_argument("--target", choices=("glue", "emr-serverless"), default="glue")
    parser.add_argument("--application-id", help="EMR Serverless application")
    parser.add_argument("--scheduler-role-arn", help="role EventBridge Scheduler assumes")


COMMANDS = (
    Command("jobs", list_jobs, "the deployable jobs found under jobs/", False, None, False),
    Command("package", package, "dist/: archive, entries, requirements", False, None, False),
    Command("upload", upload, "upload the release to deploy.artifacts_uri", False, None, False),
    Command("emr-step", emr_step, "add the job as a step to a cluster", True, _emr_step_options),
    Command("emr-cluster", emr_cluster, "a transient cluster running the job", True,
            _emr_cluster_options),
    Command("emr-serverless", emr_serverless, "start an EMR Serverless run", True,
            _serverless_options),
    Command("glue-job", glue_job, "create or update the Glue 5.1 job", True, None, False),
    Command("glue-run", glue_run, "start a Glue run", True, _wait_options),
    Command("schedule", schedule, "a Glue trigger or an EventBridge schedule", True,
            _schedule_options),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    common.add_argument("--env", required=True, choices=ENVIRONMENTS)
    common.add_argument("--conf-dir", help="config folder or URI (default: conf/)")
    common.add_argument(
        "--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
        help="override a config value (deploy.*, spark.*, job.* ...)",
    )  # fmt: skip
    common.add_argument(
        "--root", type=Path, default=PROJECT_ROOT, help="the project root (default: this checkout)"
    )
    common.add_argument("--dist", type=Path, default=Path("dist"))
    common.add_argument("--dry-run", action="store_true", help="print the requests, send nothing")
    parser = argparse.ArgumentParser(
        prog="python -m tooling.deploy",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="<command>")
    parser.set_defaults(subparsers=commands.choices)
    for command in COMMANDS:
        sub = commands.add_parser(
            command.name, parents=[common], help=command.help, allow_abbrev=False
        )
        if command.needs_job:
            sub.add_argument("--job", required=True, help="a deployable job (see `jobs`)")
        if command.options is not None:
            command.options(sub)
        sub.set_defaults(command_spec=command)
    return parser


def split_job_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """(the tool's arguments, the job's): everything after the first `--` belongs to the job."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    return argv[:cut], argv[cut + 1 :]


TOOL_OVERRIDES = ("deploy.", "aws.")


def check_arguments(
    args: argparse.Namespace, command: Command, job_args: list[str], job_parser: Any = None
) -> None:
    """Refuse what would silently go to the wrong place."""
    if job_args and not command.takes_job_args:
        raise DeployError(
            f"{command.name} takes no job arguments after `--` (got {' '.join(job_args)}); "
            "give run arguments to glue-run, emr-step, emr-serverless or schedule"
        )
    tool_options = set(args.subparsers[command.name]._option_string_actions)
    job_options = set(job_parser._option_string_actions) if job_parser is not None else set()
    misplaced = sorted(
        {arg.split("=")[0] for arg in job_args if arg.split("=")[0] in tool_options - job_options}
    )
    if misplaced:
        raise DeployError(
            f"{', '.join(misplaced)} after `--` would go to the job, not to the deploy tool: "
            "put the tool's options before `--`"
        )
    if job_parser is not None and command.takes_job_args:
        _check_job_arguments(job_parser, job_args)
    for text in split_overrides(args.overrides):
        key, _ = parse_override(text)
        if not key.startswith(TOOL_OVERRIDES):
            raise DeployError(
                f"--set {key}: the deploy tool's --set takes deploy.* and aws.*; a job setting "
                "goes to the job in its arguments after `--` (that is also what decides Delta)"
            )


def _check_job_arguments(job_parser: Any, job_args: list[str]) -> None:
    """Every option in the job's arguments is one the job takes: a misspelt one fails here,
    not on the platform (under Glue, getResolvedOptions would even drop it without a word)."""
    known = job_parser._option_string_actions
    unknown = [
        arg for arg in job_args
        if arg.startswith("-") and arg != "--" and arg.split("=")[0] not in known
    ]  # fmt: skip
    if unknown:
        options = sorted(option for option in known if option.startswith("--"))
        raise DeployError(
            f"the job does not take {' '.join(unknown)} (its options: {' '.join(options)})"
        )


def resolve_job_config(spec: Any, args: argparse.Namespace, job_args: list[str]) -> AppConfig:
    """The configuration the job will run with: its --env, its --set and --conf-dir from its
    arguments, its own section; read as the job reads it. Without --conf-dir the job reads the
    config packaged from this checkout's conf/ (never the tool's --conf-dir or $ETL_CONF_DIR)."""
    options = common_options(job_args)
    if options.env is not None and options.env != args.env:
        raise DeployError(
            f"the job's --env {options.env} is not the tool's --env {args.env}: the run would "
            f"load {options.env} settings on a {args.env} deployment"
        )
    return load_config(
        args.env, job=spec.name, job_schema=spec.settings, overrides=options.overrides,
        conf_dir=options.conf_dir or args.root / "conf",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    tool_args, job_args = split_job_args(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(tool_args)
    command: Command = args.command_spec
    try:
        job, spec, job_config = None, None, None
        if command.needs_job:
            deployable = find(args.root, args.job)
            spec = deployable.spec()
            check_arguments(args, command, job_args, spec.parser())
            # resolved before anything is built or sent: a wrong job argument fails here
            job, job_config = deployable.name, resolve_job_config(spec, args, job_args)
        else:
            check_arguments(args, command, job_args)
        config = load_deploy_config(args.env, overrides=args.overrides, conf_dir=args.conf_dir)
        return command.run(Deploy(args, job_args, config, job, spec, job_config))
    except (ConfigError, DeployError, UnknownJob, ValueError) as error:
        return usage_error(" ".join(str(error).split()))
    except (BotoCoreError, ClientError, AwsError, WaitTimeout) as error:
        print(f"error: {one_line(error)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
