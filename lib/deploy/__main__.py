"""python -m lib.deploy <command> --env ENV [--dry-run] ...

    package                                   dist/: archive (version + git sha), entries, reqs
    upload                                    put them under <artifacts>/<project>/<version>/
    emr-step --cluster-id j-… --job xetra [--wait] -- <job args>
    emr-cluster --job xetra [--name N] -- <job args>     a transient cluster that runs the step
    emr-serverless --application-id … --job xetra [--wait] -- <job args>
    schedule --job xetra --cron "0 1 * * ? *" [--target glue|emr-serverless] -- <job args>
    glue-job --job xetra                      create or update the Glue 5.1 job
    glue-run --job xetra [--wait] -- <job args>

--dry-run prints the exact request(s) as JSON and sends nothing. Artifacts, roles, release
label, instance groups and Glue settings come from the `deploy` section of the config.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lib import PROJECT_NAME, __version__
from lib.aws import AWS
from lib.aws.s3 import parse_s3_uri
from lib.cli import job_parser, usage_error
from lib.config import AppConfig, ConfigError, load_config
from lib.deploy import emr as emr_requests
from lib.deploy import glue as glue_requests
from lib.deploy import serverless
from lib.deploy.artifacts import Release
from lib.deploy.package import archive_name, build_release, git_revision
from lib.deploy.submit import (
    create_or_update_glue_job,
    fetch_step_logs,
    wait_glue_run,
    wait_serverless_run,
    wait_step,
)

COMMANDS = (
    "package",
    "upload",
    "emr-step",
    "emr-cluster",
    "emr-serverless",
    "glue-job",
    "glue-run",
    "schedule",
)


def build_parser():
    parser = job_parser("python -m lib.deploy", __doc__)
    parser.add_argument("command", choices=COMMANDS)
    parser.add_argument("--job", default="xetra")
    parser.add_argument("--cluster-id")
    parser.add_argument("--name")
    parser.add_argument("--application-id", help="EMR Serverless application")
    parser.add_argument("--cron", default="0 1 * * ? *", help="AWS cron, UTC (daily 01:00)")
    parser.add_argument("--target", choices=("glue", "emr-serverless"), default="glue")
    parser.add_argument("--scheduler-role-arn", help="role EventBridge Scheduler assumes")
    parser.add_argument("--dist", type=Path, default=Path("dist"))
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("--delta", action="store_true", help="the job writes Delta tables")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--wait", action="store_true")
    parser.add_argument("--poll-seconds", type=float, default=30)
    parser.add_argument("--timeout-seconds", type=float, default=6 * 3600)
    return parser


def release_for(config: AppConfig, root: Path) -> Release:
    if not config.deploy.artifacts_uri:
        raise ValueError("deploy.artifacts_uri is not configured (s3://bucket/prefix)")
    return Release(
        config.deploy.artifacts_uri,
        PROJECT_NAME,
        __version__,
        archive_name(__version__, git_revision(root)),
    )


def _writes_delta(job_args: list[str]) -> bool:
    if "--format" in job_args:
        position = job_args.index("--format")
        return job_args[position + 1 : position + 2] == ["delta"]
    return "--format=delta" in job_args


def show(request: Any) -> None:
    print(json.dumps(request, indent=2, default=str))


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    job_args: list[str] = []
    if "--" in argv:  # everything after -- belongs to the job
        job_args = argv[argv.index("--") + 1 :]
        argv = argv[: argv.index("--")]
    args = build_parser().parse_args(argv)
    try:
        config = load_config(args.env, overrides=args.overrides, conf_dir=args.conf_dir)
    except ConfigError as error:
        return usage_error(error)
    if args.command == "package":
        files = build_release(args.root, args.dist)
        for path, key in files.uploads():
            print(f"{path} -> {key}")
        return 0
    try:
        release = release_for(config, args.root)
    except ValueError as error:
        return usage_error(error)
    aws = AWS.from_config(config.aws)
    delta = args.delta or _writes_delta(job_args)

    if args.command == "upload":
        files = build_release(args.root, args.dist)
        bucket, prefix = parse_s3_uri(release.root)
        for path, key in files.uploads():
            target = f"{prefix}/{key}"
            if args.dry_run:
                print(f"would upload {path} -> s3://{bucket}/{target}")
            else:
                aws.s3.upload_file(path, bucket, target)
                print(f"uploaded s3://{bucket}/{target}")
        return 0

    if args.command == "emr-step":
        if not args.cluster_id:
            return usage_error("--cluster-id is required")
        step = emr_requests.job_step(release, config.deploy.emr, args.job, job_args, delta)
        request = emr_requests.add_steps_request(
            args.cluster_id, [step], config.deploy.emr.execution_role_arn
        )
        if args.dry_run:
            show(request)
            return 0
        emr = aws.client("emr")
        step_id = emr.add_job_flow_steps(**request)["StepIds"][0]
        print(f"step {step_id} added to {args.cluster_id}")
        if not args.wait:
            return 0
        finished = wait_step(
            emr, args.cluster_id, step_id, timeout=args.timeout_seconds,
            interval=args.poll_seconds, on_state=lambda state: print(f"step {step_id}: {state}"),
        )  # fmt: skip
        cluster = emr.describe_cluster(ClusterId=args.cluster_id)["Cluster"]
        logs = emr_requests.step_log_uris(cluster.get("LogUri"), args.cluster_id, step_id)
        print(json.dumps({"state": finished.state, "logs": logs}, indent=2))
        for name, text in fetch_step_logs(aws.client("s3"), logs).items():
            print(f"----- {name} -----\n{text[-5000:]}")
        return 0 if finished.ok else 1

    if args.command == "emr-cluster":
        step = emr_requests.job_step(release, config.deploy.emr, args.job, job_args, delta)
        request = emr_requests.run_job_flow_request(
            args.name or f"{PROJECT_NAME}-{args.job}-{args.env}",
            release,
            config.deploy.emr,
            [step],
            delta,
            tags={"project": PROJECT_NAME, "env": args.env, "version": __version__},
        )
        if args.dry_run:
            show(request)
            return 0
        cluster_id = aws.client("emr").run_job_flow(**request)["JobFlowId"]
        print(f"cluster {cluster_id} started")
        return 0

    if args.command == "emr-serverless" or (
        args.command == "schedule" and args.target == "emr-serverless"
    ):
        return _serverless(args, config, release, aws, job_args, delta)

    requirements = (args.root / "lib/deploy/runtime-requirements.txt").read_text().split()
    try:
        definition = glue_requests.job_definition(
            release, config.deploy.glue, args.job, args.env, requirements, delta
        )
    except ValueError as error:
        return usage_error(error)
    if args.command == "glue-job":
        if args.dry_run:
            show({"create_job": definition, "update_job": glue_requests.update_request(definition)})
            return 0
        outcome = create_or_update_glue_job(aws.client("glue"), definition)
        print(f"glue job {definition['Name']} {outcome}")
        return 0

    if args.command == "schedule":
        try:
            arguments = glue_requests.start_run_request(definition["Name"], job_args)["Arguments"]
            request = serverless.glue_trigger_request(
                f"{definition['Name']}-schedule", definition["Name"], args.cron, arguments
            )
        except ValueError as error:
            return usage_error(error)
        if args.dry_run:
            show(request)
            return 0
        aws.client("glue").create_trigger(**request)
        print(f"trigger {request['Name']}: {request['Schedule']}")
        return 0

    # glue-run
    try:
        request = glue_requests.start_run_request(definition["Name"], job_args)
    except ValueError as error:
        return usage_error(error)
    if args.dry_run:
        show(request)
        return 0
    glue = aws.client("glue")
    run_id = glue.start_job_run(**request)["JobRunId"]
    print(f"glue run {run_id} of {definition['Name']} started")
    if not args.wait:
        return 0
    finished = wait_glue_run(
        glue, definition["Name"], run_id, timeout=args.timeout_seconds,
        interval=args.poll_seconds, on_state=lambda state: print(f"run {run_id}: {state}"),
    )  # fmt: skip
    print(json.dumps({"state": finished.state, "error": finished.detail.get("ErrorMessage")}))
    return 0 if finished.ok else 1


def _serverless(args, config, release, aws, job_args, delta) -> int:
    emr = config.deploy.emr
    application_id = args.application_id or emr.serverless_application_id
    if not application_id or not emr.serverless_execution_role_arn:
        return usage_error(
            "EMR Serverless needs --application-id (or deploy.emr.serverless_application_id) "
            "and deploy.emr.serverless_execution_role_arn"
        )
    request = serverless.start_job_run_request(
        release, application_id, emr.serverless_execution_role_arn, args.job, job_args, delta,
        log_uri=emr.log_uri,
    )  # fmt: skip
    if args.command == "schedule":
        if not args.scheduler_role_arn:
            return usage_error("--scheduler-role-arn is required for an EMR Serverless schedule")
        try:
            schedule = serverless.scheduler_request(
                f"{PROJECT_NAME}-{args.job}-{args.env}", args.cron, request,
                args.scheduler_role_arn,
            )  # fmt: skip
        except ValueError as error:
            return usage_error(error)
        if args.dry_run:
            show(schedule)
            return 0
        aws.client("scheduler").create_schedule(**schedule)
        print(f"schedule {schedule['Name']}: {schedule['ScheduleExpression']} UTC")
        return 0
    if args.dry_run:
        show(request)
        return 0
    client = aws.client("emr-serverless")
    run_id = client.start_job_run(**request)["jobRunId"]
    print(f"EMR Serverless run {run_id} started on {application_id}")
    if not args.wait:
        return 0
    finished = wait_serverless_run(
        client, application_id, run_id, timeout=args.timeout_seconds,
        interval=args.poll_seconds, on_state=lambda state: print(f"run {run_id}: {state}"),
    )  # fmt: skip
    print(json.dumps({"state": finished.state, "details": finished.detail.get("stateDetails")}))
    return 0 if finished.ok else 1


if __name__ == "__main__":
    sys.exit(main())
