"""The session SparkFactory builds: what a job can rely on once it has one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.spark import SparkFactory

pytestmark = pytest.mark.spark


def test_session_is_utc_with_few_partitions_and_no_ui(spark):
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.sparkContext.master == "local[2]"
    assert spark.sql("select cast('2024-03-31 01:30:00' as timestamp) t").first().t.hour == 1


def test_the_local_session_jvm_runs_the_parallel_collector(spark):
    management = spark.sparkContext._jvm.java.lang.management.ManagementFactory
    collectors = {bean.getName() for bean in management.getGarbageCollectorMXBeans()}
    assert collectors == {"PS Scavenge", "PS MarkSweep"}  # G1 would be "G1 Young Generation"...


def test_delta_and_committer_classes_are_loaded(spark):
    assert "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions")
    jvm = spark.sparkContext._jvm
    loader = jvm.java.lang.Thread.currentThread().getContextClassLoader()
    for name in (
        "org.apache.hadoop.fs.s3a.S3AFileSystem",
        "org.apache.spark.internal.io.cloud.PathOutputCommitProtocol",
        "io.delta.tables.DeltaTable",
    ):
        assert jvm.java.lang.Class.forName(name, False, loader).getName() == name


def test_a_second_factory_joins_the_session_unchanged_and_says_so(spark, caplog):
    caplog.set_level(logging.WARNING, logger="lib.spark.factory")
    again = SparkFactory(master="local[2]", shuffle_partitions=16, ui_enabled=False).create_session(
        app_name="another-name", log_level="ERROR"
    )
    assert again is spark
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"  # not overwritten
    assert "spark.app.name" in caplog.text
    assert "spark.sql.shuffle.partitions" in caplog.text
    assert "already exists" in caplog.text
    # the same JVM options hold (Spark put its own module options before them)
    assert "spark.driver.extraJavaOptions" not in caplog.text
    caplog.clear()
    SparkFactory(
        master="local[2]", ui_enabled=False, conf={"spark.driver.extraJavaOptions": "-Xss4m"}
    ).create_session(app_name="tests", log_level="ERROR")
    assert "keep their old values: spark.driver.extraJavaOptions" in caplog.text


def test_logged_session_conf_is_redacted(spark, caplog, emulator):
    caplog.set_level(logging.INFO, logger="lib.spark.factory")
    SparkFactory(master="local[2]", s3_endpoint=emulator.endpoint_url).create_session(
        app_name="tests", log_level="ERROR"
    )
    logged = caplog.text
    assert "spark.hadoop.fs.s3a.secret.key" in logged
    assert "'spark.hadoop.fs.s3a.secret.key': '*****'" in logged
    assert "'spark.hadoop.fs.s3a.access.key': '*****'" in logged


def test_spark_submit_with_the_launch_options_starts_the_jvm_the_profile_asks_for(tmp_path):
    """Under spark-submit the JVM is up before the job builds its session: the launch options
    put the profile's driver memory and collector on the command line of a real spark-submit."""
    script = tmp_path / "show_jvm.py"
    script.write_text(
        "from pyspark.sql import SparkSession\n"
        "spark = SparkSession.builder.getOrCreate()\n"
        "jvm = spark.sparkContext._jvm.java.lang.management.ManagementFactory\n"
        "print('COLLECTORS', sorted(b.getName() for b in jvm.getGarbageCollectorMXBeans()))\n"
        "print('MAX_HEAP_MB', jvm.getMemoryMXBean().getHeapMemoryUsage().getMax() >> 20)\n"
        "spark.stop()\n"
    )
    options = SparkFactory(master="local[1]", driver_memory="1g", environ={}).launch_options()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "SPARK_HOME")}
    env["PYSPARK_PYTHON"] = sys.executable
    result = subprocess.run(
        [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]",
         "--conf", "spark.ui.enabled=false", *options, str(script)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "COLLECTORS ['PS MarkSweep', 'PS Scavenge']" in result.stdout
    max_heap_mb = int(result.stdout.split("MAX_HEAP_MB ")[1].split()[0])
    assert 800 < max_heap_mb <= 1024  # -Xmx1g (the JVM reports a little less)
