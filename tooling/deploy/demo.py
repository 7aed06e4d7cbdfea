"""`make deploy-demo`: what the deploy tool sends is what EMR and Glue run, end to end, locally.

1. A moto server; Xetra hour files put in ``s3://lake/pds`` (two real days from ../shared when
   present, synthetic otherwise).
2. ``upload`` the release (archive, entry scripts, bootstrap script, requirements) to
   ``s3://artifacts-demo``.
3. ``emr-cluster`` sends run_job_flow with the Xetra step; the EMR emulation
   (tooling.local.emr) reads the cluster back from the EMR API and runs it: bootstrap action,
   Configurations, the step on a real standalone Spark cluster, over s3:// (S3A on moto).
4. ``glue-job`` sends create_job; the run request ``glue-run`` would send (its --dry-run) goes
   to the Glue emulation (tooling.local.glue), which runs the script as Glue 5.1 does; this run
   writes the report as Delta.
5. ``python -m jobs.xetra --env local`` writes the same report locally; the three reports are
   read back with independent readers (pyarrow for Parquet, delta-rs for Delta) and compared.

The last line: ``deploy-demo: emr_step=<state> glue_run=<state> report_rows=<n>``; the exit
code is 0 only when both runs succeeded and the three reports are equal.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

from tooling.local.emulator import S3Emulator, patched_environ
from tooling.local.platform_conf import stop_on_sigterm

ROOT = Path(__file__).resolve().parents[2]
SHARED_XETRA = ROOT.parent / "shared" / "data" / "xetra"
REAL_DAYS = (date(2017, 7, 3), date(2017, 7, 4))
SYNTHETIC_DAYS = (date(2024, 1, 4), date(2024, 1, 5))
REPORT = "xetra_daily_report"
LOG_GROUP = "/datalake-etl/dev"  # conf/dev.yaml's


def source_files(synthetic: bool) -> tuple[tuple[date, date], Iterator[tuple[str, bytes]]]:
    """(first, last) day and the (key, bytes) of each hour file, real when at hand."""
    if not synthetic and SHARED_XETRA.is_dir():
        days = REAL_DAYS
        files = (
            (f"{day}/{path.name}", path.read_bytes())
            for day in days
            for path in sorted((SHARED_XETRA / day.isoformat()).glob("*.csv"))
        )
        return days, files
    from tooling.generators.xetra import date_range, day_files

    days = SYNTHETIC_DAYS
    files = (
        (key, text.encode())
        for day in date_range(*days)
        for key, text in day_files(day, count=6, trades_per_hour=6)
    )
    return days, files


def captured(deploy: Any, argv: list[str]) -> dict[str, Any]:
    """A deploy command's --dry-run output: the exact request it would send."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        split = argv.index("--") if "--" in argv else len(argv)
        code = deploy([*argv[:split], "--dry-run", *argv[split:]])
    if code != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({code})")
    return json.loads(out.getvalue())


def report_rows(s3: Any, bucket: str, prefix: str, workdir: Path, fmt: str) -> list[tuple]:
    """The report as an independent reader sees it: pyarrow (Parquet) or delta-rs (Delta)."""
    if fmt == "delta":
        import os

        from deltalake import DeltaTable

        options = {
            "AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"],
            "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
            "AWS_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1"),
            "AWS_ALLOW_HTTP": "true",
        }
        table = DeltaTable(f"s3://{bucket}/{prefix}", storage_options=options).to_pyarrow_table()
    else:
        import pyarrow.parquet as pq

        local = workdir / prefix
        listing = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for page in listing:
            for item in page.get("Contents", []):
                if item["Key"].endswith(".parquet"):
                    target = workdir / item["Key"]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    s3.download_file(bucket, item["Key"], str(target))
        table = pq.read_table(local)
    rows = [tuple(sorted((k, str(v)) for k, v in row.items())) for row in table.to_pylist()]
    return sorted(rows)


def run_summary(s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    """The one run summary under `prefix` (the job's state store), or {} when there is none."""
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get(
        "Contents", [])]  # fmt: skip
    if len(keys) != 1:
        return {}
    return json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tooling.deploy.demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--synthetic", action="store_true", help="never the real files")
    parser.add_argument("--workdir", help="default: a new temporary folder")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="deploy-demo-"))
    try:
        return _with_emulator(workdir, args.synthetic)
    finally:
        if not args.workdir:  # a folder given is kept for reading the logs
            shutil.rmtree(workdir, ignore_errors=True)


def _with_emulator(workdir: Path, synthetic: bool) -> int:
    with S3Emulator() as emulator:
        environment = {
            **emulator.environment(),
            "ETL_ARTIFACTS_URI": "s3://artifacts-demo/releases",
            "ETL_EMR_LOG_URI": "s3://artifacts-demo/emr-logs/",
            "ETL_GLUE_ROLE": "arn:aws:iam::123456789012:role/datalake-etl-glue",
        }
        with patched_environ(environment):
            return _demo(workdir, synthetic)


