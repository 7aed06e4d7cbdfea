"""The bench's stage table, read from the event log a real spark-submit run wrote."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tooling.bench.stages import event_log_conf, jobs_between, stage_table

APP = textwrap.dedent("""
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.getOrCreate()
    spark.sparkContext.setJobDescription("count the numbers")
    spark.range(1000, numPartitions=3).count()
    spark.sparkContext.setJobDescription(None)
    spark.range(100, numPartitions=2).groupBy("id").count().collect()
    spark.stop()
""")


def test_jobs_and_stages_of_a_run_come_from_sparks_event_log(tmp_path):
    app = tmp_path / "app.py"
    app.write_text(APP)
    events = tmp_path / "events"
    conf = [arg for key, value in event_log_conf(events).items()
            for arg in ("--conf", f"{key}={value}")]  # fmt: skip
    spark_submit = Path(sys.executable).parent / "spark-submit"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_HOME")}
    env["PYSPARK_PYTHON"] = sys.executable
    started = int(time.time() * 1000)
    result = subprocess.run(
        [str(spark_submit), "--master", "local[2]", "--conf", "spark.ui.enabled=false", *conf,
         str(app)], capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    jobs = jobs_between(events, started, int(time.time() * 1000))
    assert jobs[0].what == "count the numbers"
    assert sum(stage["tasks"] for stage in jobs[0].stages) >= 3
    assert any("app.py" in job.what for job in jobs[1:])  # the Python call site otherwise
    assert all(job.seconds >= 0 and job.stages for job in jobs)
    assert jobs_between(events, 0, started - 1) == []  # the window selects the run
    table = stage_table(jobs, run_seconds=60.0)
    assert "count the numbers" in table and "outside Spark jobs" in table
