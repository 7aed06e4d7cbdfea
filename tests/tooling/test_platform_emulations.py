"""`make deploy-demo`: the deploy tool's exact requests run on the EMR and Glue emulations.

One run covers: the release uploaded to moto; run_job_flow read back from the EMR API and run
(bootstrap script into a throwaway virtualenv, Configurations, the step's spark-submit on a
real standalone cluster with two workers, s3:// over S3A, step logs under LogUri, executors
logging to CloudWatch streams of their own); create_job + the start_job_run request run as
Glue runs them (the real awsglue, --additional-python-modules, --extra-py-files, Delta by
--datalake-formats, --conf); three reports (EMR Parquet, Glue Delta read by delta-rs, a local
run) equal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_deploy_demo_runs_the_exact_requests_on_both_emulations(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ETL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "tooling.deploy.demo", "--synthetic", "--workdir", str(tmp_path)],
        capture_output=True, text=True, timeout=1200, check=False, env=env, cwd=ROOT,
    )  # fmt: skip
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-3000:]
    last = out.strip().splitlines()[-1]
    assert re.fullmatch(r"deploy-demo: emr_step=COMPLETED glue_run=SUCCEEDED report_rows=\d+", last)
    assert int(last.rsplit("=", 1)[1]) > 0
    assert re.search(r"reports: EMR (\d+) rows, Glue \(Delta\) \1 rows, local \1 rows: equal", out)
    # the jobs' jar went out with the release (--jars, --extra-jars) and was loaded on both
    assert re.search(r"line parser \(.*\): emr jvm, glue jvm, local jvm\n", out), out[-3000:]
    executor_streams = re.search(r"CloudWatch /datalake-etl/dev: \d+ streams, (\d+) from", out)
    assert executor_streams and int(executor_streams.group(1)) >= 1
    assert re.search(r"step logs: stdout [1-9]\d* chars", out)
    # the bootstrap action really installed the requirements into the node's virtualenv
    (bootstrap_log,) = tmp_path.glob("emr/*/bootstrap/0.log")
    assert "installed:" in bootstrap_log.read_text()
    assert "boto3==" in bootstrap_log.read_text()