def _demo(workdir: Path, synthetic: bool) -> int:
    import boto3

    from tooling.deploy.__main__ import main as deploy
    from tooling.deploy.submit import fetch_step_logs
    from tooling.local.emr import EmrEmulation
    from tooling.local.glue import GlueEmulation

    s3 = boto3.client("s3")
    for bucket in ("artifacts-demo", "lake"):
        s3.create_bucket(Bucket=bucket,
                         CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})  # fmt: skip
    (first, last), files = source_files(synthetic)
    count = 0
    for key, body in files:
        s3.put_object(Bucket="lake", Key=f"pds/{key}", Body=body)
        count += 1
    print(f"{count} hour files in s3://lake/pds ({first}..{last})")
    run = ["--source", "s3://lake/pds", "--start", first.isoformat(), "--end", last.isoformat(),
           "--set", "spark.shuffle_partitions=4"]  # fmt: skip

    def tool(*argv: str) -> None:
        print(f"\n$ python -m tooling.deploy {' '.join(argv)}", flush=True)
        if deploy(list(argv)) != 0:
            raise RuntimeError(f"{' '.join(argv)} failed")

    tool("upload", "--env", "dev")
    tool("emr-cluster", "--env", "dev", "--job", "xetra", "--", *run, "--target", "s3://lake/emr")
    emr = boto3.client("emr")
    cluster_id = emr.list_clusters()["Clusters"][0]["Id"]
    print(f"\nEMR emulation: cluster {cluster_id} (bootstrap, Configurations, steps)", flush=True)
    cluster = EmrEmulation(emr, s3, workdir / "emr").run_cluster(cluster_id)
    step = cluster.steps[-1]
    print(f"  step {step.step_id} {step.name}: {step.state} in {step.seconds} s")
    logs = fetch_step_logs(s3, step.log_uris)
    sizes = {name: len(text) for name, text in logs.items()}
    print(f"  step logs: stdout {sizes.get('stdout', 0)} chars, stderr "
          f"{sizes.get('stderr', 0)} chars under {step.log_uris.get('stdout', '-')}")  # fmt: skip
    if step.state != "COMPLETED":
        print(logs.get("stderr", "")[-3000:])
    streams = boto3.client("logs").describe_log_streams(logGroupName=LOG_GROUP)["logStreams"]
    workers = [item["logStreamName"] for item in streams
               if not item["logStreamName"].endswith("/driver")]  # fmt: skip
    print(f"  CloudWatch {LOG_GROUP}: {len(streams)} streams, {len(workers)} from executors")

    tool("glue-job", "--env", "dev", "--job", "xetra")
    glue_args = [*run, "--target", "s3://lake/glue", "--format", "delta"]
    request = captured(deploy, ["glue-run", "--env", "dev", "--job", "xetra", "--", *glue_args])
    print(f"\nGlue emulation: start_job_run {json.dumps(request)}", flush=True)
    glue_run = GlueEmulation(boto3.client("glue"), s3, workdir / "glue").start_job_run(
        request["JobName"], request["Arguments"]
    )
    print(f"  run {glue_run.Id}: {glue_run.JobRunState} in {glue_run.ExecutionTime} s "
          f"{glue_run.ErrorMessage}")  # fmt: skip

    print("\n$ python -m jobs.xetra --env local ... (the reference)", flush=True)
    local = subprocess.run(
        [sys.executable, "-m", "jobs.xetra", "--env", "local", *run, "--target",
         "s3://lake/local", "--set", "logging.log_path="],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if local.returncode != 0:
        print(local.stderr[-3000:])
        return 1
    reference = report_rows(s3, "lake", f"local/{REPORT}", workdir / "read", "parquet")
    equal = step.state == "COMPLETED" and glue_run.JobRunState == "SUCCEEDED"
    if equal:
        emr_rows = report_rows(s3, "lake", f"emr/{REPORT}", workdir / "read", "parquet")
        glue_rows = report_rows(s3, "lake", f"glue/{REPORT}", workdir / "read", "delta")
        equal = emr_rows == reference == glue_rows and bool(reference)
        print(f"\nreports: EMR {len(emr_rows)} rows, Glue (Delta) {len(glue_rows)} rows, local "
              f"{len(reference)} rows: {'equal' if equal else 'DIFFERENT'}")  # fmt: skip
        parsers = {where: run_summary(s3, "lake", f"{where}/_state/xetra/runs/").get("line_parser")
                   for where in ("emr", "glue", "local")}  # fmt: skip
        print("line parser (the jobs' jar loaded, or Spark's CSV reader): "
              + ", ".join(f"{where} {parser}" for where, parser in parsers.items()))  # fmt: skip
    compared = step.state == "COMPLETED" and glue_run.JobRunState == "SUCCEEDED"
    verdict = " reports=DIFFERENT" if compared and not equal else ""
    print(f"deploy-demo: emr_step={step.state} glue_run={glue_run.JobRunState} "
          f"report_rows={len(reference)}{verdict}")  # fmt: skip
    return 0 if equal else 1


if __name__ == "__main__":
    sys.exit(main())
