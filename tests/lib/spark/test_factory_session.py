"""The session SparkFactory builds: what a job can rely on once it has one."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.spark import SparkFactory
from lib.spark.factory import JVM_OPTION_VARIABLES, collector_in_environment

pytestmark = pytest.mark.spark


def test_session_is_utc_with_few_partitions_and_no_ui(spark):
    conf = spark.sparkContext.getConf()
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert conf.get("spark.ui.enabled") == "false"
    assert spark.sparkContext.master == "local[2]"
    assert spark.sql("select cast('2024-03-31 01:30:00' as timestamp) t").first().t.hour == 1


def test_the_local_session_jvm_runs_the_parallel_collector(spark):
    if collector_in_environment(os.environ):
        pytest.skip("this environment picks the JVM's collector itself")
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


def test_jvm_options_are_redacted_in_the_logged_conf(spark, caplog):
    caplog.set_level(logging.INFO, logger="lib.spark.factory")
    options = "-Djavax.net.ssl.trustStorePassword=hunter2 -XX:+UseParallelGC"
    SparkFactory(master="local[2]", conf={"spark.driver.extraJavaOptions": options}).create_session(
        app_name="tests", log_level="ERROR"
    )
    assert "spark.driver.extraJavaOptions" in caplog.text
    assert "hunter2" not in caplog.text


PROBE = """
import sys
from lib.spark import SparkFactory
factory = SparkFactory(master="local[1]", driver_memory="1500m", ui_enabled=False)
if sys.argv[1:] != ["s3a"]:  # a file:// run: no S3A, no jars
    factory = factory.for_run(["file:///tmp/x"], "parquet")
spark = factory.create_session("probe", log_level="ERROR")
jvm = spark.sparkContext._jvm.java.lang.management.ManagementFactory
print("COLLECTORS", sorted(bean.getName() for bean in jvm.getGarbageCollectorMXBeans()))
print("MAX_HEAP_MB", jvm.getMemoryMXBean().getHeapMemoryUsage().getMax() >> 20)
print("S3A", spark.sparkContext.getConf().get("spark.hadoop.fs.s3a.impl", "none"))
spark.stop()
"""
ROOT = Path(__file__).resolve().parents[3]


def run_probe(tmp_path, launcher, argument, extra_env=None):
    """PROBE's output, run by `launcher` (python, or spark-submit and its options) with
    `argument` ("s3a": the local profile as it is; "file": narrowed to a file:// run)."""
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_HOME", *JVM_OPTION_VARIABLES)}
    env |= {"PYSPARK_PYTHON": sys.executable, "PYTHONPATH": str(ROOT), **(extra_env or {})}
    result = subprocess.run([*launcher, str(script), argument], capture_output=True, text=True,
                            env=env, timeout=300, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_spark_submit_with_the_launch_options_starts_the_jvm_the_profile_asks_for(tmp_path):
    """Under spark-submit the JVM is up before the job builds its session: the launch options
    put the profile's driver memory and collector on the command line of a real spark-submit
    (without them it runs with spark-submit's defaults, whatever the session's conf says)."""
    options = SparkFactory(master="local[1]", driver_memory="1500m", environ={}).launch_options()
    submit = [str(Path(sys.executable).parent / "spark-submit"), "--master", "local[1]"]
    launched = run_probe(tmp_path, [*submit, *options], "file")
    assert "COLLECTORS ['PS MarkSweep', 'PS Scavenge']" in launched
    assert 1200 < int(launched.split("MAX_HEAP_MB ")[1].split()[0]) <= 1500  # -Xmx1500m

    bare = run_probe(tmp_path, submit, "file")
    assert "COLLECTORS ['G1 Old Generation', 'G1 Young Generation']" in bare


def test_a_collector_chosen_in_the_environment_keeps_the_jvm_startable(tmp_path):
    """Two collectors stop a JVM at its start: the local profile adds its own only when
    nothing else picks one (here JAVA_TOOL_OPTIONS, which every `java` reads); the rest of
    the profile (S3A, its jars and committers) stays."""
    environ = {"JAVA_TOOL_OPTIONS": "-XX:+UseSerialGC"}
    probed = run_probe(tmp_path, [sys.executable], "s3a", environ)
    assert "COLLECTORS ['Copy', 'MarkSweepCompact']" in probed
    assert "S3A org.apache.hadoop.fs.s3a.S3AFileSystem" in probed
