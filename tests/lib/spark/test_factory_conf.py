"""SparkFactory.session_conf as plain data: what each profile gives a session."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lib.config import S3ABucketConfig, load_config
from lib.spark import class_data
from lib.spark.factory import (
    ANONYMOUS_PROVIDER,
    DELTA_EXTENSION,
    FILES_MIN_PARTITIONS,
    LOCAL_DRIVER_JAVA_OPTIONS,
    PATH_OUTPUT_COMMIT_PROTOCOL,
    S3A_FILESYSTEM,
    SparkFactory,
    logged_conf,
)
from lib.spark.jars import repository_root


def test_seed_api_arguments_map_to_spark_settings():
    conf = SparkFactory(master="local[*]", environ={}).session_conf(
        app_name="job",
        executor_memory="3g",
        executor_cores=2,
        default_parallelism=12,
        total_executor_cores=8,
        num_executors=4,
        extra_args={"spark.sql.adaptive.enabled": False, "spark.custom": 5},
    )
    assert conf["spark.master"] == "local[*]"
    assert conf["spark.app.name"] == "job"
    assert conf["spark.executor.memory"] == "3g"
    assert conf["spark.executor.cores"] == "2"
    assert conf["spark.default.parallelism"] == "12"
    assert conf["spark.cores.max"] == "8"
    assert conf["spark.executor.instances"] == "4"
    assert conf["spark.sql.adaptive.enabled"] == "false"
    assert conf["spark.custom"] == "5"
    assert conf["spark.sql.session.timeZone"] == "UTC"


def test_local_profile_speaks_s3a_to_the_emulator_for_both_schemes():
    factory = SparkFactory(master="local[2]", environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert factory.profile == "local"
    conf = factory.session_conf("t")
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:9"
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "false"
    assert conf["spark.hadoop.fs.s3.impl"] == S3A_FILESYSTEM
    assert conf["spark.hadoop.fs.s3a.impl"] == S3A_FILESYSTEM
    assert conf["spark.hadoop.fs.s3a.committer.name"] == "magic"
    assert conf["spark.sql.sources.commitProtocolClass"] == PATH_OUTPUT_COMMIT_PROTOCOL


def test_local_profile_default_endpoint_and_https():
    assert (
        SparkFactory(environ={}).session_conf("t")["spark.hadoop.fs.s3a.endpoint"]
        == "http://127.0.0.1:5000"
    )
    conf = SparkFactory(s3_endpoint="https://s3.local:443", environ={}).session_conf("t")
    assert conf["spark.hadoop.fs.s3a.connection.ssl.enabled"] == "true"


def test_local_jars_go_on_the_classpath(tmp_path):
    factory = SparkFactory(delta=True, shuffle_partitions=3, jars_dir=tmp_path, environ={})
    needed = {jar.artifact for jar in factory.required_jars()}
    assert {"hadoop-aws", "aws-java-sdk-bundle", "spark-hadoop-cloud_2.12"} <= needed
    assert {"delta-spark_2.12", "delta-storage"} <= needed
    conf = factory.session_conf("t", jar_paths=[tmp_path / "a.jar", tmp_path / "b.jar"])
    assert conf["spark.jars"] == f"{tmp_path / 'a.jar'},{tmp_path / 'b.jar'}"
    assert conf["spark.sql.extensions"] == DELTA_EXTENSION
    assert conf["spark.databricks.delta.snapshotPartitions"] == "3"


def test_cloud_profile_leaves_endpoints_credentials_jars_and_committers_to_the_platform():
    factory = SparkFactory(master=None, profile="cloud", delta=True, environ={})
    conf = factory.session_conf("t")
    assert factory.required_jars() == ()
    assert "spark.master" not in conf
    assert not any(key.startswith("spark.hadoop.fs.s3a.endpoint") for key in conf)
    assert not any("access.key" in key or "secret.key" in key for key in conf)
    assert "spark.jars" not in conf
    assert "spark.sql.sources.commitProtocolClass" not in conf
    assert conf["spark.sql.extensions"] == DELTA_EXTENSION
    assert "spark.databricks.delta.snapshotPartitions" not in conf


@pytest.mark.parametrize(
    ("master", "tasks"),
    [("local[2]", "4"), ("local", "2"), ("local[3,2]", "6"), ("local[4 , 2]", "8"),
     ("local[02]", "4"), ("local[16]", "32"), ("local[*]", "6"), ("local[*,3]", "6"),
     ("local[0]", None), ("yarn", None), ("spark://host:7077", None),
     ("local-cluster[2,1,1024]", None), (None, None)],
)  # fmt: skip
def test_a_local_master_reads_files_in_two_tasks_per_core(monkeypatch, master, tasks):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    conf = SparkFactory(master=master, environ={}).session_conf("t")
    assert conf.get(FILES_MIN_PARTITIONS) == tasks
    # a value in the conf stays, and the cloud profile leaves Spark's own
    given = SparkFactory(master=master, environ={}, conf={FILES_MIN_PARTITIONS: 7})
    assert given.session_conf("t")[FILES_MIN_PARTITIONS] == "7"
    cloud = SparkFactory(master=master, profile="cloud", environ={}).session_conf("t")
    assert FILES_MIN_PARTITIONS not in cloud


def test_local_star_counts_the_cpus_where_affinity_is_unknown(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)  # macOS, Windows
    monkeypatch.setattr(os, "cpu_count", lambda: 5)
    conf = SparkFactory(master="local[*]", environ={}).session_conf("t")
    assert conf[FILES_MIN_PARTITIONS] == "10"


@pytest.mark.parametrize(
    "given",
    [{"spark.default.parallelism": 16}, {"spark.sql.leafNodeDefaultParallelism": 16}],
)
def test_a_parallelism_the_caller_sets_keeps_shaping_read_tasks(given):
    factory = SparkFactory(master="local[2]", environ={}, conf=given)
    assert FILES_MIN_PARTITIONS not in factory.session_conf("t")
    factory = SparkFactory(master="local[2]", environ={})
    assert FILES_MIN_PARTITIONS not in factory.session_conf("t", default_parallelism=16)


def test_the_local_driver_jvm_takes_the_parallel_collector_and_the_cloud_one_its_platforms():
    local = SparkFactory(master="local[2]", driver_memory="2g", environ={})
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == "-XX:+UseParallelGC"
    assert local.launch_options() == [
        "--driver-memory", "2g", "--driver-java-options", LOCAL_DRIVER_JAVA_OPTIONS,
    ]  # fmt: skip
    # the user's own JVM options replace the profile's, at launch too
    own = SparkFactory(conf={"spark.driver.extraJavaOptions": "-Xss4m"}, environ={})
    assert own.launch_options() == ["--driver-java-options", "-Xss4m"]
    cloud = SparkFactory(master=None, profile="cloud", environ={})
    assert "spark.driver.extraJavaOptions" not in cloud.session_conf("t")
    assert cloud.launch_options() == []


def test_no_second_collector_when_the_environment_or_the_conf_picks_one(tmp_path):
    environs = (
        {"JAVA_TOOL_OPTIONS": "-XX:+UseG1GC"},
        {"_JAVA_OPTIONS": "-XX:+UseZGC -Xss4m"},
        {"JDK_JAVA_OPTIONS": "-XX:+UseSerialGC"},
        {"SPARK_SUBMIT_OPTS": "-XX:+UseShenandoahGC"},
        {"JAVA_TOOL_OPTIONS": "-XX:+UnlockExperimentalVMOptions -XX:+UseEpsilonGC"},
        {"JAVA_TOOL_OPTIONS": "-XX:+UseParallelGC"},
        {"PYSPARK_SUBMIT_ARGS": "--driver-java-options -XX:+UseG1GC pyspark-shell"},
    )
    for environ in environs:
        conf = SparkFactory(environ=environ).session_conf("t", jar_paths=[tmp_path / "a.jar"])
        assert "spark.driver.extraJavaOptions" not in conf
        # the rest of the local profile stays
        assert conf["spark.hadoop.fs.s3a.impl"] == S3A_FILESYSTEM
        assert conf["spark.jars"] == str(tmp_path / "a.jar")
    admin = SparkFactory(conf={"spark.driver.defaultJavaOptions": "-XX:+UseG1GC"}, environ={})
    assert "spark.driver.extraJavaOptions" not in admin.session_conf("t")
    extra = {"spark.driver.defaultJavaOptions": "-XX:+UseZGC"}  # given at session creation
    conf = SparkFactory(environ={}).session_conf("t", extra_args=extra)
    assert "spark.driver.extraJavaOptions" not in conf
    own = {"spark.driver.extraJavaOptions": "-Xss4m"}  # JVM options given there replace it
    assert (
        SparkFactory(environ={}).session_conf("t", extra_args=own)["spark.driver.extraJavaOptions"]
        == "-Xss4m"
    )
    # flags that tune a collector, or turn one off, pick none
    for options in ("-Xss4m -XX:+UseGCOverheadLimit", "-XX:-UseG1GC",
                    "-XX:+UseAdaptiveSizePolicyWithSystemGC"):  # fmt: skip
        conf = SparkFactory(environ={"JAVA_TOOL_OPTIONS": options}).session_conf("t")
        assert conf["spark.driver.extraJavaOptions"] == LOCAL_DRIVER_JAVA_OPTIONS


def test_the_logged_conf_redacts_secret_keys_and_secrets_inside_values():
    options = (
        '-Ddb.password="correct horse battery" -Dapi.token=a,b,tail -Dpassword=;semi '
        "-Dfoo.secret.key='x y' -Dname=kept -Xss4m"
    )
    logged = logged_conf(
        {
            "spark.driver.extraJavaOptions": options,
            "spark.hadoop.fs.s3a.secret.key": "abcd1234",
            "spark.app.name": "job",
        }
    )
    assert logged == {
        "spark.driver.extraJavaOptions": '-Ddb.password="*****" -Dapi.token=***** '
        "-Dpassword=***** -Dfoo.secret.key='*****' -Dname=kept -Xss4m",
        "spark.hadoop.fs.s3a.secret.key": "*****",
        "spark.app.name": "job",
    }


def test_launch_options_carry_every_launch_only_setting():
    factory = SparkFactory(
        conf={
            "spark.driver.extraClassPath": "/opt/a.jar",
            "spark.driver.extraLibraryPath": "/opt/native",
            "spark.driver.defaultJavaOptions": "-Dx=1",
        },
        environ={},
    )
    assert factory.launch_options() == [
        "--driver-java-options", LOCAL_DRIVER_JAVA_OPTIONS,
        "--driver-class-path", "/opt/a.jar",
        "--driver-library-path", "/opt/native",
        "--conf", "spark.driver.defaultJavaOptions=-Dx=1",
    ]  # fmt: skip


def test_per_bucket_settings_read_a_public_bucket_anonymously():
    factory = SparkFactory(
        profile="cloud",
        master=None,
        s3a_buckets={
            "deutsche-boerse-xetra-pds": S3ABucketConfig(anonymous=True, region="eu-central-1"),
            "target": S3ABucketConfig(conf={"fs.s3a.fast.upload.buffer": "bytebuffer"}),
        },
        environ={},
    )
    conf = factory.session_conf("t")
    prefix = "spark.hadoop.fs.s3a.bucket.deutsche-boerse-xetra-pds."
    assert conf[prefix + "aws.credentials.provider"] == ANONYMOUS_PROVIDER
    assert conf[prefix + "endpoint.region"] == "eu-central-1"
    assert conf["spark.hadoop.fs.s3a.bucket.target.fast.upload.buffer"] == "bytebuffer"


def test_from_config_uses_the_loaded_configuration():
    config = load_config(
        "local",
        overrides=["spark.shuffle_partitions=3", "spark.conf.spark.x=1"],
        environ={"AWS_ENDPOINT_URL": "http://127.0.0.1:7777"},
    )
    factory = SparkFactory.from_config(config, environ={})
    conf = factory.session_conf(config.spark.app_name)
    assert conf["spark.app.name"] == "datalake-etl"
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://127.0.0.1:7777"
    assert conf["spark.sql.shuffle.partitions"] == "3"
    assert conf["spark.x"] == "1"
    assert conf["spark.ui.enabled"] == "false"


def test_missing_jars_fail_at_session_creation_with_the_fix(tmp_path):
    """A fresh interpreter (no session yet) with an empty jar folder: a clear error, no JVM."""
    code = (
        "from lib.spark import SparkFactory, SparkSetupError\n"
        f"factory = SparkFactory(master='local[1]', delta=True, jars_dir={str(tmp_path)!r})\n"
        "try:\n"
        "    factory.create_session(app_name='x')\n"
        "except SparkSetupError as error:\n"
        "    print('SETUP-ERROR', error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert "SETUP-ERROR missing jars" in result.stdout, result.stderr
    assert "io.delta:delta-spark_2.12:3.3.2 (Delta Lake)" in result.stdout
    assert "make setup" in result.stdout


def sealed_archive(folder: Path) -> Path:
    archive = folder / "driver-classes.jsa"
    archive.write_bytes(b"an archive")
    class_data.seal(archive)
    return archive


def archive_options(archive: Path) -> str:
    return f"-XX:SharedArchiveFile={archive} -XX:+VerifySharedSpaces -Xlog:cds*=off"


def test_the_local_driver_jvm_maps_the_sealed_class_data_archive(tmp_path):
    archive = sealed_archive(tmp_path)
    local = SparkFactory(master="local[2]", jars_dir=tmp_path, class_data_archive="auto",
                         environ={})  # fmt: skip
    assert local.class_data_archive == archive
    expected = f"-XX:+UseParallelGC {archive_options(archive)}"
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == expected
    assert local.launch_options()[-2:] == ["--driver-java-options", expected]
    assert class_data.archive_in(local.launch_options()) == str(archive)
    # changed since it was sealed (cut short, written again): a JVM given a truncated archive
    # dies at its start, so it is left out
    with archive.open("ab") as handle:
        handle.write(b"more")
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == "-XX:+UseParallelGC"
    assert class_data.archive_in(local.launch_options()) is None
    class_data.seal(archive)
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == expected
    class_data.seal_path(archive).write_text("{")  # a damaged seal
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == "-XX:+UseParallelGC"
    class_data.seal_path(archive).unlink()
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == "-XX:+UseParallelGC"
    class_data.seal(archive)
    archive.unlink()  # gone
    assert local.session_conf("t")["spark.driver.extraJavaOptions"] == "-XX:+UseParallelGC"


def test_the_class_data_archive_is_left_out_where_something_else_decides(tmp_path):
    archive = sealed_archive(tmp_path)
    options = "spark.driver.extraJavaOptions"

    def conf(**given):
        given = {"environ": {}, "class_data_archive": archive, **given}
        return SparkFactory(master="local[2]", **given).session_conf("t")

    assert archive_options(archive) in conf()[options]
    assert "SharedArchiveFile" not in conf(class_data_archive=None).get(options, "")
    assert conf(conf={options: "-Xss4m"})[options] == "-Xss4m"  # the user's own options
    decided = ("-Xshare:off", f"-XX:SharedArchiveFile={tmp_path}/other.jsa",
               f"-XX:ArchiveClassesAtExit={tmp_path}/new.jsa")  # fmt: skip
    for variable in ("JAVA_TOOL_OPTIONS", "SPARK_SUBMIT_OPTS", "_JAVA_OPTIONS"):
        for option in decided:
            assert conf(environ={variable: option})[options] == "-XX:+UseParallelGC"
    assert conf(conf={"spark.driver.defaultJavaOptions": "-Xshare:off"})[options] == (
        "-XX:+UseParallelGC"
    )
    # a collector picked elsewhere keeps the profile's out, not the archive
    picked = conf(environ={"JAVA_TOOL_OPTIONS": "-XX:+UseSerialGC"})[options]
    assert picked == archive_options(archive)
    cloud = SparkFactory(master=None, profile="cloud", class_data_archive=archive, environ={})
    assert options not in cloud.session_conf("t")
    # not one word of Spark's option string, or not ASCII (a JVM under the C locale does not
    # map it)
    for name in ("a folder", 'a"quote', "caf\u00e9"):
        folder = tmp_path / name
        folder.mkdir()
        assert "SharedArchiveFile" not in conf(class_data_archive=sealed_archive(folder))[options]


def test_the_local_config_asks_for_the_archive_of_make_setup(tmp_path):
    config = load_config("local", environ={"ETL_JARS_DIR": str(tmp_path)})
    assert config.spark.class_data_archive == "auto"
    factory = SparkFactory.from_config(config, environ={"ETL_JARS_DIR": str(tmp_path)})
    assert factory.class_data_archive == tmp_path / "driver-classes.jsa"
    elsewhere = load_config("local", environ={"ETL_CLASS_DATA_ARCHIVE": "/opt/jvm/a.jsa"})
    assert SparkFactory.from_config(elsewhere).class_data_archive == Path("/opt/jvm/a.jsa")
    off = load_config("local", overrides=["spark.class_data_archive="], environ={})
    assert SparkFactory.from_config(off).class_data_archive is None
    cloud = load_config("dev", environ={})
    assert SparkFactory.from_config(cloud).class_data_archive is None


def test_the_jobs_jar_goes_on_a_local_class_path_when_it_is_built(tmp_path, caplog):
    from lib.spark.jars import JOBS_JAR
    from tooling.local.jobs_jar import build

    factory = SparkFactory(jars_dir=tmp_path, environ={}).for_run(["/data"], "parquet")
    assert factory.required_jar_paths() == []  # nothing to add for local Parquet, no jar yet
    build(repository_root(), tmp_path / JOBS_JAR)  # this checkout's sources
    assert factory.required_jar_paths() == [tmp_path / JOBS_JAR]
    cloud = SparkFactory(profile="cloud", jars_dir=tmp_path, environ={})
    assert cloud.required_jar_paths() == []  # the platform gets it from the deploy (--jars)
    (tmp_path / JOBS_JAR).write_bytes(b"PK")  # not built from this checkout's sources
    with caplog.at_level("WARNING", logger="lib.spark.factory"):
        assert factory.required_jar_paths() == []  # left off: the jobs run without it
    assert "built from other sources" in caplog.text and "make jobs-jar" in caplog.text
