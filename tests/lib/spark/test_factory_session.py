"""The session SparkFactory builds: what a job can rely on once it has one."""

from __future__ import annotations

import logging

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


def test_logged_session_conf_is_redacted(spark, caplog, emulator):
    caplog.set_level(logging.INFO, logger="lib.spark.factory")
    SparkFactory(master="local[2]", s3_endpoint=emulator.endpoint_url).create_session(
        app_name="tests", log_level="ERROR"
    )
    logged = caplog.text
    assert "spark.hadoop.fs.s3a.secret.key" in logged
    assert "'spark.hadoop.fs.s3a.secret.key': '*****'" in logged
    assert "'spark.hadoop.fs.s3a.access.key': '*****'" in logged
