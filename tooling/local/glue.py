"""A local AWS Glue 5.1: runs a job definition and a start_job_run request as Glue does.

    python -m tooling.local.glue --job-name datalake-etl-xetra-dev -- --start 2024-01-02 ...

Reads the job back from the Glue API (get_job: what the deploy tool's create_job stored) and
runs the script at ``Command.ScriptLocation``:

* arguments: ``DefaultArguments`` merged with the run's ``Arguments`` (the run wins), plus
  Glue's own (``--JOB_ID``, ``--JOB_RUN_ID``, ``--JOB_NAME``, ``--job-bookmark-option``,
  ``--TempDir``); all of them reach the script's ``sys.argv`` as ``--key value`` pairs, as on
  Glue (the script picks its own with awsglue's ``getResolvedOptions``);
* the job's Python environment: a throwaway virtualenv with the real ``awsglue`` package
  (awsglue-dev, the Python part of aws-glue-libs) and ``--additional-python-modules``
  installed with pip; ``--extra-py-files`` fetched from S3 and put on the path (``--py-files``);
  ``--extra-jars`` fetched from S3 and put on the driver's and executors' class path (``--jars``);
* Spark: ``--datalake-formats delta`` puts the Delta jars on the classpath (only then);
  ``--conf`` is applied as Glue applies it: its value holds ``k=v`` pairs joined by
  `` --conf ``; S3A on the moto server stands in for Glue's S3 access (``s3://`` included).

The run's state and error are reported as ``get_job_run`` would (``JobRunState`` SUCCEEDED or
FAILED, ``ErrorMessage``). What it cannot reproduce: Glue's worker types and counts (Spark runs
``local[2]``), IAM, networking, job bookmarks, Glue's own CloudWatch log groups.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tooling.local.platform_conf import (
    PlatformEmulation,
    emulation_arguments,
    platform_spark_conf,
    throwaway_python,
)
from tooling.local.spark_cluster import spark_home

AWSGLUE = "awsglue-dev==2021.12.30"  # the dev extra's pin: Glue's Python library


@dataclass
class GlueRun:
    """The fields of get_job_run's JobRun that the emulation fills."""

    Id: str
    JobName: str
    JobRunState: str
    Arguments: dict[str, str]
    ErrorMessage: str = ""
    ExecutionTime: int = 0  # seconds


def glue_conf_pairs(value: str) -> list[str]:
    """Glue takes one --conf argument: further pairs ride inside its value as ' --conf k=v'."""
    return [pair.strip() for pair in value.split(" --conf ") if pair.strip()]


def run_arguments(
    job: Mapping[str, Any], arguments: Mapping[str, str], run_id: str
) -> dict[str, str]:
    """What Glue passes to the script: defaults, the run's arguments, Glue's own."""
    merged = {**(job.get("DefaultArguments") or {}), **dict(arguments)}
    merged.setdefault("--job-bookmark-option", "job-bookmark-disable")
    merged.setdefault("--TempDir", f"s3://aws-glue-assets-local/temporary/{job['Name']}/")
    merged.update({"--JOB_ID": f"j_{uuid.uuid5(uuid.NAMESPACE_URL, job['Name']).hex}",
                   "--JOB_RUN_ID": run_id, "--JOB_NAME": job["Name"]})  # fmt: skip
    return merged


class GlueEmulation(PlatformEmulation):
    def __init__(
        self,
        glue: Any,
        s3: Any,
        workdir: str | os.PathLike[str],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(s3, workdir, environ, (glue,))
        self.glue = glue

    def _fetch(self, uri: str, folder: Path) -> Path:
        """`uri` into `folder` under its own name (Glue keeps script and module names)."""
        return self.fetch(uri, folder / uri.rsplit("/", 1)[-1])

    def _python(self, job_dir: Path, modules: str) -> Path:
        python = throwaway_python(job_dir / "python")
        wanted = [AWSGLUE, *(m.strip() for m in modules.split(",") if m.strip())]
        subprocess.run([str(python), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", *wanted],
                       check=True, env=self.environ)  # fmt: skip
        return python

    def start_job_run(self, job_name: str, arguments: Mapping[str, str] | None = None) -> GlueRun:
        """Run the job to its end; the answer get_job_run would give afterwards."""
        job = self.glue.get_job(JobName=job_name)["Job"]
        run_id = f"jr_{uuid.uuid4().hex}"
        merged = run_arguments(job, arguments or {}, run_id)
        run = GlueRun(run_id, job_name, "FAILED", merged)
        job_dir = self.workdir / run_id
        started = time.monotonic()
        try:
            script = self._fetch(job["Command"]["ScriptLocation"], job_dir / "script")
            extra = [uri.strip() for uri in merged.get("--extra-py-files", "").split(",")]
            py_files = [self._fetch(uri, job_dir / "py-files") for uri in extra if uri]
            extra_jars = [uri.strip() for uri in merged.get("--extra-jars", "").split(",")]
            jars = [self._fetch(uri, job_dir / "jars") for uri in extra_jars if uri]
            python = self._python(job_dir, merged.get("--additional-python-modules", ""))
            delta = "delta" in merged.get("--datalake-formats", "").split(",")
            command = [str(spark_home() / "bin" / "spark-submit"), "--master", "local[2]"]
            for key, value in sorted(platform_spark_conf(None, delta, self.environ).items()):
                command += ["--conf", f"{key}={value}"]
            for pair in glue_conf_pairs(merged.get("--conf", "")):
                command += ["--conf", pair]
            if py_files:
                command += ["--py-files", ",".join(str(path) for path in py_files)]
            if jars:
                command += ["--jars", ",".join(str(path) for path in jars)]
            command.append(str(script))
            for key, value in merged.items():
                command += [key, value]
            environ = {**self.environ, "PYSPARK_PYTHON": str(python),
                       "SPARK_HOME": str(spark_home())}  # fmt: skip
            done = subprocess.run(command, env=environ, capture_output=True, text=True,
                                  check=False)  # fmt: skip
            (job_dir / "output.log").write_text(done.stdout + "\n--- stderr ---\n" + done.stderr)
            if done.returncode == 0:
                run.JobRunState = "SUCCEEDED"
            else:
                run.ErrorMessage = _error_message(done.stdout + done.stderr, done.returncode)
        except Exception as error:  # a fetch or an install: Glue reports those as FAILED too
            run.ErrorMessage = f"{type(error).__name__}: {error}"
        run.ExecutionTime = round(time.monotonic() - started)
        return run


_SPARK_LOG_LINE = re.compile(r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d ")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt)\b.*")


def _error_message(output: str, returncode: int) -> str:
    """What Glue shows as ErrorMessage: the job's own ``error: …`` line, else the script's
    exception (``ValueError: boom``), else its last line that is not Spark's logging."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    own = [line for line in lines if not _SPARK_LOG_LINE.match(line)]
    errors = [line for line in own if line.startswith("error:")]
    exceptions = [line for line in own if _EXCEPTION_LINE.match(line)]
    found = errors or exceptions or own or [f"exit code {returncode}"]
    return found[-1][:2048]


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = argv[argv.index("--") + 1 :] if "--" in argv else []
    own = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(
        prog="python -m tooling.local.glue",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--job-name", required=True)
    args, workdir = emulation_arguments(parser, own, "glue-emulation-")
    if len(extra) % 2:
        parser.error("run arguments after -- are --key value pairs")
    import boto3

    emulation = GlueEmulation(boto3.client("glue"), boto3.client("s3"), workdir)
    run = emulation.start_job_run(args.job_name, dict(zip(extra[::2], extra[1::2], strict=True)))
    print(json.dumps(asdict(run), indent=2))
    return 0 if run.JobRunState == "SUCCEEDED" else 1


if __name__ == "__main__":
    sys.exit(main())
